import type { Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { hasFeature } from '../db/features.js';
import { query } from '../db/sql.js';
import { commonJobError, listFailingJobs } from '../steps/job-failures.js';
import { ago, checker, command, plural, type DoctorCheck } from './check.js';
import { schedulerNotApplicable } from './server.js';

/**
 * Jobs: overdue (next start in the past by more than the schedule interval),
 * never run long after they were due, failing (with the latest error), and
 * all failing with one error (the server's fault: said once, with the cron
 * advice). SQL in sql/doctor/jobs.sql and sql/steps/latest-job-errors.sql.
 */

export interface JobFacts {
  job_id: number;
  application_name: string;
  proc: string;
  scheduled: boolean;
  schedule_interval: string | null;
  total_runs: number;
  total_failures: number;
  last_run_status: string | null;
  job_status: string | null;
  next_start: Date | null;
  due_seconds: string | number | null;
  schedule_seconds: string | number | null;
}

const c = checker('jobs');

export async function readJobs(sql: Sql, caps: Capabilities): Promise<JobFacts[]> {
  return caps.timescaledb.installedVersion ? await query<JobFacts>(sql, 'doctor/jobs.sql') : [];
}

/** Due for longer than its schedule interval (at least a minute), and not running now. */
function late(j: JobFacts): boolean {
  const due = Number(j.due_seconds ?? 0);
  return j.scheduled && j.job_status !== 'Running' && due > Math.max(60, Number(j.schedule_seconds ?? 0));
}

export async function jobChecks(sql: Sql, caps: Capabilities, jobs: JobFacts[]): Promise<DoctorCheck[]> {
  const ids = ['jobs-overdue', 'jobs-never-run', 'jobs-failing', 'jobs-common-error'];
  if (!caps.timescaledb.installedVersion) return ids.map((id) => c.na(id, 'TimescaleDB is not installed here'));
  const out: DoctorCheck[] = [];
  const na = schedulerNotApplicable(caps);
  if (na) out.push(c.na('jobs-overdue', na), c.na('jobs-never-run', na));
  else out.push(...lateChecks(jobs));
  out.push(...(await failureChecks(sql, caps)));
  return out;
}

function lateChecks(jobs: JobFacts[]): DoctorCheck[] {
  const overdue = jobs.filter((j) => late(j) && j.total_runs > 0);
  const never = jobs.filter((j) => late(j) && j.total_runs === 0);
  const list = (js: JobFacts[]) =>
    js.map((j) => ({ jobId: j.job_id, name: j.application_name, dueFor: ago(Number(j.due_seconds)) }));
  // The cause is the scheduler or its workers (their checks above say which); this runs them now.
  const fix = (js: JobFacts[]) => command(js.map((j) => `homepot-ts jobs run ${j.job_id}`).join('\n'));
  return [
    overdue.length === 0
      ? c.ok('jobs-overdue', 'no job is overdue', { overdue: [] })
      : c.problem(
          'jobs-overdue',
          `${plural(overdue.length, 'job')} overdue (${overdue.map((j) => j.job_id).join(', ')}), oldest due ${ago(Math.max(...overdue.map((j) => Number(j.due_seconds))))} ago`,
          { overdue: list(overdue) },
          fix(overdue),
        ),
    never.length === 0
      ? c.ok('jobs-never-run', 'every due job has run', { neverRun: [] })
      : c.problem(
          'jobs-never-run',
          `${plural(never.length, 'job')} never ran though due (${never.map((j) => j.job_id).join(', ')})`,
          { neverRun: list(never) },
          fix(never),
        ),
  ];
}

async function failureChecks(sql: Sql, caps: Capabilities): Promise<DoctorCheck[]> {
  // TimescaleDB's own job-history retention needs the Community license: on the
  // Apache edition it fails every run, harmlessly (status says so too).
  const apache = !hasFeature(caps, 'community');
  const all = await listFailingJobs(sql, caps.features.jobErrors);
  const failing = all.filter((j) => !(apache && j.proc.endsWith('.policy_job_stat_history_retention')));
  const found = {
    failing: failing.map((j) => ({
      jobId: j.jobId,
      name: j.applicationName,
      totalFailures: j.totalFailures,
      totalRuns: j.totalRuns,
      sqlerrcode: j.sqlerrcode,
      message: j.message,
    })),
    expectedOnApache: all.length - failing.length,
  };
  const common = commonJobError(failing);
  const first = failing[0];
  const out: DoctorCheck[] = [];
  if (!first) out.push(c.ok('jobs-failing', 'no job failed on its last run', found));
  else
    out.push(
      c.problem(
        'jobs-failing',
        failing.length === 1
          ? `job ${first.jobId} failed ${plural(first.totalFailures, 'time')}: ${first.message ?? 'see jobs errors'}`
          : `${plural(failing.length, 'job')} failed on the last run (${failing.map((j) => j.jobId).join(', ')})`,
        found,
        command(common ? `homepot-ts jobs run ${first.jobId}` : 'homepot-ts jobs errors'),
      ),
    );
  if (!caps.features.jobErrors) out.push(c.na('jobs-common-error', 'this TimescaleDB keeps no job errors (< 2.15)'));
  else if (!common) out.push(c.ok('jobs-common-error', 'failing jobs do not share one error', { commonError: null }));
  else
    out.push(
      c.problem(
        'jobs-common-error',
        `every failing job fails with ${common.sqlerrcode ?? 'one error'}: ${common.message}; ${common.advice}`,
        { commonError: common },
        command(common.jobIds.map((id) => `*/15 * * * * homepot-ts jobs run ${id} --quiet`).join('\n')),
      ),
    );
  return out;
}

export function scheduledJobCount(jobs: JobFacts[]): number {
  return jobs.filter((j) => j.scheduled).length;
}
