-- The time span that sizes the verification windows of a --source copy: from
-- the 0.1% to the 99.9% quantile of the time column, so that a few rows far
-- away (a device without a clock reporting 1970) do not stretch every window:
-- they get windows of their own. $1 schema, $2 table, $3 time column
-- (rendered here, then run on the source).
SELECT pg_catalog.format('SELECT extract(epoch FROM pg_catalog.percentile_disc(0.001) WITHIN GROUP (ORDER BY %3$I))::float8 AS lo, extract(epoch FROM pg_catalog.percentile_disc(0.999) WITHIN GROUP (ORDER BY %3$I))::float8 AS hi FROM %1$I.%2$I',
                         $1::text, $2::text, $3::text) AS statement;
