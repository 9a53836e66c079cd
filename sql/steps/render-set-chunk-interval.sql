-- $1 schema, $2 table, $3 interval.
SELECT format('SELECT set_chunk_time_interval(%L::regclass, %L::interval)',
              format('%I.%I', $1::text, $2::text), $3::text) AS statement;
