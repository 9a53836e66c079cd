import { beforeAll, expect, it } from 'vitest';
import { listJobErrors, listJobs } from '../src/jobs.js';
import { getStatus } from '../src/status.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable } from './support/homepot.js';
import { failedJobs, holdJobs, NOT_TODAY } from './support/jobs.js';

describeWithDatabase('timescale', 'jobs on TimescaleDB Community', (db) => {
  let retentionJob = 0;
  beforeAll(async () => {
    const sql = db().sql();
    await loadHypertable(sql);
    // Not due today: a real scheduler would run it at once, and its outcome (it fails on this
    // machine: "cannot drop portal") would decide what "failures" and --failed show.
    const [row] = await sql.unsafe(
      `SELECT add_retention_policy('health_checks', INTERVAL '90 days', initial_start => ${NOT_TODAY}) AS id`,
    );
    retentionJob = Number(row.id);
    await db().closeClients();
    // TimescaleDB's own jobs run on a real server (and fail on this machine): hold them too.
    await holdJobs(db(), { internal: true });
  });

  it('library and CLI list the policy job with its schedule and config', async () => {
    const jobs = await listJobs(db().sql());
    await db().closeClients();
    const job = jobs.find((j) => j.jobId === retentionJob);
    expect(job).toMatchObject({
      proc: '_timescaledb_functions.policy_retention',
      hypertable: 'public.health_checks',
      scheduled: true,
      totalFailures: 0,
    });
    expect(job!.config).toMatchObject({ drop_after: '90 days' });

    const r = await runCli(['jobs', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().jobs.map((j: any) => j.jobId)).toContain(retentionJob);
    const human = await runCli(['jobs', '--wide', '--database-url', db().url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Retention Policy');
    expect(human.stdout).toContain('public.health_checks');
    // --failed lists the jobs whose last run failed: none of ours; on a real server TimescaleDB's
    // own jobs may have run (and failed) before they were held. None on the embedded server.
    const failed = await runCli(['jobs', '--failed', '--json', '--database-url', db().url]);
    const ids = failed.json().jobs.map((j: any) => j.jobId);
    expect(ids).toEqual(await failedJobs(db()));
    expect(ids).not.toContain(retentionJob);
    if (db().source === 'embedded') expect(ids).toEqual([]);
  });

  it('a job due longer ago than its schedule interval is overdue, and status warns about it', async () => {
    // In one transaction, rolled back: the scheduler of a real server never sees the job due.
    const rolledBack = new Error('rolled back');
    const outcome = db()
      .sql()
      .begin(async (tx) => {
        const before = await listJobs(tx as any);
        expect(before.find((j) => j.jobId === retentionJob)?.overdue).toBe(false);
        await tx.unsafe(`SELECT alter_job(${retentionJob}, next_start => now() - INTERVAL '3 days')`);
        const jobs = await listJobs(tx as any);
        expect(jobs.filter((j) => j.overdue).map((j) => j.jobId)).toEqual([retentionJob]);
        const status = await getStatus(tx as any);
        expect(status.warnings.join('\n')).toMatch(
          new RegExp(`1 background job is overdue \\(${retentionJob}\\): .*max_background_workers`),
        );
        throw rolledBack;
      });
    await expect(outcome).rejects.toBe(rolledBack);
    await db().closeClients();
  });
});

describeWithDatabase('apache', 'jobs on TimescaleDB Apache edition, with a real failing job', (db) => {
  beforeAll(async () => {
    const sql = db().sql();
    await loadHypertable(sql);
    // Job 3, TimescaleDB's own job-history retention, needs the Community
    // license: on the Apache edition the real scheduler runs it and it fails
    // with 0A000. Bring its start forward and wait for the scheduler.
    await sql.unsafe(
      `UPDATE _timescaledb_config.bgw_job SET initial_start = now() WHERE proc_name = 'policy_job_stat_history_retention'`,
    );
    const deadline = Date.now() + 45_000;
    for (;;) {
      const [s] = await sql.unsafe(
        `SELECT count(*)::int AS n FROM timescaledb_information.job_stats WHERE last_run_status = 'Failed'`,
      );
      if (s.n > 0) break;
      if (Date.now() > deadline) throw new Error('the TimescaleDB scheduler did not run the job within 45 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    await db().closeClients();
  }, 60_000);

  it('jobs --failed lists only the failing job; jobs errors shows its error', async () => {
    const all = (await runCli(['jobs', '--json', '--database-url', db().url])).json().jobs;
    expect(all.length).toBeGreaterThan(1);
    const failed = await runCli(['jobs', '--failed', '--json', '--database-url', db().url]);
    expect(failed.code, failed.stderr).toBe(0);
    const jobs = failed.json().jobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      lastRunStatus: 'Failed',
      totalFailures: 1,
      proc: '_timescaledb_functions.policy_job_stat_history_retention',
    });

    const errors = await runCli(['jobs', 'errors', '--json', '--database-url', db().url]);
    expect(errors.code, errors.stderr).toBe(0);
    expect(errors.json().jobErrors[0]).toMatchObject({ jobId: jobs[0].jobId, sqlerrcode: '0A000' });
    expect(errors.json().jobErrors[0].message).toMatch(/apache/);
    const lib = await listJobErrors(db().sql(), 5);
    await db().closeClients();
    expect(lib[0]?.sqlerrcode).toBe('0A000');

    const human = await runCli(['jobs', 'errors', '--database-url', db().url]);
    expect(human.stdout).toContain('0A000');
    const status = await runCli(['status', '--json', '--database-url', db().url]);
    const j = status.json();
    expect(j.jobErrors[0].sqlerrcode).toBe('0A000');
    expect(j.warnings.join(' ')).toMatch(/job.*failed.*expected on the Apache edition/);
  });
});

describeWithDatabase('postgres-bare', 'jobs without TimescaleDB', (db) => {
  it('exit 5 with what to install', async () => {
    const r = await runCli(['jobs', '--database-url', db().url]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^error: jobs needs TimescaleDB/);
    const e = await runCli(['jobs', 'errors', '--database-url', db().url]);
    expect(e.code).toBe(5);
  });
});
