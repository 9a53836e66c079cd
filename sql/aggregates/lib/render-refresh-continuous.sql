-- One bounded window of a continuous aggregate's refresh. $1 schema, $2 name, $3 from, $4 to (timestamptz).
SELECT format('CALL refresh_continuous_aggregate(%L::regclass, %L::timestamptz, %L::timestamptz)',
              format('%I.%I', $1::text, $2::text), $3::timestamptz, $4::timestamptz) AS statement;
