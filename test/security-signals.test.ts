import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCli, type CliResult } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { fingerprint, isHypertable, loadPlainHealthChecks, type Fingerprint } from './support/migration.js';
import { loadSource } from './support/remote-source.js';

/*
 * SIGTERM, and Ctrl-C pressed twice, must not leave the statement the CLI
 * started running on the server: an in-place migration holds ACCESS EXCLUSIVE
 * on health_checks for the whole conversion, and a backend whose client went
 * away keeps running (and keeps the lock) until the statement ends. The CLI
 * cancels its running statements, closes its connections, and exits 143 / 130.
 */

const MIGRATE = 'migrate-from-postgres';
const SLOW = 180_000;
/** Enough rows that the in-place conversion holds its lock for several seconds: 4 x 250,000. */
const ROWS = 250_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let d: TestDatabase;
let before: Fingerprint;
let table: number;

describeWithDatabase('apache', 'signals cancel the statement running on the server', () => {
  beforeAll(async () => {
    d = await createTestDatabase('apache', { label: 'security-signals' });
    await loadPlainHealthChecks(d.sql(), { rows: ROWS, days: 30, analyze: false });
    // The fixture's arithmetic stays in int4 up to ~270,000 rows: double twice, into earlier months.
    for (const months of [1, 2]) {
      await d.sql().unsafe(`
        INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, endpoint, response_data, error_message, "timestamp")
        SELECT device_id, is_healthy, response_time_ms, status_code, endpoint, response_data, error_message, "timestamp" - interval '${months * 30} days'
        FROM health_checks`);
    }
    await d.sql().unsafe(`ANALYZE health_checks`);
    before = await fingerprint(d.sql(), 'health_checks');
    const [t] = await d.sql()`SELECT 'public.health_checks'::regclass::oid::int AS oid`;
    table = t.oid as number;
  }, SLOW);
  afterAll(async () => {
    await d?.dropAndClose();
  });

  /** Start an in-place migration and resolve once it holds ACCESS EXCLUSIVE on health_checks. */
  async function startLocked() {
    // A session an earlier test left behind (on a failure) must not be taken for this run's.
    await d.sql()`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'homepot-ts%'`;
    for (const deadline = Date.now() + 30_000; ; await sleep(50)) {
      const locks = await d.sql()`SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND relation = ${table}`;
      if (locks.length === 0) break;
      if (Date.now() > deadline) throw new Error('health_checks is still locked by an earlier run');
    }
    expect(await isHypertable(d.sql(), 'health_checks')).toBe(false);
    const run = startCli([MIGRATE, '--strategy', 'in-place', '--database-url', d.url], { timeoutMs: 150_000 });
    let exitedAt = 0;
    const result = run.result.then((r) => {
      exitedAt = Date.now();
      return r;
    });
    // Wait for the conversion itself (create_hypertable moving the rows, under the lock): a
    // statement that sends nothing until it ends, so a backend whose client is gone keeps going.
    for (const deadline = Date.now() + 60_000; ; await sleep(20)) {
      const [busy] = await d.sql()`
        SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
        WHERE a.application_name LIKE 'homepot-ts%' AND a.state = 'active' AND a.query LIKE '%create_hypertable%'
          AND l.locktype = 'relation' AND l.relation = ${table} AND l.mode = 'AccessExclusiveLock' AND l.granted`;
      if (busy) break;
      if (Date.now() > deadline || run.child.exitCode !== null) {
        run.child.kill('SIGKILL');
        const r = await result;
        throw new Error(`the migration never held its lock (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      }
    }
    await sleep(300);
    return { child: run.child, result, exitedAt: () => exitedAt };
  }

  /** Within 1 s of the exit: no lock left on health_checks and no session of the CLI on the server. */
  async function expectServerLetGo(exitedAt: number): Promise<void> {
    let left: unknown[] = [];
    while (Date.now() <= exitedAt + 1000) {
      // Autovacuum may start on the table (a million rows just loaded) right after the rollback:
      // its ShareUpdateExclusiveLock is the server's own, not one the CLI left behind (seen in CI).
      const locks = await d.sql()`
        SELECT l.mode, l.pid FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'relation' AND l.relation = ${table} AND a.backend_type IS DISTINCT FROM 'autovacuum worker'`;
      const sessions = await d.sql()`
        SELECT pid, state, application_name FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'homepot-ts%'`;
      left = [...locks, ...sessions];
      if (left.length === 0) break;
      await sleep(20);
    }
    expect(left, `still on the server ${Date.now() - exitedAt} ms after the CLI exited`).toEqual([]);
    // The conversion was rolled back: still the plain table with every row.
    expect(await isHypertable(d.sql(), 'health_checks')).toBe(false);
    expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
  }

  function expectExit(r: CliResult, code: number): void {
    expect(
      r.code,
      `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    ).toBe(code);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }

  it(
    'SIGTERM during an in-place conversion: the statement is cancelled, the lock released, exit 143',
    async () => {
      const run = await startLocked();
      run.child.kill('SIGTERM');
      const r = await run.result;
      expectExit(r, 143);
      expect(r.stderr).toMatch(/^terminated \(SIGTERM\): cancelling the running statement and quitting$/m);
      expect(r.stderr).not.toMatch(/^error:/m);
      await expectServerLetGo(run.exitedAt());
    },
    SLOW,
  );

  it(
    'Ctrl-C twice during an in-place conversion: the statement is cancelled, the lock released, exit 130',
    async () => {
      const run = await startLocked();
      run.child.kill('SIGINT');
      await sleep(200);
      run.child.kill('SIGINT');
      const r = await run.result;
      expectExit(r, 130);
      expect(r.stderr).toMatch(/interrupted/);
      await expectServerLetGo(run.exitedAt());
    },
    SLOW,
  );

  it(
    'one Ctrl-C during a long single statement cancels it too (after a short grace), exit 130',
    async () => {
      const run = await startLocked();
      const pressed = Date.now();
      run.child.kill('SIGINT');
      const r = await run.result;
      expectExit(r, 130);
      expect(r.stderr).toMatch(/interrupted/);
      expect(run.exitedAt() - pressed).toBeLessThan(6_000);
      // Reported as the interruption it is, in one line, not as a failed statement.
      expect(r.stderr).toMatch(
        /^error: interrupted: the statement running on the server was cancelled, and its transaction rolled back\. /m,
      );
      expect(r.stderr).not.toMatch(/SQLSTATE|statement_timeout/);
      await expectServerLetGo(run.exitedAt());
    },
    SLOW,
  );
});

describeWithDatabase('postgres', 'signals cancel the statement running on the --source server too', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 2_000 });
    await source().closeClients();
    target = await createTestDatabase('apache', { label: 'security-signals-target' });
  }, SLOW);
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it(
    'SIGTERM while a --source read waits on the source: cancelled there, no session of the CLI left, exit 143',
    async () => {
      // Someone else holds health_checks on the source: the CLI's read of it waits, as a long statement would run.
      const holder = source().connect({ max: 1 });
      const held = await holder.reserve();
      await held`BEGIN`;
      await held`LOCK TABLE health_checks IN ACCESS EXCLUSIVE MODE`;
      const run = startCli(['migrate-from-postgres', '--source', source().url, '--database-url', target.url], {
        timeoutMs: 120_000,
      });
      let exitedAt = 0;
      const result = run.result.then((r) => {
        exitedAt = Date.now();
        return r;
      });
      try {
        const watcher = source().connect({ max: 1 });
        for (const deadline = Date.now() + 60_000; ; await sleep(20)) {
          const [waiting] = await watcher`
          SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'homepot-ts%' AND state = 'active' AND wait_event_type = 'Lock'`;
          if (waiting) break;
          if (Date.now() > deadline || run.child.exitCode !== null) {
            run.child.kill('SIGKILL');
            const r = await result;
            throw new Error(`the copy never waited on the source (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
          }
        }
        run.child.kill('SIGTERM');
        const r = await result;
        expect(r.code, `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n${r.stderr}`).toBe(143);
        // Within 1 s of the exit, while the lock is still held: the CLI's sessions on the source are gone.
        let left: unknown[] = [];
        while (Date.now() <= exitedAt + 1000) {
          left = [
            ...(await watcher`SELECT pid, state, wait_event_type FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'homepot-ts%'`),
          ];
          if (left.length === 0) break;
          await sleep(20);
        }
        expect(left, `still on the source ${Date.now() - exitedAt} ms after the CLI exited`).toEqual([]);
      } finally {
        await held`ROLLBACK`.catch(() => {});
        held.release();
        await source().closeClients();
      }
    },
    SLOW,
  );
});
