import type { Sql } from './connection.js';
import { sqlFile } from './sql-files.js';

export interface JobRow {
  jobId: number;
  applicationName: string;
  proc: string;
  scheduleInterval: string | null;
  scheduled: boolean;
  hypertable: string | null;
  config: unknown;
  jobStatus: string | null;
  lastRunStatus: string | null;
  lastRunStartedAt: Date | null;
  lastSuccessfulFinish: Date | null;
  lastRunDuration: string | null;
  nextStart: Date | null;
  totalRuns: number;
  totalSuccesses: number;
  totalFailures: number;
}

export interface JobErrorRow {
  jobId: number;
  proc: string | null;
  startTime: Date | null;
  finishTime: Date | null;
  sqlerrcode: string | null;
  message: string | null;
}

interface RawJob {
  job_id: number; application_name: string; proc_schema: string; proc_name: string; schedule_interval: string | null;
  scheduled: boolean; hypertable_schema: string | null; hypertable_name: string | null; config: unknown;
  job_status: string | null; last_run_status: string | null; last_run_started_at: Date | null;
  last_successful_finish: Date | null; last_run_duration: string | null; next_start: Date | null;
  total_runs: number; total_successes: number; total_failures: number;
}

/** Background jobs and their stats (timescaledb_information.jobs + job_stats). Needs TimescaleDB. */
export async function listJobs(sql: Sql, options: { failedOnly?: boolean } = {}): Promise<JobRow[]> {
  const rows = (await sql.unsafe(sqlFile('queries/jobs.sql'), [options.failedOnly ?? false])) as unknown as RawJob[];
  return rows.map((r) => ({
    jobId: Number(r.job_id),
    applicationName: r.application_name,
    proc: `${r.proc_schema}.${r.proc_name}`,
    scheduleInterval: r.schedule_interval,
    scheduled: r.scheduled,
    hypertable: r.hypertable_name ? `${r.hypertable_schema}.${r.hypertable_name}` : null,
    config: r.config,
    jobStatus: r.job_status,
    lastRunStatus: r.last_run_status,
    lastRunStartedAt: validDate(r.last_run_started_at),
    lastSuccessfulFinish: validDate(r.last_successful_finish),
    lastRunDuration: r.last_run_duration,
    nextStart: validDate(r.next_start),
    totalRuns: Number(r.total_runs),
    totalSuccesses: Number(r.total_successes),
    totalFailures: Number(r.total_failures),
  }));
}

/** Recent job errors, newest first. Needs TimescaleDB >= 2.15 (capabilities.features.jobErrors). */
export async function listJobErrors(sql: Sql, limit = 20): Promise<JobErrorRow[]> {
  const rows = (await sql.unsafe(sqlFile('queries/job-errors.sql'), [limit])) as unknown as {
    job_id: number; proc_schema: string | null; proc_name: string | null; start_time: Date | null;
    finish_time: Date | null; sqlerrcode: string | null; err_message: string | null;
  }[];
  return rows.map((r) => ({
    jobId: Number(r.job_id),
    proc: r.proc_name ? `${r.proc_schema}.${r.proc_name}` : null,
    startTime: validDate(r.start_time),
    finishTime: validDate(r.finish_time),
    sqlerrcode: r.sqlerrcode,
    message: r.err_message,
  }));
}

/** TimescaleDB reports "never" as -infinity; JSON and tables want null. */
function validDate(d: Date | null): Date | null {
  return d instanceof Date && Number.isFinite(d.getTime()) ? d : null;
}
