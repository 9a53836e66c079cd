/**
 * migrate-from-postgres --source: HOMEPOT's tables copied from a plain
 * PostgreSQL server (the 'postgres' flavour) into TimescaleDB (Apache edition,
 * and the embedded Community database), compared row by row on both servers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { oneLineError, snapshot } from './support/assertions.js';
import { runCli as run, startCli, type CliResult } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { loadPlainRows, publicTables } from './support/homepot.js';
import { duplicateKeys, fingerprints, insertChecks, loadSource, migrateArgs, on } from './support/remote-source.js';

const TABLES = ['health_checks', 'devices', 'sites'];

/** The CLI, killed after 40 s: a hang fails the test with the CLI's output instead of a bare timeout. */
function runCli(args: string[]): Promise<CliResult> {
  return run(args, { timeoutMs: 40_000 });
}

/** Count and checksum of each relation on both servers (TimeZone UTC on both): equal, and not empty. */
async function expectSameRows(source: TestDatabase, target: TestDatabase, relations = TABLES): Promise<number> {
  const expected = await fingerprints(source.sql(), relations);
  await source.closeClients();
  const actual = await fingerprints(target.sql(), relations);
  await target.closeClients();
  expect(actual).toEqual(expected);
  for (const r of relations) expect(expected[r].rows, r).toBeGreaterThan(0);
  return expected.health_checks?.rows ?? 0;
}

async function expectNoDuplicates(target: TestDatabase): Promise<void> {
  const n = await duplicateKeys(target.sql());
  await target.closeClients();
  expect(n, 'duplicate (id, "timestamp") on the target').toBe(0);
}

describeWithDatabase('postgres', 'migrate-from-postgres --source into the Apache edition', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 40_000 });
    // The first copy reads as a role that really authenticates with a password (see "no password kept").
    expect(source().passwordUrl, 'the postgres flavour has a password role').toBeTruthy();
    const reader = new URL(source().passwordUrl!).username;
    await source().sql().unsafe(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${reader}";
      GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "${reader}"`);
    await source().closeClients();
    target = await createTestDatabase('apache', { label: 'migrate-remote-target' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('--dry-run prints the plan (tables, hypertable, COPY) and creates nothing on the target', async () => {
    const before = await snapshot(target);
    const r = await runCli(['--wide', ...migrateArgs(source().url, target.url, '--dry-run')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /CREATE TABLE public\.health_checks \(id integer DEFAULT nextval\('health_checks_id_seq'::regclass\) NOT NULL/,
    );
    expect(r.stdout).toMatch(/CREATE TABLE public\.devices /);
    expect(r.stdout).toMatch(
      /SELECT create_hypertable\('public\.health_checks'::regclass, by_range\('timestamp', '7 days'::interval\)\);/,
    );
    expect(r.stdout).toMatch(/COPY \(SELECT id, device_id, .* FROM public\.health_checks WHERE ctid >= /);
    expect(r.stdout).toMatch(/COPY pg_temp\.homepot_ts_stage \(id, device_id, .*\) FROM STDIN;/);
    expect(r.stdout).toMatch(
      /INSERT INTO public\.health_checks \(id, device_id, .*\) OVERRIDING SYSTEM VALUE SELECT .* FROM pg_temp\.homepot_ts_stage ON CONFLICT DO NOTHING;/,
    );
    expect(r.stderr).toMatch(/dry run: nothing was changed/);
    const j = (await runCli(migrateArgs(source().url, target.url, '--dry-run', '--json'))).json();
    expect(j).toMatchObject({
      outcome: 'planned',
      strategy: 'remote',
      dryRun: true,
      changed: false,
      verification: null,
    });
    expect(j.plan.map((s: { id: string }) => s.id)).toEqual(['extension', 'schema', 'dependencies', 'copy', 'verify']);
    expect(await publicTables(target.sql())).toEqual([]);
    await target.closeClients();
    expect(await snapshot(target)).toEqual(before);
  });

  it("creates the tables from the source's catalog, copies every row, verifies, and advances the sequences", async () => {
    const r = await runCli(migrateArgs(source().passwordUrl!, target.url, '--json', '--batch-rows', '10000'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(source().password!);
    const j = r.json();
    expect(j).toMatchObject({
      outcome: 'migrated',
      strategy: 'remote',
      changed: true,
      resumed: false,
      edition: 'apache',
    });
    expect(j.verification).toMatchObject({ ok: true, rows: 40_000, mismatches: [] });
    expect(j.verification.windows).toBeGreaterThan(100); // hourly windows over 5 days
    expect(j.copied.rows).toBe(40_000);
    expect(j.copied.batches).toBeGreaterThan(2);

    expect(await expectSameRows(source(), target)).toBe(40_000);
    const [facts] = await on(
      target,
      `
      SELECT (SELECT count(*)::int FROM timescaledb_information.hypertables WHERE hypertable_name = 'health_checks') AS hypertables,
             (SELECT count(*)::int FROM timescaledb_information.dimensions WHERE hypertable_name = 'health_checks' AND column_name = 'timestamp') AS time_dimension,
             (SELECT array_agg(indexname::text ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'health_checks') AS indexes,
             (SELECT pg_get_indexdef('public.idx_health_checks_device_time'::regclass)) AS device_time,
             (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'public.health_checks'::regclass AND contype = 'p') AS pk,
             (SELECT array_agg(pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint WHERE conrelid = 'public.health_checks'::regclass AND contype = 'f') AS fks,
             (SELECT array_agg(pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint WHERE conrelid = 'public.devices'::regclass AND contype = 'f') AS device_fks,
             nextval('health_checks_id_seq')::bigint AS next_check, nextval('devices_id_seq')::bigint AS next_device`,
    );
    expect(facts).toMatchObject({
      hypertables: 1,
      time_dimension: 1,
      // and health_checks_timestamp_idx, which create_hypertable adds by default
      indexes: expect.arrayContaining(['health_checks_pkey', 'idx_health_checks_device_time']),
      pk: 'PRIMARY KEY (id, "timestamp")',
      fks: ['FOREIGN KEY (device_id) REFERENCES devices(id)'],
      device_fks: ['FOREIGN KEY (site_id) REFERENCES sites(id)'],
    });
    expect(facts.device_time).toMatch(/USING btree \(device_id, "timestamp" DESC\)/);
    const [max] = await on(
      source(),
      `SELECT (SELECT max(id) FROM health_checks)::bigint AS checks, (SELECT max(id) FROM devices)::bigint AS devices`,
    );
    expect(BigInt(facts.next_check)).toBeGreaterThan(BigInt(max!.checks));
    expect(BigInt(facts.next_device)).toBeGreaterThan(BigInt(max!.devices));
    const [state] = await on(
      target,
      `SELECT strategy, source, next_block, total_blocks, rows_copied::int AS rows_copied FROM homepot_ts.migration WHERE table_name = 'health_checks'`,
    );
    expect(state).toMatchObject({ strategy: 'remote', rows_copied: 40_000 });
    expect(state!.next_block).toBe(state!.total_blocks);
    // no password kept: the source is recorded with its password replaced
    const shown = new URL(source().passwordUrl!);
    shown.password = '***';
    expect(state!.source).toBe(shown.toString());
    expect(state!.source).not.toContain(source().password!);
  });

  it('a rerun with nothing new changes nothing', async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      outcome: 'migrated',
      changed: false,
      resumed: true,
      copied: { rows: 0 },
      verification: { ok: true, rows: 40_000 },
    });
    const human = await runCli(migrateArgs(source().url, target.url));
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/counts and checksums match/);
    await expectSameRows(source(), target);
    // On the target, the same-database command sees a hypertable (the copy's state is no online migration),
    // status explains the state row, and abort refuses (it would mean dropping the copy).
    const here = await runCli(['migrate-from-postgres', '--json', '--database-url', target.url]);
    expect(here.code, here.stderr).toBe(0);
    expect(here.json()).toMatchObject({ outcome: 'already-hypertable', changed: false });
    const status = await runCli(['status', '--json', '--database-url', target.url]);
    expect(status.json().warnings.join('\n')).toMatch(/copied here from another server .*cleanup forgets/);
    const abort = await runCli(['migrate-from-postgres', 'abort', '--database-url', target.url]);
    expect(abort.code).toBe(2);
    expect(abort.stderr).toMatch(
      /^error: .*copied here from another server \(--source\): there is no online migration to abort/,
    );
  });

  it('catches up new, late, updated and deleted rows, a new and a changed device; never overwrites a row only the target changed', async () => {
    await on(
      source(),
      `
      INSERT INTO devices (device_id, name, device_type, site_id) VALUES ('src-dev-new', 'New device', 'kiosk', (SELECT id FROM sites WHERE site_id = 'SITE-B'));
      UPDATE devices SET status = 'maintenance' WHERE device_id = 'src-dev-2';`,
    );
    await insertChecks(source().sql(), {
      rows: 600,
      from: `now() - interval '20 minutes'`,
      span: `interval '20 minutes'`,
      salt: 1,
    });
    await insertChecks(source().sql(), {
      rows: 300,
      from: `now() - interval '3 days 2 hours'`,
      span: `interval '1 hour'`,
      salt: 2,
    });
    await on(
      source(),
      `
      INSERT INTO health_checks (device_id, is_healthy, response_data, "timestamp")
        SELECT (SELECT id FROM devices WHERE device_id = 'src-dev-new'), true, '{"new": "device\\ttab"}', now() - i * interval '1 second' FROM generate_series(1, 50) i;
      UPDATE health_checks SET is_healthy = NOT is_healthy, response_data = '{"updated": true}', error_message = E'upd\\t\\\\' WHERE id % 400 = 7;
      DELETE FROM health_checks WHERE id % 500 = 3;`,
    );
    await on(target, `UPDATE devices SET name = 'renamed on the target' WHERE device_id = 'src-dev-3'`);

    const r = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '10000'));
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({
      outcome: 'migrated',
      changed: true,
      resumed: true,
      verification: { ok: true, mismatches: [] },
    });
    expect(j.copied.rows).toBeGreaterThan(0);

    const keep = `(SELECT * FROM devices WHERE device_id <> 'src-dev-3')`;
    const rows = await expectSameRows(source(), target, ['health_checks', 'sites', keep]);
    expect(rows).toBe(40_000 + 600 + 300 + 50 - 82); // 82 ids of 1..40950 are 3 mod 500
    expect(j.verification.rows).toBe(rows);
    await expectNoDuplicates(target);
    const devices = await on(
      target,
      `SELECT device_id, name, status FROM devices WHERE device_id IN ('src-dev-new', 'src-dev-2', 'src-dev-3') ORDER BY 1`,
    );
    expect(devices).toEqual([
      { device_id: 'src-dev-2', name: 'Device 2', status: 'maintenance' }, // changed on the source after the first copy: carried
      { device_id: 'src-dev-3', name: 'renamed on the target', status: 'online' }, // changed here only: kept
      { device_id: 'src-dev-new', name: 'New device', status: 'online' },
    ]);
  });

  it("cleanup forgets the copy's state; after that a --source run refuses to copy into the rows (nothing doubled)", async () => {
    const dry = await runCli(['migrate-from-postgres', 'cleanup', '--dry-run', '--database-url', target.url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(
      `DELETE FROM homepot_ts.migration WHERE schema_name = 'public' AND table_name = 'health_checks';`,
    );
    const [kept] = await on(target, `SELECT to_regclass('homepot_ts.migration')::text AS t`);
    expect(kept!.t).toBe('homepot_ts.migration');
    const r = await runCli(['migrate-from-postgres', 'cleanup', '--database-url', target.url]);
    expect(r.code, r.stderr).toBe(0);
    const [gone] = await on(
      target,
      `SELECT to_regclass('homepot_ts.migration')::text AS t, (SELECT count(*)::int FROM health_checks) AS n`,
    );
    expect(gone!.t).toBeNull();
    const again = await runCli(migrateArgs(source().url, target.url));
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already holds rows/);
    const [same] = await on(target, `SELECT count(*)::int AS n FROM health_checks`);
    expect(same!.n).toBe(gone!.n);
  });
});

describeWithDatabase(
  'postgres',
  'migrate-from-postgres --source while HOMEPOT keeps writing to the source',
  (source) => {
    let target: TestDatabase;
    beforeAll(async () => {
      await loadSource(source().sql(), { rows: 30_000 });
      await source().closeClients();
      target = await createTestDatabase('apache', { label: 'migrate-remote-writes' });
    });
    afterAll(async () => {
      await target?.dropAndClose();
    });

    it('rows written during the copy are all there after one more run, none doubled', async () => {
      const writer = source().connect();
      let stop = false;
      let written = 0;
      const writing = (async () => {
        while (!stop) {
          await writer.unsafe(`
          INSERT INTO health_checks (device_id, is_healthy, response_time_ms, response_data, error_message, "timestamp")
          SELECT id, true, 42, '{"live": "w\\t${written}"}', E'live\\n${written}', clock_timestamp() FROM devices WHERE device_id = 'src-dev-${1 + (written % 12)}'`);
          written++;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      let first;
      try {
        first = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '1000'));
      } finally {
        stop = true;
        await writing;
      }
      const during = written;
      expect(first.code, first.stderr).toBe(0);
      expect(['migrated', 'copied']).toContain(first.json().outcome);
      expect(first.json().copied.batches).toBeGreaterThan(10);
      expect(during, 'the writer wrote while the CLI ran').toBeGreaterThan(20);

      const again = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '1000'));
      expect(again.code, again.stderr).toBe(0);
      expect(again.json()).toMatchObject({
        outcome: 'migrated',
        resumed: true,
        verification: { ok: true, mismatches: [] },
      });
      expect(await expectSameRows(source(), target)).toBe(30_000 + during);
      await expectNoDuplicates(target);
    });
  },
);

describeWithDatabase('postgres', 'migrate-from-postgres --source killed in the middle of the copy', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 40_000 });
    await source().closeClients();
    target = await createTestDatabase('apache', { label: 'migrate-remote-kill' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('kill -9 between batches, then a rerun continues where it stopped', async () => {
    const { child, result: done } = startCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '500'), {
      timeoutMs: 40_000,
    });
    const poll = target.connect();
    let seen = 0;
    const deadline = Date.now() + 30_000;
    try {
      while (Date.now() < deadline && child.exitCode === null) {
        const rows = await poll
          .unsafe(`SELECT next_block::int AS next_block FROM homepot_ts.migration WHERE table_name = 'health_checks'`)
          .catch(() => []);
        seen = rows[0]?.next_block ?? 0;
        if (seen > 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill('SIGKILL');
    } finally {
      await poll.end({ timeout: 5 });
    }
    const killed = await done;
    expect(killed.signal, `the CLI ended before it was killed: ${killed.stderr}`).toBe('SIGKILL');
    expect(seen).toBeGreaterThan(0);
    const [state] = await on(
      target,
      `SELECT next_block::int AS next_block, total_blocks::int AS total_blocks, rows_copied::int AS rows_copied, (SELECT count(*)::int FROM health_checks) AS rows FROM homepot_ts.migration WHERE table_name = 'health_checks'`,
    );
    expect(state!.next_block).toBeLessThan(state!.total_blocks); // killed in the middle
    expect(state!.rows).toBe(state!.rows_copied); // the batch in flight was rolled back with its state update
    expect(state!.rows).toBeLessThan(40_000);

    const r = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '500'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      outcome: 'migrated',
      resumed: true,
      changed: true,
      verification: { ok: true, rows: 40_000, mismatches: [] },
    });
    expect(r.json().copied.rows).toBe(40_000 - state!.rows); // continued, not started over
    expect(await expectSameRows(source(), target)).toBe(40_000);
    await expectNoDuplicates(target);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source into the Community edition', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 20_000, days: 3 });
    await source().closeClients();
    target = await createTestDatabase('timescale');
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('copies (in JSON batches into the embedded server, through COPY into a real one), verifies, and the rows are equal', async () => {
    // What the target is (the embedded build reports emscripten), not which source the harness says serves the flavour.
    const [kind] = await on(target, `SELECT version() ~* 'emscripten' AS embedded`);
    await target.closeClients();
    const plan = await runCli(['--wide', ...migrateArgs(source().url, target.url, '--dry-run')]);
    expect(plan.code, plan.stderr).toBe(0);
    if (kind!.embedded)
      expect(plan.stdout).toMatch(
        /INSERT INTO public\.health_checks \(.*\) OVERRIDING SYSTEM VALUE SELECT .*response_data::json.* FROM json_to_recordset\(\$1::text::json\) AS x\(.*response_data text.*\) ON CONFLICT DO NOTHING;/,
      );
    else {
      expect(plan.stdout).toMatch(/COPY pg_temp\.homepot_ts_stage \(id, device_id, .*\) FROM STDIN;/);
      expect(plan.stdout).not.toMatch(/INSERT INTO public\.health_checks .*json_to_recordset/);
    }
    const r = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '5000'));
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({
      outcome: 'migrated',
      changed: true,
      edition: 'community',
      copied: { rows: 20_000 },
      verification: { ok: true, rows: 20_000, mismatches: [] },
    });
    expect(j.copied.batches).toBeGreaterThan(2);
    expect(await expectSameRows(source(), target)).toBe(20_000);
    const [ht] = await on(
      target,
      `SELECT count(*)::int AS n FROM timescaledb_information.hypertables WHERE hypertable_name = 'health_checks'`,
    );
    expect(ht!.n).toBe(1);
    const again = await runCli(migrateArgs(source().url, target.url, '--json'));
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ outcome: 'migrated', changed: false, copied: { rows: 0 } });
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source: errors change nothing', (empty) => {
  let source: TestDatabase;
  let target: TestDatabase;
  let busy: TestDatabase;
  beforeAll(async () => {
    source = await createTestDatabase('postgres', { label: 'migrate-remote-errors-source' });
    await loadSource(source.sql(), { rows: 2_000 });
    await source.closeClients();
    target = await createTestDatabase('apache', { label: 'migrate-remote-errors-target' });
    busy = await createTestDatabase('apache', { label: 'migrate-remote-errors-busy' });
    await loadPlainRows(busy.sql());
    await busy.closeClients();
  });
  afterAll(async () => {
    await Promise.all([source, target, busy].map((d) => d?.dropAndClose()));
  });

  it('a wrong source password: exit 3, "source server:", and the password never shows (also --json, --debug)', async () => {
    expect(source.passwordUrl, 'the postgres flavour has a password role').toBeTruthy();
    const password = source.password!;
    const url = new URL(source.passwordUrl!);
    url.password = encodeURIComponent(password + 'x');
    const before = await snapshot(target);
    for (const extra of [[], ['--json'], ['--debug'], ['--json', '--debug']]) {
      const r = await runCli(migrateArgs(url.toString(), target.url, ...extra));
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stdout + r.stderr).not.toContain(password);
      expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(password));
      if (extra.length === 0) oneLineError(r.stderr, /^error: source server: .*(password|authentication)/i);
      if (extra[0] === '--json') {
        const lines = r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{"error"'));
        expect(lines, r.stderr).toHaveLength(1);
        const e = JSON.parse(lines[0]).error;
        expect(e).toMatchObject({ kind: 'authentication-failed', exitCode: 3 });
        expect(e.message).toMatch(/^source server: /);
      }
    }
    // the right password works as the source (the failure above was the password, nothing else)
    const ok = await runCli(migrateArgs(source.passwordUrl!, target.url, '--dry-run', '--json'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(password);
    expect(await snapshot(target)).toEqual(before);
  });

  it('a source without health_checks: exit 4, nothing changed on the target', async () => {
    const before = await snapshot(target);
    const r = await runCli(migrateArgs(empty().url, target.url));
    expect(r.code).toBe(4);
    oneLineError(r.stderr, /^error: source server: .*health_checks/);
    expect(await snapshot(target)).toEqual(before);
  });

  it('a target whose health_checks already holds rows: exit 4, nothing changed', async () => {
    const before = await snapshot(busy);
    const [count] = await on(busy, `SELECT count(*)::int AS n FROM health_checks`);
    const r = await runCli(migrateArgs(source.url, busy.url));
    expect(r.code).toBe(4);
    oneLineError(r.stderr, /health_checks on this server already holds rows/);
    expect(await snapshot(busy)).toEqual(before);
    const [after] = await on(busy, `SELECT count(*)::int AS n FROM health_checks`);
    expect(after!.n).toBe(count!.n);
  });

  it('--strategy in-place with --source: exit 2, nothing changed', async () => {
    const before = await snapshot(target);
    const r = await runCli(migrateArgs(source.url, target.url, '--strategy', 'in-place'));
    expect(r.code).toBe(2);
    oneLineError(r.stderr, /--strategy in-place and --source do not go together/);
    expect(await snapshot(target)).toEqual(before);
  });
});
