/**
 * Tests and a real TimescaleDB job scheduler. The embedded database runs no
 * scheduler; a real Community server starts a new policy's job at once and
 * then on its schedule, in the background. A test must not depend on such a
 * run succeeding (on this machine they fail: "cannot drop portal") nor on it
 * not happening, so tests that create jobs start them a day from now, and
 * tests whose policy the CLI creates hold it with `holdJobs` before comparing
 * snapshots or counting chunks.
 */
import type { TestDatabase } from './databases.js';

/** initial_start for jobs a test creates itself: scheduled, but not due while the file runs. */
export const NOT_TODAY = `now() + INTERVAL '1 day'`;

/**
 * Move the next start of the database's own jobs (id >= 1000) a day ahead,
 * keeping them scheduled, and wait until none of them is running (a run that
 * started before is waited for, and the next start set again after it).
 */
export async function holdJobs(db: TestDatabase, opts: { internal?: boolean } = {}): Promise<void> {
  const timeoutMs = 60_000;
  const deadline = Date.now() + timeoutMs;
  // internal: TimescaleDB's own jobs too (e.g. job 3, the job-history retention, runs on a real server).
  const mine = opts.internal ? 'true' : 'job_id >= 1000';
  const sql = db.sql();
  try {
    for (;;) {
      await sql.unsafe(
        `SELECT alter_job(job_id, next_start => ${NOT_TODAY}) FROM timescaledb_information.jobs WHERE ${mine}`,
      );
      const [s] = await sql.unsafe<{ busy: number }[]>(
        `SELECT count(*)::int AS busy FROM timescaledb_information.job_stats
         WHERE ${mine} AND (job_status = 'Running' OR next_start < now() + INTERVAL '23 hours')`,
      );
      if (s?.busy === 0) return;
      if (Date.now() > deadline) throw new Error(`holdJobs: a job of ${db.name} kept running for ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await db.closeClients();
  }
}

/** The job's last start as job_stats has it (null: never ran; 2.28 says -infinity). */
export async function lastRunStartedAt(db: TestDatabase, jobId: number): Promise<string | null> {
  const [row] = await db
    .sql()
    .unsafe<{ t: Date | null }[]>(
      `SELECT NULLIF(last_run_started_at, '-infinity') AS t FROM timescaledb_information.job_stats WHERE job_id = $1`,
      [jobId],
    );
  await db.closeClients();
  return row?.t ? new Date(row.t).toISOString() : null;
}

/** Jobs whose last run failed, as job_stats has it (what `jobs --failed` and status's warning read). */
export async function failedJobs(db: TestDatabase): Promise<number[]> {
  const rows = await db
    .sql()
    .unsafe<{ job_id: number }[]>(
      `SELECT job_id FROM timescaledb_information.job_stats WHERE last_run_status = 'Failed' ORDER BY 1`,
    );
  await db.closeClients();
  return rows.map((r) => Number(r.job_id));
}

/**
 * Wait (up to 30 s) until TimescaleDB's scheduler for this database shows in
 * pg_stat_activity: the launcher starts it soon after CREATE EXTENSION, and
 * a check made before would rightly say there is none.
 */
export async function waitForScheduler(db: TestDatabase): Promise<void> {
  const sql = db.sql();
  for (let i = 0; i < 150; i++) {
    const [r] = await sql.unsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE backend_type = 'TimescaleDB Background Worker Scheduler' AND datname = current_database()`,
    );
    if ((r?.n ?? 0) > 0) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`waitForScheduler: no TimescaleDB scheduler for ${db.name} after 30 s`);
}

/**
 * Record a failed background run of `jobId` the way TimescaleDB's scheduler
 * does (its job_stat and job_stat_history catalog rows, TimescaleDB 2.15+),
 * for servers without a scheduler (the embedded database): a foreground
 * run_job writes neither, so this is the only way to have one there.
 */
export async function recordFailedRun(
  db: TestDatabase,
  jobId: number,
  sqlerrcode: string,
  message: string,
): Promise<void> {
  const sql = db.sql();
  await sql.unsafe(
    `INSERT INTO _timescaledb_internal.bgw_job_stat
       (job_id, last_start, last_finish, next_start, last_successful_finish, last_run_success, total_runs,
        total_duration, total_duration_failures, total_successes, total_failures, total_crashes,
        consecutive_failures, consecutive_crashes, flags)
     VALUES ($1, now() - INTERVAL '1 minute', now(), now() + INTERVAL '1 day', '-infinity', false, 1,
             INTERVAL '1 second', INTERVAL '1 second', 0, 1, 0, 1, 0, 0)
     ON CONFLICT (job_id) DO UPDATE SET last_run_success = false, last_finish = now(),
       total_runs = bgw_job_stat.total_runs + 1, total_failures = bgw_job_stat.total_failures + 1,
       consecutive_failures = bgw_job_stat.consecutive_failures + 1`,
    [jobId],
  );
  await sql.unsafe(
    `INSERT INTO _timescaledb_internal.bgw_job_stat_history (job_id, pid, execution_start, execution_finish, succeeded, data)
     SELECT $1, 0, now() - INTERVAL '1 minute', now(), false,
            jsonb_build_object('job', to_jsonb(j), 'error_data', jsonb_build_object('sqlerrcode', $2::text, 'message', $3::text))
     FROM _timescaledb_config.bgw_job j WHERE j.id = $1`,
    [jobId, sqlerrcode, message],
  );
  await db.closeClients();
}
