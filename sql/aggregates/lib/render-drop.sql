-- $1 schema, $2 name, $3 true: an aggregate table (else a materialized view or
-- continuous aggregate). No CASCADE: a view built on the aggregate makes the
-- drop fail and is named.
SELECT format('DROP %s IF EXISTS %I.%I', CASE WHEN $3::boolean THEN 'TABLE' ELSE 'MATERIALIZED VIEW' END,
              $1::text, $2::text) AS statement;
