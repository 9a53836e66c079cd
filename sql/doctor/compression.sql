-- health_checks' compression: its policy's compress_after, chunks older than that still
-- uncompressed (catalog only), and the compressed chunks' sizes before and after.
-- $1 schema, $2 table. Read by src/doctor/policies.ts (Community edition only).
SELECT
    (SELECT j.config ->> 'compress_after' FROM timescaledb_information.jobs j
      WHERE j.proc_name = 'policy_compression'
        AND j.hypertable_schema = $1 AND j.hypertable_name = $2 LIMIT 1)          AS compress_after,
    (SELECT count(*)::int FROM timescaledb_information.chunks ch
      WHERE ch.hypertable_schema = $1 AND ch.hypertable_name = $2 AND NOT ch.is_compressed
        AND ch.range_end < now() - (SELECT (j.config ->> 'compress_after')::interval
                                      FROM timescaledb_information.jobs j
                                     WHERE j.proc_name = 'policy_compression'
                                       AND j.hypertable_schema = $1 AND j.hypertable_name = $2
                                     LIMIT 1))                                    AS behind_chunks,
    (SELECT sum(s.before_compression_total_bytes)::bigint
       FROM hypertable_compression_stats(format('%I.%I', $1, $2)::regclass) s)       AS before_bytes,
    (SELECT sum(s.after_compression_total_bytes)::bigint
       FROM hypertable_compression_stats(format('%I.%I', $1, $2)::regclass) s)       AS after_bytes;
