import type { Sql } from './connection.js';
import { HomepotError } from '../core/errors.js';
import { editionLabel } from './features.js';
import { query, queryOne } from './sql.js';

/** The HOMEPOT tables we look after. */
export const HOMEPOT_TABLES = ['sites', 'devices', 'health_checks'] as const;

export type Edition = 'community' | 'apache';

export interface TableAccess {
  name: string;
  exists: boolean;
  schema: string | null;
  owner: string | null;
  /** The current role owns it (directly or through a role it is a member of). */
  owned: boolean;
}

/**
 * Everything a command needs to know about the server and role before it
 * decides what to do. Commands consult this instead of catching errors.
 */
export interface Capabilities {
  server: {
    version: string;
    versionNum: number;
    database: string;
    role: string;
    superuser: boolean;
    /** Connected to a standby (pg_is_in_recovery()). */
    inRecovery: boolean;
    /** The session cannot write (a standby, or default_transaction_read_only). */
    readOnly: boolean;
    /** PGlite (PostgreSQL in WebAssembly), as served by --embedded: one connection, no background workers. */
    pglite: boolean;
  };
  timescaledb: {
    /** Version the server could install (pg_available_extensions), or null. */
    availableVersion: string | null;
    /** Version installed in this database (pg_extension), or null. */
    installedVersion: string | null;
    /** Schema the extension lives in. */
    schema: string | null;
    /**
     * timescaledb is in shared_preload_libraries (or its library is loaded, as
     * in the embedded database). null when this role may not read
     * shared_preload_libraries (not superuser, no pg_read_all_settings) and
     * the library is not loaded in this session.
     */
    preloaded: boolean | null;
    /** timescaledb.license: 'timescale' (Community) or 'apache'; null when the library is not loaded. */
    license: string | null;
    edition: Edition | null;
  };
  role: {
    /** Can run CREATE EXTENSION timescaledb: superuser, or trusted extension plus CREATE on the database. */
    canCreateExtension: boolean;
    canCreateInDatabase: boolean;
    tables: TableAccess[];
  };
  features: {
    /** Hypertables and chunks (any edition, extension installed). */
    hypertables: boolean;
    /** Compression, retention/compression policies, continuous aggregates: Community edition only. */
    compression: boolean;
    policies: boolean;
    continuousAggregates: boolean;
    /** timescaledb_information.job_errors exists (TimescaleDB >= 2.15). */
    jobErrors: boolean;
    /**
     * The columnstore API (TimescaleDB >= 2.18): add_columnstore_policy,
     * convert_to_columnstore, ALTER TABLE ... SET (timescaledb.enable_columnstore).
     * Where false, the compression API it renamed (add_compression_policy, ...).
     */
    columnstore: boolean;
    /**
     * Policies run on their own here: false only where the scheduler is known
     * to be absent (scheduler.state 'absent': the embedded database, no
     * background workers, or none visible to a role that sees every session).
     */
    jobScheduler: boolean;
  };
  /** TimescaleDB's job scheduler for this database, decided from what this role can see. */
  scheduler: SchedulerInfo;
}

/**
 * - running: its session is visible, or job_stats shows background runs since the server started;
 * - absent: no scheduler (the embedded database, timescaledb.max_background_workers = 0, or none
 *   in pg_stat_activity for a role that sees every session);
 * - unknown: this role cannot see other roles' sessions (no pg_read_all_stats) and no job has run
 *   in the background since the server started;
 * - replica: a standby, where jobs run on the primary;
 * - n/a: TimescaleDB is not installed in this database.
 */
export interface SchedulerInfo {
  state: 'running' | 'absent' | 'unknown' | 'replica' | 'n/a';
  /** Why, in a few words (what the state was decided from). */
  reason: string;
}

interface CapabilitiesRow {
  server_version: string;
  server_version_num: number;
  pglite: boolean;
  database: string;
  role: string;
  superuser: boolean;
  can_create_in_database: boolean;
  in_recovery: boolean;
  read_only: boolean;
  shared_preload_libraries: string | null;
  license: string | null;
  available_version: string | null;
  extension_trusted: boolean | null;
  installed_version: string | null;
  extension_schema: string | null;
}

interface TableRow {
  name: string;
  schema: string | null;
  exists: boolean;
  owner: string | null;
  owned: boolean | null;
}

export async function detectCapabilities(sql: Sql): Promise<Capabilities> {
  const row = await queryOne<CapabilitiesRow>(sql, 'db/capabilities.sql');
  if (!row) throw new HomepotError('internal', 'could not read the server capabilities (no row for the current role)');
  const tables = await query<TableRow>(sql, 'db/homepot-tables.sql', [[...HOMEPOT_TABLES]]);
  const jobs = row.installed_version
    ? await jobFeatures(sql, row)
    : { jobErrors: false, scheduler: { state: 'n/a' as const, reason: 'TimescaleDB is not installed here' } };
  const timescaledb = timescaleOf(row);
  const installed = row.installed_version !== null;
  const community = installed && timescaledb.edition === 'community';
  return {
    server: {
      version: row.server_version,
      versionNum: row.server_version_num,
      database: row.database,
      role: row.role,
      superuser: row.superuser,
      inRecovery: row.in_recovery,
      readOnly: row.read_only || row.in_recovery,
      pglite: row.pglite,
    },
    timescaledb,
    role: {
      canCreateExtension: row.superuser || (Boolean(row.extension_trusted) && row.can_create_in_database),
      canCreateInDatabase: row.can_create_in_database,
      tables: tables.map((t) => ({
        name: t.name,
        exists: t.exists,
        schema: t.schema,
        owner: t.owner,
        owned: Boolean(t.owned),
      })),
    },
    features: {
      hypertables: installed,
      compression: community,
      policies: community,
      continuousAggregates: community,
      columnstore: hasColumnstoreApi(row.installed_version),
      jobErrors: jobs.jobErrors,
      jobScheduler: jobs.scheduler.state !== 'absent' && jobs.scheduler.state !== 'n/a',
    },
    scheduler: jobs.scheduler,
  };
}

/**
 * TimescaleDB 2.18 renamed compression to columnstore: the procedures
 * add_columnstore_policy / remove_columnstore_policy / convert_to_columnstore
 * and the ALTER TABLE options enable_columnstore, segmentby, orderby. They
 * call the same C functions as the old names (one job, proc
 * policy_compression, config key compress_after, either way), which 2.28
 * still has but deprecates. `version` as pg_extension has it ("2.23.0-dev").
 */
export function hasColumnstoreApi(version: string | null): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 2 || (major === 2 && minor >= 18);
}

/** What an installed TimescaleDB offers for jobs: the job_errors view, and its scheduler. */
async function jobFeatures(sql: Sql, row: CapabilitiesRow): Promise<{ jobErrors: boolean; scheduler: SchedulerInfo }> {
  const s = await queryOne<SchedulerRow>(sql, 'db/scheduler.sql');
  return { jobErrors: Boolean(s?.job_errors), scheduler: schedulerOf(row, s) };
}

interface SchedulerRow {
  visible: boolean;
  sees_all_sessions: boolean;
  max_background_workers: string | null;
  last_background_run: Date | null;
  job_errors: boolean;
}

/**
 * The scheduler's state from what this role can see. pg_stat_activity hides
 * other roles' sessions from a role without pg_read_all_stats, so "not
 * there" is only believed from a role that sees every session; otherwise a
 * background run since the server started proves one, and anything else is
 * "cannot tell" (never a false warning).
 */
function schedulerOf(row: CapabilitiesRow, s: SchedulerRow | undefined): SchedulerInfo {
  if (row.in_recovery) return { state: 'replica', reason: 'a replica: jobs run on the primary' };
  if (row.pglite) return { state: 'absent', reason: 'the embedded database runs no background workers' };
  if (s?.visible) return { state: 'running', reason: 'its session is in pg_stat_activity' };
  if (s?.max_background_workers === '0') return { state: 'absent', reason: 'timescaledb.max_background_workers is 0' };
  if (s?.sees_all_sessions) return { state: 'absent', reason: 'no scheduler session in pg_stat_activity' };
  if (s?.last_background_run)
    return { state: 'running', reason: 'jobs ran in the background since the server started' };
  return { state: 'unknown', reason: 'cannot tell without pg_read_all_stats' };
}

function timescaleOf(row: CapabilitiesRow): Capabilities['timescaledb'] {
  const preloadList = (row.shared_preload_libraries ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^"|"$/g, ''))
    .filter(Boolean);
  const license = row.license && row.license !== '' ? row.license : null;
  const edition: Edition | null = license === 'timescale' ? 'community' : license === 'apache' ? 'apache' : null;
  return {
    availableVersion: row.available_version,
    installedVersion: row.installed_version,
    schema: row.extension_schema,
    // A defined license setting proves the library is loaded, which is what
    // matters; PGlite loads it at start without shared_preload_libraries.
    preloaded:
      preloadList.some((l) => l === 'timescaledb' || l.startsWith('timescaledb-')) ||
      license !== null ||
      // PGlite loads extension libraries on demand: no preloading exists there.
      (row.pglite && row.available_version !== null)
        ? true
        : row.shared_preload_libraries === null
          ? null
          : false,
    license,
    edition,
  };
}

/** One line naming the server kind: what `status` and the tests print. */
export function describeServerKind(c: Capabilities): string {
  const pg = `PostgreSQL ${c.server.version.split(' ')[0]}`;
  const t = c.timescaledb;
  if (t.installedVersion) {
    return `${pg}, TimescaleDB ${t.installedVersion} (${editionLabel(t.edition)})`;
  }
  if (t.availableVersion && t.preloaded === false)
    return `${pg}, TimescaleDB ${t.availableVersion} available but not preloaded`;
  if (t.availableVersion)
    return `${pg}, TimescaleDB ${t.availableVersion} available but not installed in this database`;
  return `${pg}, no TimescaleDB`;
}

/** Refuse, before anything runs, a change on a session that cannot write (a replica). */
export function requireWritable(caps: Capabilities, command: string): void {
  if (!caps.server.readOnly) return;
  throw new HomepotError(
    'read-only',
    `database "${caps.server.database}" is read-only${caps.server.inRecovery ? ' (a replica in recovery)' : ''}: ${command} changes nothing here`,
    {
      hint: `Run ${command} against the primary server.`,
    },
  );
}
