import type { Sql } from '../db/connection.js';
import { query } from '../db/sql.js';
import { validDate } from '../core/times.js';

/**
 * Jobs whose last run failed, each with its latest error, and whether they
 * all fail the same way: what `status` and `doctor` say about failing jobs.
 * When every failing job fails with one error, the cause is the server, not
 * a job (PostgreSQL 15.20 with TimescaleDB 2.19.3 and 2.28.3 built from
 * source: every background job fails with `24000 cannot drop portal "" while
 * it is being set up`, while the same jobs succeed in the foreground).
 */

export interface FailingJob {
  jobId: number;
  applicationName: string;
  proc: string;
  totalRuns: number;
  totalFailures: number;
  sqlerrcode: string | null;
  message: string | null;
  at: Date | null;
}

/** All failing jobs (two or more) share this latest error. */
export interface CommonJobError {
  sqlerrcode: string | null;
  message: string;
  jobIds: number[];
  /** What to do, in one sentence. */
  advice: string;
}

interface Row {
  job_id: number;
  application_name: string;
  proc_schema: string;
  proc_name: string;
  total_runs: number;
  total_failures: number;
  sqlerrcode: string | null;
  err_message: string | null;
  finish_time: Date | null;
}

/**
 * Jobs whose last run failed (job_stats), with their latest job_errors row
 * where the server records them (`withErrors`: TimescaleDB >= 2.15).
 */
export async function listFailingJobs(sql: Sql, withErrors: boolean): Promise<FailingJob[]> {
  const rows = withErrors
    ? await query<Row>(sql, 'steps/latest-job-errors.sql')
    : await query<Row>(sql, 'steps/failing-jobs.sql');
  return rows.map((r) => ({
    jobId: Number(r.job_id),
    applicationName: r.application_name,
    proc: `${r.proc_schema}.${r.proc_name}`,
    totalRuns: Number(r.total_runs),
    totalFailures: Number(r.total_failures),
    sqlerrcode: r.sqlerrcode,
    message: r.err_message,
    at: validDate(r.finish_time),
  }));
}

/**
 * The one error every failing job's latest failure shares, when two or more
 * jobs fail and all the same way; null otherwise (or when errors are not
 * recorded).
 */
export function commonJobError(failing: readonly FailingJob[]): CommonJobError | null {
  if (failing.length < 2) return null;
  const [first] = failing;
  if (!first?.message) return null;
  const same = failing.every((j) => j.message === first.message && j.sqlerrcode === first.sqlerrcode);
  if (!same) return null;
  return {
    sqlerrcode: first.sqlerrcode,
    message: first.message,
    jobIds: failing.map((j) => j.jobId),
    advice: PORTAL_BUG.test(first.message)
      ? 'the server, not the jobs, is the cause (PostgreSQL 15.20 background workers fail this way with TimescaleDB 2.19.3 and 2.28.3, while the same jobs succeed in the foreground): until the server is upgraded, run them from cron with homepot-ts jobs run <id>'
      : 'one cause for all of them, not one per job (homepot-ts jobs errors shows it): fix that; where a job succeeds with homepot-ts jobs run <id>, run it from cron until then',
  };
}

/** The PostgreSQL 15.20 background-worker failure (SQLSTATE 24000). */
const PORTAL_BUG = /cannot drop portal/;
