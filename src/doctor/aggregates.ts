import { listAggregates, type AggregateInfo } from '../aggregates/inspect.js';
import { aggregateDefinition } from '../aggregates/definitions.js';
import type { Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { query, queryOne } from '../db/sql.js';
import { ago, checker, command, type DoctorCheck } from './check.js';
import type { HealthChecksKind } from './policies.js';

/**
 * HOMEPOT's three aggregates: present, refreshed by a policy (continuous
 * aggregates) or by cron (tables, materialized views), and not behind the
 * raw data by more than the refresh promises: one bucket, plus the policy's
 * end offset, plus two of its schedule intervals (cron: two hours).
 * Measured against the newest raw row, not the clock: a fleet that stopped
 * writing leaves no aggregate stale.
 */

const c = checker('aggregates');
/** What a cron refresh (README: every 15 minutes) is allowed, beside the bucket. */
const CRON_ALLOWANCE_SECONDS = 2 * 3600;

export async function aggregateChecks(sql: Sql, caps: Capabilities, hc: HealthChecksKind): Promise<DoctorCheck[]> {
  const ids = ['aggregates-present', 'aggregates-policy', 'aggregates-lag'];
  if (hc.kind === null) return ids.map((id) => c.na(id, 'no health_checks table'));
  const all = await listAggregates(sql, { capabilities: caps });
  const present = all.filter((a) => a.exists);
  const missing = all.filter((a) => !a.exists).map((a) => a.name);
  const out: DoctorCheck[] = [
    missing.length === 0
      ? c.ok('aggregates-present', `all ${all.length} present`, { missing })
      : c.warning(
          'aggregates-present',
          `missing: ${missing.join(', ')}`,
          { missing },
          command('homepot-ts create-aggregates'),
        ),
  ];
  if (present.length === 0) return [...out, ...ids.slice(1).map((id) => c.na(id, 'no aggregates'))];
  const continuous = present.filter((a) => a.kind === 'continuous');
  const noPolicy = continuous.filter((a) => !a.policy).map((a) => a.name);
  if (continuous.length === 0)
    out.push(
      c.na(
        'aggregates-policy',
        'no continuous aggregates: cron refreshes them',
        {},
        command('*/15 * * * * homepot-ts aggregates refresh --quiet   # cron'),
      ),
    );
  else
    out.push(
      noPolicy.length === 0
        ? c.ok('aggregates-policy', `each has a refresh policy`, { withoutPolicy: [] })
        : c.warning(
            'aggregates-policy',
            `no refresh policy: ${noPolicy.join(', ')}`,
            { withoutPolicy: noPolicy },
            command('homepot-ts create-aggregates'),
          ),
    );
  out.push(await lagCheck(sql, hc, present));
  return out;
}

async function lagCheck(sql: Sql, hc: HealthChecksKind, present: AggregateInfo[]): Promise<DoctorCheck> {
  const from = newestChunkStart(hc);
  const row = await queryOne<{ newest: Date | null }>(sql, 'doctor/newest-row.sql', [from]);
  if (!row?.newest) return c.na('aggregates-lag', 'health_checks has no rows');
  const newest = row.newest.getTime();
  const offsets = present.flatMap((a) => [a.policy?.endOffset ?? '0', a.policy?.schedule ?? '0']);
  const secs = (await query<{ seconds: number }>(sql, 'doctor/interval-seconds.sql', [offsets])).map((r) =>
    Number(r.seconds),
  );
  const lags = present.map((a, i) => {
    const allowed =
      aggregateDefinition(a.name).bucket.seconds +
      (a.policy ? (secs[2 * i] ?? 0) + 2 * (secs[2 * i + 1] ?? 0) : CRON_ALLOWANCE_SECONDS);
    const behind = a.materializedUpTo ? Math.max(0, (newest - a.materializedUpTo.getTime()) / 1000) : null;
    return { name: a.name, materializedUpTo: a.materializedUpTo, behindRawSeconds: behind, allowedSeconds: allowed };
  });
  const stale = lags.filter((l) => l.behindRawSeconds === null || l.behindRawSeconds > l.allowedSeconds);
  const found = { newestRow: row.newest, aggregates: lags };
  if (stale.length === 0) return c.ok('aggregates-lag', 'within what their refresh promises', found);
  const worst = stale[0]!;
  return c.warning(
    'aggregates-lag',
    `${stale.map((s) => s.name).join(', ')} behind the raw data${worst.behindRawSeconds === null ? '' : ` by ${ago(worst.behindRawSeconds)}`}`,
    found,
    command(`homepot-ts aggregates refresh ${stale.length === 1 ? worst.name : ''}`.trim()),
  );
}

/** Only the newest chunk is read for the newest row (no lock on the others). */
function newestChunkStart(hc: HealthChecksKind): Date | null {
  return hc.hypertable?.newest_start ?? null;
}
