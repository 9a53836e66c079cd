-- Where the raw health checks of a hypertable are complete: the start of its
-- oldest chunk (retention drops whole chunks, so every row from there on is
-- still there), its oldest row, and the server's clock, as milliseconds since
-- the Unix epoch (numbers: no DateStyle or TimeZone shapes them; a
-- `timestamp without time zone` column reads as UTC). chunk_start_ms is NULL
-- when health_checks is not a hypertable. Dropped chunks whose catalog row
-- TimescaleDB keeps for continuous aggregates are not chunks any more.
SELECT (SELECT (extract(epoch FROM min(c.range_start)) * 1000)::float8
          FROM timescaledb_information.chunks c
          JOIN timescaledb_information.hypertables h
            ON h.hypertable_schema = c.hypertable_schema AND h.hypertable_name = c.hypertable_name
         WHERE format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass = to_regclass('health_checks'))
                                                               AS chunk_start_ms,
       (extract(epoch FROM min("timestamp")) * 1000)::float8 AS first_ms,
       (extract(epoch FROM now()) * 1000)::float8            AS now_ms
FROM health_checks;
