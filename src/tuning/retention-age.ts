import type { Sql } from '../db/connection.js';
import type { ResolvedTable } from '../db/names.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import { readPolicy } from '../steps/policy.js';
import { queryOne } from '../db/sql.js';

/**
 * How old is too old for `retention run`: --older-than when given; else the live retention
 * policy's drop_after, read inside the run's change lock (the policy is what the database
 * enforces, and another run may have changed it since any earlier read); else the config's
 * setup.retention (or its default). Where the value came from goes into the result.
 */
export type OlderThanSource = 'option' | 'policy' | 'config';

export async function resolveOlderThan(
  conn: Sql,
  table: ResolvedTable,
  p: { option: Interval | null; config: Interval | null; hypertable: boolean },
): Promise<{ olderThan: Interval; source: OlderThanSource }> {
  if (p.option) return { olderThan: p.option, source: 'option' };
  const policy = p.hypertable ? await readPolicy(conn, table, 'retention') : null;
  if (policy?.setting) {
    // drop_after as the job stores it ("2 mons", "1 day 02:00:00"): PostgreSQL's own text.
    const [row] = await conn<{ seconds: number }[]>`
      SELECT extract(epoch FROM ${policy.setting}::interval)::float8 AS seconds`;
    return { olderThan: { text: policy.setting, seconds: Number(row?.seconds) }, source: 'policy' };
  }
  if (p.config) return { olderThan: p.config, source: 'config' };
  throw new HomepotError(
    'usage',
    `no retention to enforce on ${table.display}: it has no retention policy, the config sets setup.retention to false and --older-than is not given`,
    { hint: "Give --older-than, e.g. --older-than '90 days'." },
  );
}

/**
 * now() - olderThan, fixed once: ISO 8601 text in UTC with its offset (bound
 * back as $n::timestamptz, shown as a literal) and the same instant as a Date.
 * Read as text the server built with to_char, never a timestamptz printed in
 * the session's DateStyle and TimeZone.
 */
export async function readCutoff(conn: Sql, olderThan: Interval): Promise<{ text: string; date: Date }> {
  const r = await queryOne<{ cutoff: string }>(conn, 'retention/cutoff.sql', [olderThan.text]);
  const date = new Date(r?.cutoff ?? '');
  if (!r || Number.isNaN(date.getTime()))
    throw new HomepotError('internal', `retention/cutoff.sql gave no instant (${r?.cutoff})`);
  return { text: r.cutoff, date };
}
