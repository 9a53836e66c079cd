-- $1 view schema, $2 view name, $3 start offset (NULL: from the beginning), $4 end offset, $5 schedule.
SELECT format('SELECT add_continuous_aggregate_policy(%L::regclass, start_offset => %s, end_offset => %L::interval, schedule_interval => %L::interval)',
              format('%I.%I', $1::text, $2::text),
              CASE WHEN $3::text IS NULL THEN 'NULL' ELSE quote_literal($3::text) || '::interval' END,
              $4::text, $5::text) AS statement;
