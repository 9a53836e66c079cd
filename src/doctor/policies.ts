import type { Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { featureGap, hasFeature } from '../db/features.js';
import { query, queryOne } from '../db/sql.js';
import { checker, command, plural, type DoctorCheck } from './check.js';
import type { HypertableFacts } from './chunks.js';

/**
 * Compression of health_checks (enabled, a policy, chunks older than
 * compress_after still uncompressed, the ratio) and its retention (a policy,
 * or on editions without policies `retention run` from cron; data older
 * than the retention period still present). SQL in sql/doctor/.
 */

const comp = checker('compression');
const ret = checker('retention');

export interface HealthChecksKind {
  /** null: no public.health_checks. */
  kind: 'hypertable' | 'table' | null;
  hypertable: HypertableFacts | null;
}

export async function compressionChecks(sql: Sql, caps: Capabilities, hc: HealthChecksKind): Promise<DoctorCheck[]> {
  const ids = ['compression-enabled', 'compression-policy', 'compression-backlog', 'compression-ratio'];
  const gap = featureGap(caps, 'community');
  const why = !caps.timescaledb.installedVersion
    ? 'needs TimescaleDB (plain PostgreSQL)'
    : caps.timescaledb.edition === 'apache'
      ? 'the Apache edition has no compression'
      : gap
        ? `compression ${gap.reason}`
        : hc.kind !== 'hypertable'
          ? 'health_checks is not a hypertable'
          : null;
  if (why) return ids.map((id) => comp.na(id, why));
  if (!hc.hypertable?.compression_enabled)
    return [
      comp.warning(
        'compression-enabled',
        'off for health_checks',
        { enabled: false },
        command('homepot-ts compression set'),
      ),
      ...ids.slice(1).map((id) => comp.na(id, 'compression is off')),
    ];
  const r = await queryOne<{
    compress_after: string | null;
    behind_chunks: number | null;
    before_bytes: string | null;
    after_bytes: string | null;
  }>(sql, 'doctor/compression.sql', ['public', 'health_checks']);
  const out = [comp.ok('compression-enabled', 'on for health_checks', { enabled: true })];
  if (!r?.compress_after) {
    out.push(
      comp.warning(
        'compression-policy',
        'no compression policy',
        { policy: null },
        command('homepot-ts compression set'),
      ),
      comp.na('compression-backlog', 'no policy'),
    );
  } else {
    out.push(comp.ok('compression-policy', `compress after ${r.compress_after}`, { compressAfter: r.compress_after }));
    const behind = Number(r.behind_chunks ?? 0);
    out.push(
      behind === 0
        ? comp.ok('compression-backlog', 'the policy keeps up', { uncompressedOlderChunks: 0 })
        : comp.warning(
            'compression-backlog',
            `${plural(behind, 'chunk')} older than ${r.compress_after} uncompressed`,
            { uncompressedOlderChunks: behind, compressAfter: r.compress_after },
            command('homepot-ts compression run'),
          ),
    );
  }
  const before = Number(r?.before_bytes ?? 0);
  const after = Number(r?.after_bytes ?? 0);
  if (!before || !after) out.push(comp.na('compression-ratio', 'nothing compressed yet'));
  else {
    const ratio = Math.round((before / after) * 10) / 10;
    const found = { beforeBytes: before, afterBytes: after, ratio };
    out.push(
      ratio >= 2
        ? comp.ok('compression-ratio', `${ratio}:1`, found)
        : comp.warning(
            'compression-ratio',
            `only ${ratio}:1`,
            found,
            command('homepot-ts compression set --segment-by device_id'),
          ),
    );
  }
  return out;
}

/**
 * `retention`: the period to hold (config setup.retention, else the seed's);
 * false: no retention wanted.
 */
export async function retentionChecks(
  sql: Sql,
  caps: Capabilities,
  hc: HealthChecksKind,
  retention: string | false,
): Promise<DoctorCheck[]> {
  if (hc.kind === null)
    return ['retention-policy', 'retention-backlog'].map((id) => ret.na(id, 'no health_checks table'));
  if (retention === false)
    return ['retention-policy', 'retention-backlog'].map((id) =>
      ret.na(id, 'no retention wanted (config retention: false)'),
    );
  const policies = hasFeature(caps, 'community') && hc.kind === 'hypertable';
  let period = retention;
  const out: DoctorCheck[] = [];
  if (policies) {
    const p = await queryOne<{ drop_after: string | null }>(sql, 'doctor/retention-policy.sql', [
      'public',
      'health_checks',
    ]);
    if (p?.drop_after) {
      period = p.drop_after;
      out.push(ret.ok('retention-policy', `drop after ${p.drop_after}`, { dropAfter: p.drop_after }));
    } else
      out.push(
        ret.warning(
          'retention-policy',
          'no retention policy',
          { dropAfter: null },
          command(`homepot-ts retention set '${retention}'`),
        ),
      );
  } else {
    out.push(
      ret.na(
        'retention-policy',
        caps.timescaledb.installedVersion
          ? 'no policies on this edition: cron runs retention'
          : 'plain PostgreSQL: cron runs retention',
        { period: retention },
        command(`17 3 * * * homepot-ts retention run --older-than '${retention}' --quiet   # cron`),
      ),
    );
  }
  out.push(await backlogCheck(sql, hc, period, policies));
  return out;
}

async function backlogCheck(sql: Sql, hc: HealthChecksKind, period: string, policies: boolean): Promise<DoctorCheck> {
  const [row] =
    hc.kind === 'hypertable'
      ? await query<{ oldest: Date | null; older: boolean }>(sql, 'doctor/retention-backlog.sql', [
          'public',
          'health_checks',
          period,
        ])
      : await query<{ oldest: Date | null; older: boolean }>(sql, 'doctor/retention-backlog-plain.sql', [period]);
  const found = { period, oldest: row?.oldest ?? null };
  if (!row?.older) return ret.ok('retention-backlog', `nothing older than ${period}`, found);
  return ret.warning(
    'retention-backlog',
    `data older than ${period} is still here`,
    found,
    command(`homepot-ts retention run --older-than '${period}'${policies ? '' : '   # and from cron'}`),
  );
}
