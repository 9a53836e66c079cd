-- The statements an online migration runs many times, rendered once.
-- $1 table oid, $2 new table, $3 log table, $4 time column, $5 key columns (text[]).
-- Block ranges and limits are bind parameters of the rendered statements.
WITH t AS (
    SELECT c.oid, n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid
), cols AS (
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) AS list,
           string_agg(format('t.%I', a.attname), ', ' ORDER BY a.attnum) AS row_list,
           string_agg(format('%I = EXCLUDED.%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
             FILTER (WHERE a.attname <> ALL ($5::text[])) AS updates
    FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
), k AS (
    SELECT string_agg(format('%I', x), ', ' ORDER BY o) AS list,
           string_agg(format('n.%I = l.%I', x, x), ' AND ' ORDER BY o) AS join_cond,
           string_agg(format('l.%I = t.%I', x, x), ' AND ' ORDER BY o) AS log_cond,
           string_agg(format('t.%I = k.%I', x, x), ' AND ' ORDER BY o) AS key_cond
    FROM unnest($5::text[]) WITH ORDINALITY u(x, o)
)
-- One batch of history: the rows in blocks [$1, $2) of the old table (a TID
-- range scan reads exactly those pages, no index needed).
SELECT 'backfill' AS name,
       format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT %s FROM %I.%I WHERE ctid >= format(''(%%s,0)'', $1::bigint)::tid AND ctid < format(''(%%s,0)'', $2::bigint)::tid',
              t.schema, $2::text, cols.list, t.schema, t.name) AS statement
FROM t, cols
UNION ALL
-- The same, skipping rows that conflict with one already there on any unique
-- key (a row an UPDATE moved ahead of the copy; a row the application
-- replaced, deleting one and inserting another with the same second unique
-- key, whose delete is still in the log): the log replays them.
SELECT 'backfill-skip-existing',
       format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT %s FROM %I.%I WHERE ctid >= format(''(%%s,0)'', $1::bigint)::tid AND ctid < format(''(%%s,0)'', $2::bigint)::tid ON CONFLICT DO NOTHING',
              t.schema, $2::text, cols.list, t.schema, t.name)
FROM t, cols
UNION ALL
-- Replay up to $1 captured changes, oldest first: per key only the last one
-- counts (a delete, or the row as it was last written). Deletes go first and
-- rows are written in the order they were, so a row that took another's
-- second unique key (the other deleted or changed before) finds it free.
SELECT 'replay',
       format($q$WITH batch AS (
  DELETE FROM %1$I.%3$I WHERE homepot_ts_seq IN (SELECT homepot_ts_seq FROM %1$I.%3$I ORDER BY homepot_ts_seq LIMIT $1)
  RETURNING *
), last AS (
  SELECT DISTINCT ON (%4$s) * FROM batch ORDER BY %4$s, homepot_ts_seq DESC
), gone AS (
  DELETE FROM %1$I.%2$I n USING last l WHERE l.homepot_ts_op = 'D' AND %5$s RETURNING 1
), put AS (
  INSERT INTO %1$I.%2$I OVERRIDING SYSTEM VALUE SELECT %6$s FROM last WHERE homepot_ts_op = 'I' ORDER BY homepot_ts_seq
  ON CONFLICT (%4$s) DO %7$s RETURNING 1
)
SELECT (SELECT count(*) FROM batch)::int AS entries,
       (SELECT count(*) FROM gone)::int AS deleted,
       (SELECT count(*) FROM put)::int AS written$q$,
              t.schema, $2::text, $3::text, k.list, k.join_cond, cols.list,
              CASE WHEN cols.updates IS NULL THEN 'NOTHING' ELSE 'UPDATE SET ' || cols.updates END)
FROM t, cols, k
UNION ALL
SELECT 'pending', format('SELECT count(*)::bigint AS n FROM %I.%I', t.schema, $3::text) FROM t
UNION ALL
-- Under the final lock: the keys of every pending change, kept for the keyed check after the replay.
SELECT 'pending-keys',
       format('CREATE TEMP TABLE homepot_ts_pending_keys ON COMMIT DROP AS SELECT DISTINCT %s FROM %I.%I', k.list, t.schema, $3::text)
FROM t, k
UNION ALL
-- ... and after the replay, those keys' rows on both sides: the number that
-- differ (0 expected), the windows they are in, and count and checksum of the
-- old table's rows for those keys. $1 window length in seconds.
SELECT 'check-keys',
       format($q$WITH pairs AS (
  SELECT (SELECT ROW(%6$s)::text FROM %1$I.%2$I t WHERE %4$s) AS o,
         (SELECT ROW(%6$s)::text FROM %1$I.%3$I t WHERE %4$s) AS n,
         (SELECT floor(extract(epoch FROM t.%5$I) / $1::float8)::bigint FROM %1$I.%2$I t WHERE %4$s) AS wo,
         (SELECT floor(extract(epoch FROM t.%5$I) / $1::float8)::bigint FROM %1$I.%3$I t WHERE %4$s) AS wn
  FROM pg_temp.homepot_ts_pending_keys k
)
SELECT count(*)::int AS keys,
       count(*) FILTER (WHERE o IS DISTINCT FROM n)::int AS differ,
       coalesce(array_agg(DISTINCT coalesce(wo, wn)) FILTER (WHERE o IS DISTINCT FROM n), '{}') AS windows,
       count(o)::bigint AS rows,
       coalesce(sum(hashtextextended(o, 0)), 0)::text AS h
FROM pairs$q$, t.schema, t.name, $2::text, k.key_cond, $4::text, cols.row_list)
FROM t, k, cols;
