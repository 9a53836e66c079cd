-- Is the view $1.$2 a continuous aggregate? (TimescaleDB installed)
SELECT EXISTS (
  SELECT 1 FROM timescaledb_information.continuous_aggregates
  WHERE view_schema = $1 AND view_name = $2
) AS ok;
