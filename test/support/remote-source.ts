/**
 * Fixtures for migrate-from-postgres --source tests: a plain PostgreSQL
 * HOMEPOT database whose rows stress COPY's text format, and ways to compare a
 * table on two servers.
 */
import { loadSchema } from './homepot.js';
import type { Sql } from './pg.js';
import type { TestDatabase } from './databases.js';
import { runCli, type CliResult } from './cli.js';
import { oneLineError, snapshot } from './assertions.js';
import { expect } from 'vitest';

export interface SourceRows {
  /** Health checks to insert. */
  rows: number;
  /** Spread over this many days, ending an hour ago (default 5). */
  days?: number;
  /** Devices (default 12), over 3 sites. */
  devices?: number;
}

/**
 * HOMEPOT's schema (sql/demo/homepot.sql), idx_health_checks_device_time,
 * 3 sites, `devices` devices and `rows` health checks whose columns take NULLs,
 * empty strings, JSON of every shape (raw newlines and tabs kept by the json
 * type, escapes, unicode) and text with tabs, newlines, backslashes, "\." and
 * unicode: everything COPY's text format has to escape.
 */
export async function loadSource(sql: Sql, opts: SourceRows): Promise<void> {
  const days = opts.days ?? 5;
  const devices = opts.devices ?? 12;
  await loadSchema(sql);
  await sql.unsafe(String.raw`
    CREATE INDEX IF NOT EXISTS idx_health_checks_device_time ON health_checks (device_id, "timestamp" DESC);
    INSERT INTO sites (site_id, name, description, location) VALUES
      ('SITE-A', 'Store A', E'first\tfloor\nback office \\ desk', 'Zürich'),
      ('SITE-B', 'Store B', NULL, NULL),
      ('SITE-C', E'Caf\u00e9 \u65e5\u672c \U0001F600', '', 'line1' || chr(10) || 'line2');
    INSERT INTO devices (device_id, name, device_type, site_id, ip_address, status)
      SELECT 'src-dev-' || i, 'Device ' || i || CASE WHEN i % 4 = 0 THEN E' \\ "quoted"\t' ELSE '' END, 'pos_terminal',
             (SELECT id FROM sites ORDER BY id OFFSET i % 3 LIMIT 1),
             CASE WHEN i % 5 = 0 THEN NULL ELSE '10.0.0.' || i END, CASE WHEN i % 6 = 0 THEN 'offline' ELSE 'online' END
      FROM generate_series(1, ${devices}) i;`);
  await insertChecks(sql, {
    rows: opts.rows,
    from: `date_trunc('hour', now()) - interval '${days} days' - interval '1 hour'`,
    span: `interval '${days} days'`,
    devices,
  });
  await sql.unsafe(`ANALYZE sites, devices, health_checks`);
}

/**
 * Insert `rows` health checks spread evenly over [from, from + span) (SQL
 * expressions), for devices src-dev-1..devices, with the same varied columns
 * as loadSource. `salt` changes the values so that batches differ.
 */
export async function insertChecks(
  sql: Sql,
  o: { rows: number; from: string; span: string; devices?: number; salt?: number },
): Promise<void> {
  const devices = o.devices ?? 12;
  const salt = o.salt ?? 0;
  await sql.unsafe(String.raw`
    INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, endpoint, response_data, error_message, "timestamp")
    SELECT d.id,
           (i + ${salt}) % 13 <> 0,
           CASE WHEN i % 11 = 0 THEN NULL ELSE 5 + ((i + ${salt}) * 7919) % 900 END,
           CASE WHEN (i + ${salt}) % 13 = 0 THEN 503 WHEN i % 17 = 0 THEN NULL ELSE 200 END,
           CASE WHEN i % 29 = 0 THEN NULL WHEN i % 5 = 0 THEN '/health?q=ä&n=' || i ELSE '/health' END,
           CASE (i + ${salt}) % 8
             WHEN 0 THEN NULL
             WHEN 1 THEN json_build_object('seq', i, 'salt', ${salt}, 'cpu', (i % 100) / 3.0, 'tags', json_build_array('a', 'b'))
             WHEN 2 THEN (E'{\n\t"note": "tab\\there \\\\ back \\"q\\"",\n  "u": "\\u00e9 \u65e5\u672c \U0001F600", "i": ' || i || E'}\r\n')::json
             WHEN 3 THEN json_build_object('msg', E'line1\nline2\ttab\\back\r\\.', 'n', NULL, 'i', i)
             WHEN 4 THEN ('[1, 2.50, 1e3, true, null, ' || i || ']')::json
             WHEN 5 THEN '"just a string"'::json
             WHEN 6 THEN '{}'::json
             ELSE json_build_object('seq', i, 'deep', json_build_object('x', json_build_array(i, 'ü\\n')))
           END,
           CASE WHEN (i + ${salt}) % 13 = 0 THEN E'timeout\tafter 5 s\nretry \\ "x" \\.\n\\N ünïcödé ✓ \U0001F680'
                WHEN i % 31 = 0 THEN ''
                WHEN i % 37 = 0 THEN E'\\.'
                WHEN i % 41 = 0 THEN 'NULL'
                ELSE NULL END,
           ${o.from} + (i - 1) * (${o.span}) / ${o.rows} + ((i * 7) % 1000) * interval '1 microsecond'
    FROM generate_series(1, ${o.rows}) i
    JOIN devices d ON d.device_id = 'src-dev-' || (1 + i % ${devices})`);
}

export interface Fingerprint {
  rows: number;
  /** Sum of a 64-bit hash of each row's text (TimeZone UTC, so timestamptz text is the same on both servers). */
  checksum: string;
}

/**
 * Count and checksum of each relation, in one transaction with TimeZone UTC
 * (the text of a timestamptz depends on the session's TimeZone). Works with a
 * max-1 client on the embedded database.
 */
export async function fingerprints(sql: Sql, relations: string[]): Promise<Record<string, Fingerprint>> {
  return sql.begin<Record<string, Fingerprint>>(async (tx) => {
    await tx.unsafe(`SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL extra_float_digits = 1`);
    const out: Record<string, Fingerprint> = {};
    for (const rel of relations) {
      const [r] = await tx.unsafe(
        `SELECT count(*)::int AS rows, coalesce(sum(hashtextextended(h::text, 0)), 0)::text AS checksum FROM ${rel} h`,
      );
      out[rel] = { rows: r.rows as number, checksum: r.checksum as string };
    }
    return out;
  });
}

/** (id, "timestamp") pairs that occur more than once in health_checks (0 when the copy doubled nothing). */
export async function duplicateKeys(sql: Sql): Promise<number> {
  const [r] = await sql.unsafe(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM health_checks GROUP BY id, "timestamp" HAVING count(*) > 1) d`,
  );
  return r.n as number;
}

/** The arguments of a migrate-from-postgres --source run from `source` into `target`. */
export function migrateArgs(source: string, target: string, ...extra: string[]): string[] {
  return ['migrate-from-postgres', '--source', source, '--database-url', target, ...extra];
}

/**
 * A --source run that preflight refuses: exit 4, one error line matching `pattern`, and the
 * target's catalog exactly as before. Returns the run for any further assertion.
 */
export async function expectSourceRefused(source: string, target: TestDatabase, pattern: RegExp): Promise<CliResult> {
  const before = await snapshot(target);
  const r = await runCli(migrateArgs(source, target.url), { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(4);
  oneLineError(r.stderr, pattern);
  expect(await snapshot(target)).toEqual(before);
  return r;
}

/** Run one statement list on a database and give its connections back (embedded: one at a time). */
export async function on<T = any>(db: TestDatabase, text: string): Promise<T[]> {
  const rows = await db.sql().unsafe<T[]>(text);
  await db.closeClients();
  return rows;
}
