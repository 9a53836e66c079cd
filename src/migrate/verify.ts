import type { Sql } from '../db/connection.js';
import { executeRendered, renderStatement } from '../db/sql.js';

/**
 * Verification of a migration: row count and checksum per time window on both
 * sides, compared window by window. Shared by every strategy (same database
 * and another server).
 */

/** Count and checksum of one time window (w = floor(epoch / windowSeconds)). */
export interface WindowSum {
  w: number;
  n: number;
  /** Sum of 64-bit row hashes, as text (numeric). */
  h: string;
}

export interface WindowMismatch {
  /** ISO start and end of the window. */
  from: string;
  to: string;
  sourceRows: number;
  targetRows: number;
  /** Counts are equal but the rows differ. */
  checksumDiffers: boolean;
}

export interface Verification {
  ok: boolean;
  windowSeconds: number;
  windows: number;
  /** Rows on the source side of the compared windows. */
  rows: number;
  /** Sum of the windows' checksums: one number to compare by hand. */
  checksum: string;
  mismatches: WindowMismatch[];
  /** Online: rows whose keys changed after the window check, compared key by key under the final lock. */
  rechecked?: number;
}

export interface TableRef {
  schema: string;
  name: string;
  timeColumn: string;
}

/**
 * The per-window query for a table, rendered by the server from
 * sql/migrate/render-verify.sql; with `pending`, rows whose key has a change
 * waiting in that log table are left out.
 */
export function verifyStatement(
  sql: Sql,
  t: TableRef,
  pending?: { logTable: string; keyColumns: string[] },
): Promise<string> {
  return renderStatement(sql, 'migrate/render-verify.sql', [
    t.schema,
    t.name,
    t.timeColumn,
    pending?.logTable ?? null,
    pending?.keyColumns ?? null,
  ]);
}

/**
 * Count and checksum per window, optionally only for [from, to). Sorting is
 * off for the query: the planner misjudges the number of windows and sorted
 * whole rows to disk (600 MB for 4.3 M rows) where a hash of a few thousand
 * windows fits in memory.
 */
export async function windowSums(
  sql: Sql,
  statement: string,
  windowSeconds: number,
  range: { from?: Date | null; to?: Date | null } = {},
): Promise<Map<number, WindowSum>> {
  const params = [windowSeconds, range.from ?? null, range.to ?? null];
  await sql`SELECT set_config('enable_sort', 'off', false)`;
  let rows: { w: string; n: string; h: string }[];
  try {
    rows = await executeRendered<{ w: string; n: string; h: string }[]>(sql, statement, params);
  } finally {
    // Inside a transaction the statement failed in, RESET fails too (25P02):
    // it must not replace the first error, which says what went wrong.
    await sql`RESET enable_sort`.catch(() => {});
  }
  return new Map(rows.map((r) => [Number(r.w), { w: Number(r.w), n: Number(r.n), h: String(r.h) }]));
}

/** Compare two sides; windows in `skip` are left out (changes still pending there). */
export function compareWindows(
  source: Map<number, WindowSum>,
  target: Map<number, WindowSum>,
  windowSeconds: number,
  skip: Set<number> = new Set(),
): Verification {
  const keys = [...new Set([...source.keys(), ...target.keys()])].filter((w) => !skip.has(w)).sort((a, b) => a - b);
  const mismatches: WindowMismatch[] = [];
  let rows = 0;
  let checksum = 0n;
  for (const w of keys) {
    const s = source.get(w);
    const t = target.get(w);
    rows += s?.n ?? 0;
    checksum += BigInt(s?.h ?? '0');
    if (!s || !t || s.n !== t.n || s.h !== t.h) {
      mismatches.push({
        from: new Date(w * windowSeconds * 1000).toISOString(),
        to: new Date((w + 1) * windowSeconds * 1000).toISOString(),
        sourceRows: s?.n ?? 0,
        targetRows: t?.n ?? 0,
        checksumDiffers: (s?.n ?? 0) === (t?.n ?? 0),
      });
    }
  }
  return {
    ok: mismatches.length === 0,
    windowSeconds,
    windows: keys.length,
    rows,
    checksum: checksum.toString(),
    mismatches,
  };
}

/** One line naming the windows that differ, for errors. */
export function describeMismatches(v: Verification, limit = 5): string {
  const shown = v.mismatches
    .slice(0, limit)
    .map(
      (m) =>
        `[${m.from}, ${m.to}): source ${m.sourceRows} rows, target ${m.targetRows} rows${m.checksumDiffers ? ' (same count, different rows)' : ''}`,
    );
  const more = v.mismatches.length > limit ? `, and ${v.mismatches.length - limit} more` : '';
  return shown.join('; ') + more;
}

/**
 * Window length for verification: the smallest of 1 hour, 6 hours, 1 day,
 * 1 week, 30 days, 1 year that gives at most 2,000 windows over the span.
 * Small windows keep the re-check under the final lock short.
 */
export function chooseWindowSeconds(spanSeconds: number): number {
  for (const w of [3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400]) {
    if (spanSeconds / w <= 2000) return w;
  }
  return 365 * 86400;
}

/**
 * The time span of a table's rows (seconds since the epoch), or null when
 * empty. `renderOn`: the server that renders the statement (this one, also
 * when the table is on a --source server).
 */
export async function timeSpan(sql: Sql, t: TableRef, renderOn: Sql = sql): Promise<{ lo: number; hi: number } | null> {
  const statement = await renderStatement(renderOn, 'migrate/time-span.sql', [t.schema, t.name, t.timeColumn]);
  const [r] = await executeRendered<{ lo: number | null; hi: number | null }[]>(sql, statement);
  if (r?.lo === null || r?.lo === undefined || r.hi === null) return null;
  return { lo: Number(r.lo), hi: Number(r.hi) };
}
