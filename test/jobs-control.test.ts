import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable } from './support/homepot.js';
import { expectReadOnlyRefusal, oneLineError, query, snapshot } from './support/assertions.js';
import { NOT_TODAY } from './support/jobs.js';

const escape = (s: string | undefined) => (s ?? '?').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('jobs run|pause|resume: a bad job id is refused before any SQL runs', () => {
  for (const [cmd, id] of [
    ['run', 'abc'],
    ['pause', '0'],
    ['resume', '1.5'],
    ['run', '-1'],
    ['pause', '99999999999999999999'],
  ]) {
    it(`jobs ${cmd} ${id}`, async () => {
      const r = await runCli(['jobs', cmd, id, '--database-url', 'postgres://u@127.0.0.1:1/db']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).not.toMatch(/connect/);
    });
  }
});

describeWithDatabase('timescale', 'jobs run, pause, resume on TimescaleDB Community', (db) => {
  let retentionJob = 0;
  let compressionJob = 0;
  let failingJob = 0;
  /** Each job's name as this server gives it (2.19: "Compression Policy [N]", 2.23+: "Columnstore Policy [N]"). */
  let names: Record<number, string> = {};
  const url = () => db().url;
  beforeAll(async () => {
    const sql = db().sql();
    await loadHypertable(sql);
    await sql.unsafe(
      `ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = '"timestamp" DESC, id')`,
    );
    // Not due today: a real scheduler would otherwise run them in the background, between
    // the snapshots and counts below (these tests run them with `jobs run`).
    const [c] = await sql.unsafe(
      `SELECT add_compression_policy('health_checks', INTERVAL '2 days', initial_start => ${NOT_TODAY}) AS id`,
    );
    const [r] = await sql.unsafe(
      `SELECT add_retention_policy('health_checks', INTERVAL '90 days', initial_start => ${NOT_TODAY}) AS id`,
    );
    await sql.unsafe(`CREATE PROCEDURE boom(job_id int, config jsonb) LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'disk on fire: cannot write %', 'archive'; END $$`);
    const [f] = await sql.unsafe(`SELECT add_job('boom', INTERVAL '1 hour', initial_start => ${NOT_TODAY}) AS id`);
    compressionJob = Number(c.id);
    retentionJob = Number(r.id);
    failingJob = Number(f.id);
    const jobs = await sql.unsafe(`SELECT job_id, application_name FROM timescaledb_information.jobs`);
    names = Object.fromEntries(jobs.map((j) => [Number(j.job_id), String(j.application_name)]));
    expect(names[compressionJob]).toMatch(new RegExp(`^(Columnstore|Compression) Policy \\[${compressionJob}\\]$`));
    await db().closeClients();
  });

  it('run --dry-run says what would run and runs nothing', async () => {
    const before = await snapshot(db());
    const r = await runCli(['--wide', 'jobs', 'run', String(compressionJob), '--dry-run', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `job ${compressionJob} (${names[compressionJob]}, public.health_checks) would run: CALL run_job(${compressionJob});`,
    );
    expect(await snapshot(db())).toEqual(before);
  });

  it('run a compression policy job: it compresses the old chunks and reports the duration', async () => {
    const r = await runCli(['jobs', 'run', String(compressionJob), '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^job ${compressionJob} \\(${escape(names[compressionJob])}, public\\.health_checks\\): succeeded in \\d+\\.\\d+ s\\n$`,
      ),
    );
    const [n] = await query(db(), `SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed`);
    expect(n.n).toBe(2);
  });

  it('run a retention policy job, --json', async () => {
    const r = await runCli(['jobs', 'run', String(retentionJob), '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({
      command: 'jobs run',
      jobId: retentionJob,
      dryRun: false,
      status: 'succeeded',
      error: null,
      statement: `CALL run_job(${retentionJob})`,
      job: { jobId: retentionJob, proc: '_timescaledb_functions.policy_retention', hypertable: 'public.health_checks' },
    });
    expect(typeof j.durationMs).toBe('number');
  });

  it('a failing job: exit 1, its error in one line', async () => {
    const r = await runCli(['jobs', 'run', String(failingJob), '--database-url', url()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    oneLineError(
      r.stderr,
      new RegExp(
        `job ${failingJob} \\(${escape(names[failingJob])}\\) failed after \\d+\\.\\d+ s: disk on fire: cannot write archive \\(SQLSTATE P0001\\)`,
      ),
    );
    const j = await runCli(['jobs', 'run', String(failingJob), '--json', '--database-url', url()]);
    expect(j.code).toBe(1);
    expect(j.json()).toMatchObject({
      status: 'failed',
      error: { message: 'disk on fire: cannot write archive', sqlstate: 'P0001' },
    });
    expect(JSON.parse(j.stderr).error).toMatchObject({ kind: 'sql-error', sqlstate: 'P0001', exitCode: 1 });
  });

  it('pause, pause again (unchanged), resume, resume again (unchanged)', async () => {
    const scheduled = async () =>
      (await query(db(), `SELECT scheduled FROM timescaledb_information.jobs WHERE job_id = ${compressionJob}`))[0]
        .scheduled;
    const id = String(compressionJob);

    const dry = await runCli(['jobs', 'pause', id, '--dry-run', '--database-url', url()]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`SELECT alter_job(${compressionJob}, scheduled => false);`);
    expect(await scheduled()).toBe(true);

    const p = await runCli(['jobs', 'pause', id, '--json', '--database-url', url()]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.json()).toMatchObject({
      command: 'jobs pause',
      jobId: compressionJob,
      scheduled: false,
      changed: true,
      steps: [{ id: 'job-schedule', outcome: 'updated', current: 'scheduled', wanted: 'paused' }],
    });
    expect(await scheduled()).toBe(false);
    const list = await runCli(['jobs', '--database-url', url()]);
    expect(list.stdout).toMatch(new RegExp(`${compressionJob}.*paused`));

    const again = await runCli(['jobs', 'pause', id, '--json', '--database-url', url()]);
    expect(again.json()).toMatchObject({ changed: false, scheduled: false, steps: [{ outcome: 'unchanged' }] });
    const human = await runCli(['jobs', 'pause', id, '--database-url', url()]);
    expect(human.stdout).toMatch(/unchanged/);
    expect(human.stderr).toMatch(/nothing to change/);

    const r = await runCli(['jobs', 'resume', id, '--json', '--database-url', url()]);
    expect(r.json()).toMatchObject({
      command: 'jobs resume',
      scheduled: true,
      changed: true,
      steps: [{ outcome: 'updated' }],
    });
    expect(await scheduled()).toBe(true);
    const r2 = await runCli(['jobs', 'resume', id, '--json', '--database-url', url()]);
    expect(r2.json()).toMatchObject({ changed: false, scheduled: true, steps: [{ outcome: 'unchanged' }] });
  });

  it('an unknown job id: exit 4 for run, pause and resume', async () => {
    for (const cmd of ['run', 'pause', 'resume']) {
      const r = await runCli(['jobs', cmd, '424242', '--database-url', url()]);
      expect(r.code, r.stderr).toBe(4);
      oneLineError(r.stderr, /job 424242 does not exist.*homepot-ts jobs lists/);
    }
  });
});

describeWithDatabase('apache', 'jobs run, pause, resume on TimescaleDB Apache edition', (db) => {
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  // Measured on 2.19.3 (Apache): run_job, alter_job and add_job all fail with 0A000, even for built-in jobs.
  it('run, pause, resume of an existing job: exit 5 naming the Community edition; nothing changes', async () => {
    const [job] = await query(db(), `SELECT min(job_id) AS id FROM timescaledb_information.jobs`);
    const before = await snapshot(db());
    for (const [cmd, fn] of [
      ['run', 'run_job'],
      ['pause', 'alter_job'],
      ['resume', 'alter_job'],
    ]) {
      const r = await runCli(['jobs', cmd, String(job.id), '--database-url', db().url]);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(5);
      oneLineError(
        r.stderr,
        new RegExp(
          `^error: jobs ${cmd} needs the TimescaleDB Community edition: ${fn}\\(\\) is not available under the Apache-2 license`,
        ),
      );
    }
    expect(await snapshot(db())).toEqual(before);
  });

  it('an unknown job id is still exit 4', async () => {
    const r = await runCli(['jobs', 'pause', '424242', '--database-url', db().url]);
    expect(r.code).toBe(4);
  });

  it('a read-only session: exit 6 before anything runs', async () => {
    await expectReadOnlyRefusal(
      db(),
      [
        ['jobs', 'run', '1'],
        ['jobs', 'pause', '1'],
        ['jobs', 'resume', '1'],
      ],
      /read-only/,
    );
  });
});
