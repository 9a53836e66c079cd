import type { Capabilities } from '../db/capabilities.js';
import { checker, command, config, plural, sqlFix, type DoctorCheck } from './check.js';

/**
 * The extension (available, preloaded, installed, up to date) and the
 * scheduler with its workers: TimescaleDB's advice is
 * `timescaledb.max_background_workers` >= databases with TimescaleDB +
 * jobs that may run at once, and `max_worker_processes` large enough for
 * those plus TimescaleDB's launcher (it also serves parallel queries).
 */

export interface ServerSettings {
  shared_buffers: string;
  shared_buffers_bytes: string | number;
  max_worker_processes: number;
  max_parallel_workers: number;
  max_locks_per_transaction: number;
  max_connections: number;
  max_prepared_transactions: number;
  max_background_workers: number | null;
  schedulers_visible: number;
  sees_all_sessions: boolean;
}

const ext = checker('extension');
const sched = checker('scheduler');

export function extensionChecks(caps: Capabilities): DoctorCheck[] {
  const t = caps.timescaledb;
  if (!t.availableVersion) {
    const why = 'plain PostgreSQL: TimescaleDB is not on this server (HOMEPOT runs without it)';
    return [
      ext.na('extension-available', why, { available: null }),
      ext.na('extension-preloaded', 'TimescaleDB is not on this server'),
      ext.na('extension-installed', 'TimescaleDB is not on this server'),
      ext.na('extension-outdated', 'TimescaleDB is not on this server'),
    ];
  }
  const out = [ext.ok('extension-available', `TimescaleDB ${t.availableVersion}`, { available: t.availableVersion })];
  if (t.preloaded === false) {
    out.push(
      ext.problem(
        'extension-preloaded',
        'not in shared_preload_libraries',
        { preloaded: false },
        config("shared_preload_libraries = 'timescaledb'   # then restart PostgreSQL"),
      ),
    );
  } else if (t.preloaded === null) {
    out.push(ext.na('extension-preloaded', 'cannot tell: needs pg_read_all_settings', { preloaded: null }));
  } else {
    out.push(ext.ok('extension-preloaded', 'preloaded', { preloaded: true }));
  }
  if (!t.installedVersion) {
    out.push(
      ext.warning(
        'extension-installed',
        `not installed in database ${caps.server.database}`,
        { installed: null },
        command('homepot-ts setup'),
      ),
      ext.na('extension-outdated', 'not installed in this database'),
    );
    return out;
  }
  out.push(
    ext.ok('extension-installed', `${t.installedVersion} (${t.edition ?? 'edition unknown'})`, {
      installed: t.installedVersion,
      edition: t.edition,
    }),
  );
  out.push(
    t.installedVersion === t.availableVersion
      ? ext.ok('extension-outdated', 'up to date', { installed: t.installedVersion, available: t.availableVersion })
      : ext.warning(
          'extension-outdated',
          `${t.installedVersion} installed, ${t.availableVersion} available`,
          { installed: t.installedVersion, available: t.availableVersion },
          sqlFix('ALTER EXTENSION timescaledb UPDATE;   -- the first statement of a fresh psql -X session'),
        ),
  );
  return out;
}

/** Why the scheduler checks do not apply here, or null when they do. */
export function schedulerNotApplicable(caps: Capabilities): string | null {
  if (!caps.timescaledb.installedVersion) return 'TimescaleDB is not installed here: jobs come from cron';
  if (caps.scheduler.state === 'replica') return 'a replica: jobs run on the primary';
  if (caps.server.pglite) return 'embedded database: no background workers (homepot-ts jobs run <id>)';
  return null;
}

/**
 * `scheduledJobs`: jobs of this database the scheduler starts (all may be due at once).
 */
export function schedulerChecks(caps: Capabilities, s: ServerSettings, scheduledJobs: number): DoctorCheck[] {
  const na = schedulerNotApplicable(caps);
  if (na) return ['scheduler', 'background-workers', 'worker-processes'].map((id) => sched.na(id, na));
  const state = caps.scheduler;
  const out: DoctorCheck[] = [];
  if (state.state === 'running') out.push(sched.ok('scheduler', `running: ${state.reason}`, { ...state }));
  else if (state.state === 'unknown')
    out.push(
      sched.na(
        'scheduler',
        'cannot tell: needs pg_read_all_stats',
        { ...state },
        sqlFix(`GRANT pg_read_all_stats TO ${caps.server.role};`),
      ),
    );
  else if (scheduledJobs === 0) out.push(sched.ok('scheduler', 'not running, and no job is scheduled', { ...state }));
  else
    out.push(
      sched.problem(
        'scheduler',
        `no scheduler for this database (${state.reason})`,
        { ...state, scheduledJobs },
        config(
          'timescaledb.max_background_workers = 16   # then restart; or SELECT _timescaledb_functions.start_background_workers();',
        ),
      ),
    );
  // Databases with TimescaleDB: their schedulers, seen by a role that sees every session;
  // otherwise this database alone (said in the figures).
  const databases = s.sees_all_sessions ? Math.max(1, s.schedulers_visible) : 1;
  const needed = databases + scheduledJobs;
  const workers = s.max_background_workers ?? 0;
  const found = {
    maxBackgroundWorkers: workers,
    databases,
    databasesCounted: s.sees_all_sessions ? 'all' : 'this one',
    scheduledJobs,
    needed,
  };
  out.push(
    workers >= needed
      ? sched.ok(
          'background-workers',
          `${workers} for ${plural(databases, 'database')} + ${plural(scheduledJobs, 'job')}`,
          found,
        )
      : sched.warning(
          'background-workers',
          `${workers}, need ${needed} (${plural(databases, 'database')} + ${plural(scheduledJobs, 'job')})`,
          found,
          config(`timescaledb.max_background_workers = ${needed + 2}   # then restart PostgreSQL`),
        ),
  );
  // TimescaleDB's launcher, its schedulers and jobs, out of PostgreSQL's pool.
  const processes = 1 + Math.min(workers, needed);
  const pfound = {
    maxWorkerProcesses: s.max_worker_processes,
    timescaledbNeeds: processes,
    maxParallelWorkers: s.max_parallel_workers,
  };
  out.push(
    s.max_worker_processes >= processes
      ? sched.ok('worker-processes', `${s.max_worker_processes} for TimescaleDB's ${processes}`, pfound)
      : sched.warning(
          'worker-processes',
          `${s.max_worker_processes}, TimescaleDB alone needs ${processes}`,
          pfound,
          config(
            `max_worker_processes = ${processes + s.max_parallel_workers}   # TimescaleDB + max_parallel_workers; restart`,
          ),
        ),
  );
  return out;
}
