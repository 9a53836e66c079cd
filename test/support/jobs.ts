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
