-- A hypertable's oldest chunk that lies wholly before now() - $3 (what drop_chunks would drop):
-- catalog only. $1 schema, $2 table, $3 the retention period. Read by src/doctor/policies.ts.
SELECT min(ch.range_start) AS oldest,
       coalesce(bool_or(ch.range_end <= now() - $3::interval), false) AS older
FROM timescaledb_information.chunks ch
WHERE ch.hypertable_schema = $1 AND ch.hypertable_name = $2;
