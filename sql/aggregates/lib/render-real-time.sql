-- $1 schema, $2 name, $3 materialized_only (boolean).
SELECT format('ALTER MATERIALIZED VIEW %I.%I SET (timescaledb.materialized_only = %s)',
              $1::text, $2::text, CASE WHEN $3::boolean THEN 'true' ELSE 'false' END) AS statement;
