import { detectCapabilities, type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { queryOne } from '../db/sql.js';
import { aggregateChecks } from './aggregates.js';
import type { CheckStatus, DoctorCheck } from './check.js';
import { chunkChecks, readHypertables } from './chunks.js';
import { jobChecks, readJobs, scheduledJobCount } from './jobs.js';
import { compressionChecks, retentionChecks, type HealthChecksKind } from './policies.js';
import { extensionChecks, schedulerChecks, type ServerSettings } from './server.js';
import { indexChecks, tableChecks } from './tables.js';

/**
 * `doctor`: the database against TimescaleDB's and HOMEPOT's operating
 * advice, read-only (it works on a replica and as a non-superuser). Each
 * check says ok, warning, problem or n/a (with why), what it found, and the
 * exact fix. One file per group of checks; SQL in sql/doctor/.
 */

export type { CheckGroup, CheckStatus, DoctorCheck, Fix } from './check.js';

export interface DoctorOptions {
  capabilities?: Capabilities;
  /** The retention period HOMEPOT wants (config setup.retention, else the seed's 90 days); false: none. */
  retention?: string | false;
}

export interface DoctorReport {
  /** The worst status found: 'ok' when every check is ok or n/a. */
  status: 'ok' | 'warning' | 'problem';
  counts: Record<CheckStatus, number>;
  checks: DoctorCheck[];
}

export async function runDoctor(sql: Sql, options: DoctorOptions = {}): Promise<DoctorReport> {
  const caps = options.capabilities ?? (await detectCapabilities(sql));
  const settings = await queryOne<ServerSettings>(sql, 'doctor/settings.sql');
  if (!settings) throw new Error('doctor/settings.sql returned no row');
  const jobs = await readJobs(sql, caps);
  const hts = await readHypertables(sql, caps);
  const hc = await healthChecksKind(sql, hts);
  const checks = [
    ...extensionChecks(caps),
    ...schedulerChecks(caps, settings, scheduledJobCount(jobs)),
    ...(await jobChecks(sql, caps, jobs)),
    ...chunkChecks(caps, settings, hts),
    ...(await compressionChecks(sql, caps, hc)),
    ...(await retentionChecks(sql, caps, hc, options.retention ?? '90 days')),
    ...(await aggregateChecks(sql, caps, hc)),
    ...(await indexChecks(sql, hc)),
    ...(await tableChecks(sql, hc, Boolean(caps.timescaledb.installedVersion))),
  ];
  const counts: Record<CheckStatus, number> = { ok: 0, warning: 0, problem: 0, 'n/a': 0 };
  for (const c of checks) counts[c.status]++;
  const status = counts.problem > 0 ? 'problem' : counts.warning > 0 ? 'warning' : 'ok';
  return { status, counts, checks };
}

async function healthChecksKind(sql: Sql, hts: Awaited<ReturnType<typeof readHypertables>>): Promise<HealthChecksKind> {
  const hypertable = hts.find((h) => h.schema === 'public' && h.name === 'health_checks') ?? null;
  if (hypertable) return { kind: 'hypertable', hypertable };
  const r = await queryOne<{ present: boolean }>(sql, 'doctor/health-checks.sql');
  return { kind: r?.present ? 'table' : null, hypertable: null };
}
