-- HOMEPOT's tables as its models define them (sites, devices, health_checks).
-- Idempotent: safe to run on a database that already has them.
-- Used by `homepot-ts demo` and by the tests; a DBA can run it with psql -f.

CREATE TABLE IF NOT EXISTS sites (
    id          serial PRIMARY KEY,
    site_id     varchar(50)  NOT NULL UNIQUE,
    name        varchar(100) NOT NULL,
    description text,
    location    varchar(200),
    is_active   boolean      NOT NULL DEFAULT true,
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS devices (
    id          serial PRIMARY KEY,
    device_id   varchar(100) NOT NULL UNIQUE,
    name        varchar(100) NOT NULL,
    device_type varchar(50)  NOT NULL,
    site_id     integer      NOT NULL REFERENCES sites (id),
    ip_address  varchar(45),
    status      varchar(20)  NOT NULL DEFAULT 'online',
    is_active   boolean      NOT NULL DEFAULT true,
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now()
);

CREATE SEQUENCE IF NOT EXISTS health_checks_id_seq;

-- The primary key includes "timestamp" so the table can become a hypertable
-- (TimescaleDB requires every unique index to contain the time column).
CREATE TABLE IF NOT EXISTS health_checks (
    id               integer      NOT NULL DEFAULT nextval('health_checks_id_seq'),
    device_id        integer      NOT NULL REFERENCES devices (id),
    is_healthy       boolean      NOT NULL,
    response_time_ms integer,
    status_code      integer,
    endpoint         varchar(200),
    response_data    json,
    error_message    text,
    "timestamp"      timestamptz  NOT NULL,
    PRIMARY KEY (id, "timestamp")
);

ALTER SEQUENCE health_checks_id_seq OWNED BY health_checks.id;
