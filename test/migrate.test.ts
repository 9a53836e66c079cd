import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './support/cli.js';
import { describeWithDatabase, type Sql } from './support/databases.js';
import { cellAfter, oneLineError, query, snapshot } from './support/assertions.js';
import { runContending } from './support/contention.js';
import {
  duplicateIds,
  expectExit,
  killMidCopy,
  stopMidCopy,
  MIGRATE,
  startWriter,
  until,
  withDb,
  type WriterReport,
} from './support/migrate-helpers.js';
import { fingerprint, isHypertable, loadPlainHealthChecks, migrationLeftovers } from './support/migration.js';
import { quoteIdent, withDatabase } from './support/pg.js';
import { formatBytes } from '../src/cli/render/format.js';

/*
 * migrate-from-postgres: a plain health_checks with rows becomes a hypertable,
 * in place or online, and not one row is lost or doubled, also while devices
 * keep writing, after a kill -9 and when two runs start at once.
 */

const SLOW = 120_000;

describeWithDatabase('apache', 'migrate-from-postgres online while devices keep writing', (db) => {
  const ROWS = 50_000;
  const role = `hpt_mig_app_${randomBytes(3).toString('hex')}`;
  const password = `pw_${randomBytes(8).toString('hex')}`;
  let sql: Sql;
  let baseline: { rows: number; checksum: string };
  let report: WriterReport;
  let migrated: CliResult;
  let statementsAtExit = 0;

  beforeAll(async () => {
    sql = db().sql();
    await loadPlainHealthChecks(sql, { rows: ROWS });
    // HOMEPOT's application role: it writes health_checks and holds no other privilege.
    await sql.unsafe(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`);
    await sql.unsafe(`GRANT CONNECT ON DATABASE ${quoteIdent(db().name)} TO ${quoteIdent(role)}`);
    await sql.unsafe(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(role)}`);
    await sql.unsafe(`GRANT SELECT, INSERT, UPDATE, DELETE ON health_checks TO ${quoteIdent(role)}`);
    await sql.unsafe(`GRANT USAGE ON SEQUENCE health_checks_id_seq TO ${quoteIdent(role)}`);
    // What was there before: the expected side of every comparison below.
    await sql.unsafe(`CREATE TABLE migrate_baseline AS SELECT * FROM health_checks`);
    baseline = await fingerprint(sql, 'migrate_baseline');
    expect(baseline.rows).toBe(ROWS);
  });

  afterAll(async () => {
    // Roles belong to the server, not the database: leave none behind.
    const s = db().sql();
    const [exists] = await s`SELECT 1 AS ok FROM pg_roles WHERE rolname = ${role}`;
    if (exists) await s.unsafe(`DROP OWNED BY ${quoteIdent(role)}; DROP ROLE ${quoteIdent(role)}`);
  });

  it(
    'online, with INSERTs (late data too), UPDATEs and DELETEs running throughout: nothing lost, nothing doubled, no stall',
    async () => {
      const devices = (await sql`SELECT id FROM devices ORDER BY id`).map((r) => Number(r.id));
      const writer = startWriter(withDatabase(db().url, db().name, { user: role, password }), ROWS, devices);
      try {
        await until('the writer to get going', () => writer.statements() >= 50);
        migrated = await runCli([
          MIGRATE,
          '--strategy',
          'online',
          '--batch-rows',
          '1000',
          '--json',
          '--database-url',
          db().url,
        ]);
        statementsAtExit = writer.statements();
        // Writes after the swap go to the hypertable, through the same connection.
        await until('writes after the migration', () => writer.statements() >= statementsAtExit + 100);
      } finally {
        report = await writer.stop();
      }

      expectExit(migrated, 0);
      const j = migrated.json();
      expect(j.outcome).toBe('migrated');
      expect(j.strategy).toBe('online');
      expect(j.changed).toBe(true);
      expect(j.verification.ok).toBe(true);
      expect(j.verification.mismatches).toEqual([]);
      expect(j.copied.batches).toBeGreaterThanOrEqual(20);
      // The writer's changes during the copy were captured and replayed.
      expect(j.replayed).toBeGreaterThan(0);
      expect(j.oldTable).toBe('public.health_checks_pre_timescaledb');
      expect(j.locks.map((l: { mode: string }) => l.mode)).toEqual(['SHARE ROW EXCLUSIVE', 'ACCESS EXCLUSIVE']);
      for (const l of j.locks) expect(l.ms, l.what).toBeLessThan(1000);

      // The writer: no error, nothing it touched was missing, never blocked for 1 s.
      expect(report.errors).toEqual([]);
      expect(report.missing).toEqual([]);
      expect(report.longestMs).toBeLessThan(1000);
      expect(report.deletedBaseline.length).toBeGreaterThan(10);
      expect(report.updatedBaseline.length).toBeGreaterThan(10);
      expect(report.deletedOwn.length).toBeGreaterThan(5);

      expect(await isHypertable(sql, 'health_checks')).toBe(true);
      const [kind] =
        await sql`SELECT relkind::text AS k FROM pg_class WHERE oid = 'health_checks_pre_timescaledb'::regclass`;
      expect(kind.k).toBe('r');

      // No (id, "timestamp") twice, and no id twice either (a moved row must not stay at its old key).
      expect(await sql`SELECT id, "timestamp" FROM health_checks GROUP BY 1, 2 HAVING count(*) > 1`).toEqual([]);
      expect(await duplicateIds(sql)).toEqual([]);

      // Every row from before, minus the writer's deletes and updates: same count and checksum.
      const touched = [...report.deletedBaseline, ...report.updatedBaseline];
      const expected = await fingerprint(sql, 'migrate_baseline', 'NOT (id = ANY ($1::int[]))', touched);
      const actual = await fingerprint(sql, 'health_checks', `id <= ${ROWS} AND NOT (id = ANY ($1::int[]))`, touched);
      expect(actual).toEqual(expected);
      expect(expected.rows).toBe(ROWS - touched.length);
      // Deleted ones are gone (old rows and the writer's own).
      const gone = [...report.deletedBaseline, ...report.deletedOwn];
      expect(await sql`SELECT id FROM health_checks WHERE id = ANY (${gone}::int[])`).toEqual([]);
      // Updated old rows carry the update and nothing else changed in them.
      const [u] = await sql`
      SELECT count(*)::int AS n FROM migrate_baseline b JOIN health_checks h
        ON h.id = b.id AND h."timestamp" = b."timestamp" AND h.device_id = b.device_id AND h.is_healthy = b.is_healthy
       AND h.status_code = b.status_code AND h.response_data::text = b.response_data::text
       AND h.error_message IS NOT DISTINCT FROM b.error_message
      WHERE b.id = ANY (${report.updatedBaseline}::int[]) AND h.response_time_ms = -h.id AND h.endpoint = '/writer-updated'`;
      expect(u.n).toBe(report.updatedBaseline.length);
      // Every row the writer inserted and did not delete: there exactly once, as last written.
      const own = [...report.alive].map(([id, r]) => ({ id, endpoint: r.endpoint, rt: r.rt, ts: r.ts }));
      expect(own.length).toBeGreaterThan(100);
      const wrong = await sql`
      SELECT e.id, count(h.id)::int AS n
      FROM jsonb_to_recordset(${sql.json(own)}) e(id int, endpoint text, rt int, ts timestamptz)
      LEFT JOIN health_checks h ON h.id = e.id AND h.endpoint = e.endpoint AND h.response_time_ms = e.rt AND h."timestamp" = e.ts
      GROUP BY e.id HAVING count(h.id) <> 1 LIMIT 10`;
      expect(wrong).toEqual([]);
      // ... and nothing else: the total is exactly what should be there.
      const total = await fingerprint(sql, 'health_checks');
      expect(total.rows).toBe(ROWS - report.deletedBaseline.length + report.alive.size);
      const [late] =
        await sql`SELECT count(*)::int AS n FROM health_checks WHERE endpoint IN ('/writer', '/writer-updated', '/writer-moved') AND id > ${ROWS} AND "timestamp" < now() - interval '1 hour'`;
      expect(late.n).toBeGreaterThan(10);

      // Index and constraint names belong to the hypertable now; the old table's are renamed.
      const indexes = await sql`
      SELECT i.relname::text AS index, t.relname::text AS table FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relname IN ('health_checks', 'health_checks_pre_timescaledb') ORDER BY 1`;
      expect(Object.fromEntries(indexes.map((r) => [r.index, r.table]))).toEqual({
        health_checks_pkey: 'health_checks',
        idx_health_checks_device_time: 'health_checks',
        health_checks_timestamp_idx: 'health_checks',
        health_checks_pre_timescaledb_pkey: 'health_checks_pre_timescaledb',
        idx_health_checks_device_time_pre_timescaledb: 'health_checks_pre_timescaledb',
      });
      const [pk] =
        await sql`SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'health_checks_pkey'`;
      expect(pk).toEqual({ t: 'health_checks', def: 'PRIMARY KEY (id, "timestamp")' });
      // The foreign key to devices is on the hypertable.
      const fks =
        await sql`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'health_checks'::regclass AND contype = 'f'`;
      expect(fks.map((f) => f.def)).toEqual(['FOREIGN KEY (device_id) REFERENCES devices(id)']);

      // The id sequence: still found by name, owned by the hypertable (dropping the old table keeps it).
      const [seq] = await sql`SELECT pg_get_serial_sequence('health_checks', 'id') AS s`;
      expect(seq.s).toBe('public.health_checks_id_seq');
      const [owner] =
        await sql`SELECT refobjid::regclass::text AS t FROM pg_depend WHERE objid = 'health_checks_id_seq'::regclass AND deptype = 'a'`;
      expect(owner.t).toBe('health_checks');
      const reserved = await sql.reserve();
      try {
        await reserved`BEGIN`;
        await reserved`DROP TABLE health_checks_pre_timescaledb`;
        const [still] = await reserved`SELECT to_regclass('public.health_checks_id_seq') IS NOT NULL AS ok`;
        expect(still.ok).toBe(true);
      } finally {
        await reserved`ROLLBACK`;
        reserved.release();
      }
      const [max] = await sql`SELECT max(id)::int AS m FROM health_checks_pre_timescaledb`;
      const [fresh] =
        await sql`INSERT INTO health_checks (device_id, is_healthy, "timestamp") VALUES (${devices[0]}, true, now()) RETURNING id`;
      expect(Number(fresh.id)).toBeGreaterThan(Math.max(max.m, ...report.alive.keys(), ...report.deletedOwn));
      await sql`DELETE FROM health_checks WHERE id = ${fresh.id}`;

      // Grants moved with the name: the application role has what it had.
      const grants = await sql`
      SELECT array_agg(a.privilege_type::text ORDER BY a.privilege_type) AS p
      FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = 'health_checks'::regclass AND a.grantee = ${role}::regrole`;
      expect(grants[0].p).toEqual(['DELETE', 'INSERT', 'SELECT', 'UPDATE']);
    },
    SLOW,
  );
});

describeWithDatabase('apache', 'migrate-from-postgres after an online migration', () => {
  it(
    'a second run changes nothing; cleanup --dry-run shows the DROP; cleanup drops the old table; then it is just a hypertable',
    async () => {
      await withDb('apache', 'migrate-rerun', 5_000, async (d) => {
        // Its own online migration first: this test does not lean on the one above.
        const first = await runCli([MIGRATE, '--strategy', 'online', '--json', '--database-url', d.url]);
        expectExit(first, 0);
        expect(first.json()).toMatchObject({ outcome: 'migrated', strategy: 'online' });
        const again = await runCli([MIGRATE, '--json', '--database-url', d.url]);
        expectExit(again, 0);
        expect(again.json()).toMatchObject({
          outcome: 'already-migrated',
          changed: false,
          strategy: 'online',
          oldTable: 'public.health_checks_pre_timescaledb',
        });
        expect(again.json().verification.ok).toBe(true);
        const human = await runCli([MIGRATE, '--database-url', d.url]);
        expectExit(human, 0);
        expect(human.stderr).toMatch(/nothing to change: public\.health_checks was already migrated \(online\)/);

        await d.closeClients();
        const before = await snapshot(d);
        const dry = await runCli([MIGRATE, 'cleanup', '--dry-run', '--database-url', d.url]);
        expectExit(dry, 0);
        expect(dry.stdout).toContain('DROP TABLE public.health_checks_pre_timescaledb;');
        expect(dry.stderr).toMatch(/dry run: nothing was changed/);
        expect(await snapshot(d)).toEqual(before);

        const cleanup = await runCli([MIGRATE, 'cleanup', '--database-url', d.url]);
        expectExit(cleanup, 0);
        expect(cleanup.stderr).toMatch(/done: dropped public\.health_checks_pre_timescaledb/);
        const sql = d.sql();
        const [left] =
          await sql`SELECT to_regclass('public.health_checks_pre_timescaledb')::text AS old, to_regclass('homepot_ts.migration')::text AS state,
                                    to_regclass('public.health_checks_id_seq')::text AS seq`;
        expect(left).toEqual({ old: null, state: null, seq: 'health_checks_id_seq' });
        const [max] = await sql`SELECT max(id)::int AS m FROM health_checks`;
        const [fresh] =
          await sql`INSERT INTO health_checks (device_id, is_healthy, "timestamp") SELECT min(id), true, now() FROM devices RETURNING id`;
        expect(Number(fresh.id)).toBeGreaterThan(max.m);

        const third = await runCli([MIGRATE, '--json', '--database-url', d.url]);
        expectExit(third, 0);
        expect(third.json()).toMatchObject({ outcome: 'already-hypertable', changed: false });
        const nothing = await runCli([MIGRATE, 'cleanup', '--database-url', d.url]);
        expectExit(nothing, 0);
        expect(nothing.stderr).toMatch(/nothing to clean up/);
        await d.closeClients();
      });
    },
    SLOW,
  );
});

describeWithDatabase('apache', 'migrate-from-postgres online: kill -9, abort, two runs at once, no statistics', () => {
  it(
    'kill -9 in the middle of the copy, writes meanwhile are captured, the next run continues and loses nothing',
    async () => {
      await withDb('apache', 'migrate-kill', 50_000, async (d) => {
        const sql = d.sql();
        const { nextBlock, totalBlocks, killed } = await killMidCopy(d, 500);
        expect(killed.signal).toBe('SIGKILL');
        expect(nextBlock).toBeGreaterThan(0);
        expect(nextBlock).toBeLessThan(totalBlocks);

        // The old table is still the one in use; its writes go on and are captured.
        await sql`
        INSERT INTO health_checks (device_id, is_healthy, endpoint, "timestamp")
        SELECT 1 + i % 5, i % 2 = 0, '/after-kill', now() - i * interval '13 hours' FROM generate_series(0, 6) i`;
        await sql`UPDATE health_checks SET endpoint = '/after-kill-updated' WHERE id IN (10, 40000)`;
        await sql`DELETE FROM health_checks WHERE id IN (20, 45000)`;
        const [log] = await sql`SELECT count(*)::int AS n FROM health_checks_tsdb_log`;
        expect(log.n).toBe(7 + 2 * 2 + 2);
        await sql`CREATE TABLE expected_rows AS SELECT * FROM health_checks`;
        const expected = await fingerprint(sql, 'expected_rows');
        expect(expected.rows).toBe(50_000 + 7 - 2);
        // What the rerun has left to copy: the rows in the old table's blocks no batch has recorded, less those
        // already in the new table (an UPDATE after the kill may move a copied row into such a block).
        const [left] = await sql`
        SELECT count(*)::int AS n FROM health_checks h, homepot_ts.migration m
        WHERE m.table_name = 'health_checks' AND (h.ctid::text::point)[0]::int8 < m.total_blocks
          AND NOT m.copied_blocks @> (h.ctid::text::point)[0]::int8
          AND NOT EXISTS (SELECT 1 FROM health_checks_tsdb_new n WHERE n.id = h.id AND n."timestamp" = h."timestamp")`;
        expect(left.n).toBeGreaterThan(0);
        expect(left.n).toBeLessThan(50_000);

        const r = await runCli([MIGRATE, '--batch-rows', '500', '--json', '--database-url', d.url]);
        expectExit(r, 0);
        const j = r.json();
        expect(j).toMatchObject({ outcome: 'migrated', strategy: 'online', resumed: true, changed: true });
        expect(j.strategyReason).toMatch(
          /continuing the online migration started earlier \(copying, \d+\/\d+ blocks copied\)/,
        );
        expect(j.verification.ok).toBe(true);
        // It continued: only the rest was copied this time, still in batches of about --batch-rows.
        expect(j.copied.rows).toBe(left.n);
        expect(j.copied.rows / j.copied.batches).toBeLessThan(2 * 500);

        expect(await isHypertable(sql, 'health_checks')).toBe(true);
        expect(await fingerprint(sql, 'health_checks')).toEqual(expected);
        expect(await duplicateIds(sql)).toEqual([]);
        expect(await migrationLeftovers(sql)).toMatchObject({
          triggers: [],
          new_table: null,
          log_table: null,
          capture_fn: null,
        });
      });
    },
    SLOW,
  );

  it(
    'abort after a kill -9: everything the migration made is gone and health_checks is as it was',
    async () => {
      await withDb('apache', 'migrate-abort', 30_000, async (d) => {
        const sql = d.sql();
        const before = await fingerprint(sql, 'health_checks');
        const { nextBlock, totalBlocks } = await killMidCopy(d, 500);
        expect(nextBlock).toBeGreaterThan(0);
        expect(nextBlock).toBeLessThan(totalBlocks);
        const during = await migrationLeftovers(sql);
        expect(during).toEqual({
          triggers: ['homepot_ts_capture', 'homepot_ts_capture_truncate'],
          new_table: 'health_checks_tsdb_new',
          log_table: 'health_checks_tsdb_log',
          capture_fn: 'health_checks_tsdb_capture()',
          state_table: 'homepot_ts.migration',
        });

        // While it is unfinished: TRUNCATE is refused (it would bypass the capture), it cannot be
        // finished in place, and cleanup (which is for after the swap) refuses.
        await expect(sql`TRUNCATE health_checks`).rejects.toThrow(/TRUNCATE is refused until it finishes/);
        const inPlace = await runCli([MIGRATE, '--strategy', 'in-place', '--database-url', d.url]);
        expectExit(inPlace, 2);
        oneLineError(
          inPlace.stderr,
          /an online migration of public\.health_checks is in progress \(copying\); it cannot be finished in place.*abort/,
        );
        const cleanup = await runCli([MIGRATE, 'cleanup', '--database-url', d.url]);
        expectExit(cleanup, 2);
        oneLineError(cleanup.stderr, /is not finished \(copying\)/);
        expect(await migrationLeftovers(sql)).toEqual(during);
        // status tells an operator that a trigger is recording every write, and what to do.
        const status = await runCli(['status', '--json', '--database-url', d.url]);
        expectExit(status, 0);
        expect(status.json().warnings.join('\n')).toMatch(
          /an online migration of health_checks is in progress \(copying, [\d,]+ rows copied\).*migrate-from-postgres abort/,
        );

        const dry = await runCli([MIGRATE, 'abort', '--dry-run', '--database-url', d.url]);
        expectExit(dry, 0);
        expect(dry.stdout).toContain('DROP TRIGGER IF EXISTS homepot_ts_capture ON public.health_checks;');
        expect(dry.stdout).toContain('DROP TABLE IF EXISTS public.health_checks_tsdb_new;');
        expect(await migrationLeftovers(sql)).toEqual(during);

        const abort = await runCli([MIGRATE, 'abort', '--database-url', d.url]);
        expectExit(abort, 0);
        expect(abort.stderr).toMatch(/done: dropped health_checks_tsdb_new, health_checks_tsdb_log/);
        expect(await migrationLeftovers(sql)).toEqual({
          triggers: [],
          new_table: null,
          log_table: null,
          capture_fn: null,
          state_table: null,
        });
        expect(await fingerprint(sql, 'health_checks')).toEqual(before);
        const [kind] = await sql`SELECT relkind::text AS k FROM pg_class WHERE oid = 'health_checks'::regclass`;
        expect(kind.k).toBe('r');
        expect(await sql`SELECT hypertable_name FROM timescaledb_information.hypertables`).toEqual([]);
        // The table takes writes as before (nothing is captured any more).
        await sql`INSERT INTO health_checks (device_id, is_healthy, "timestamp") VALUES (1, true, now())`;

        const again = await runCli([MIGRATE, 'abort', '--database-url', d.url]);
        expectExit(again, 0);
        expect(again.stderr).toMatch(/nothing to abort/);
      });
    },
    SLOW,
  );

  it(
    'two runs waiting for the change lock at once: one migrates, the other waits and finds it migrated',
    async () => {
      await withDb('apache', 'migrate-twice', 20_000, async (d) => {
        const before = await fingerprint(d.sql(), 'health_checks');
        await d.closeClients();
        const args = [MIGRATE, '--strategy', 'online', '--batch-rows', '2000', '--json', '--database-url', d.url];
        const [a, b] = await runContending(d, [args, args]);
        expectExit(a, 0);
        expectExit(b, 0);
        expect([a.json().outcome, b.json().outcome].sort()).toEqual(['already-migrated', 'migrated']);
        const second = a.json().outcome === 'migrated' ? b.json() : a.json();
        expect(second.changed).toBe(false);
        expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
        expect(await fingerprint(d.sql(), 'health_checks_pre_timescaledb')).toEqual(before);
        expect(await duplicateIds(d.sql())).toEqual([]);
      });
    },
    SLOW,
  );

  it(
    'a table never analyzed (no statistics, as after a restore) is still copied in batches of about --batch-rows',
    async () => {
      await withDb(
        'apache',
        'migrate-nostats',
        20_000,
        async (d) => {
          const [s] = await d.sql()`SELECT reltuples FROM pg_class WHERE oid = 'health_checks'::regclass`;
          expect(Number(s.reltuples)).toBe(-1);
          const before = await fingerprint(d.sql(), 'health_checks');
          const r = await runCli([
            MIGRATE,
            '--strategy',
            'online',
            '--batch-rows',
            '1000',
            '--json',
            '--database-url',
            d.url,
          ]);
          expectExit(r, 0);
          const j = r.json();
          expect(j.outcome).toBe('migrated');
          expect(j.copied.rows).toBe(20_000);
          expect(j.copied.batches).toBeGreaterThanOrEqual(10);
          expect(j.copied.rows / j.copied.batches).toBeLessThan(2 * 1000);
          expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
        },
        false,
      );
    },
    SLOW,
  );
});

describeWithDatabase(
  'apache',
  'migrate-from-postgres: Ctrl-C, and a role that owns the tables but is not superuser',
  () => {
    it(
      'Ctrl-C stops between batches (exit 130, says how to go on); run again, it finishes with every row',
      async () => {
        await withDb('apache', 'migrate-sigint', 30_000, async (d) => {
          const before = await fingerprint(d.sql(), 'health_checks');
          // Hold the copy in the middle (its next batch waits on the state row), interrupt, let go.
          const { result: r } = await stopMidCopy(d, { batchRows: 500, signal: 'SIGINT' });
          expectExit(r, 130);
          expect(r.stderr).toMatch(/interrupted/);
          expect(r.stderr).toMatch(/run migrate-from-postgres again to continue where it stopped/);
          expect(r.stderr).not.toMatch(/\n\s+at /);
          const [st] = await query(
            d,
            `SELECT phase, next_block::int AS done, total_blocks::int AS total FROM homepot_ts.migration`,
          );
          expect(st.phase).toBe('copying');
          expect(st.done).toBeLessThan(st.total);

          const again = await runCli([MIGRATE, '--json', '--database-url', d.url]);
          expectExit(again, 0);
          expect(again.json()).toMatchObject({ outcome: 'migrated', resumed: true, strategy: 'online' });
          expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
          expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
          await d.closeClients();
        });
      },
      SLOW,
    );

    it(
      'a long reader keeps the final step from its lock: it retries, then fails cleanly (exit 1) and a rerun finishes',
      async () => {
        await withDb('apache', 'migrate-busy', 5_000, async (d) => {
          const before = await fingerprint(d.sql(), 'health_checks');
          await d.closeClients();
          const reader = d.connect({ max: 1 });
          const held = await reader.reserve();
          try {
            // A report that reads health_checks in a long transaction: ACCESS SHARE, which only the final step's
            // ACCESS EXCLUSIVE waits for.
            await held`BEGIN`;
            await held`SELECT count(*) FROM health_checks`;
            const r = await runCli([MIGRATE, '--strategy', 'online', '--lock-timeout', '1s', '--database-url', d.url]);
            expectExit(r, 1);
            oneLineError(
              r.stderr
                .split('\n')
                .filter((l) => l.startsWith('error:'))
                .join('\n'),
              /could not lock public\.health_checks within 1 second in 3 attempts.*run migrate-from-postgres again at a quieter time \(it continues from here\)/,
            );
            const [st] = await query(d, `SELECT phase FROM homepot_ts.migration`);
            expect(st.phase).toBe('catching-up');
            expect(await isHypertable(d.sql(), 'health_checks')).toBe(false);
          } finally {
            await held`ROLLBACK`.catch(() => {});
            held.release();
            await reader.end({ timeout: 5 });
          }
          const again = await runCli([MIGRATE, '--json', '--database-url', d.url]);
          expectExit(again, 0);
          expect(again.json()).toMatchObject({ outcome: 'migrated', resumed: true });
          expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
          await d.closeClients();
        });
      },
      SLOW,
    );

    it(
      "as the tables' owner without superuser (a managed service), online works and no password shows",
      async () => {
        await withDb('apache', 'migrate-owner', 10_000, async (d) => {
          expect(d.passwordUrl, 'the local cluster provides a password role').toBeTruthy();
          const role = quoteIdent(new URL(d.passwordUrl!).username);
          await d.sql().unsafe(`
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        GRANT CREATE ON DATABASE ${quoteIdent(d.name)} TO ${role};
        ALTER TABLE sites OWNER TO ${role}; ALTER TABLE devices OWNER TO ${role}; ALTER TABLE health_checks OWNER TO ${role};`);
          const before = await fingerprint(d.sql(), 'health_checks');
          await d.closeClients();
          const r = await runCli([
            MIGRATE,
            '--strategy',
            'online',
            '--json',
            '--debug',
            '--database-url',
            d.passwordUrl!,
          ]);
          expectExit(r, 0);
          expect(r.json()).toMatchObject({ outcome: 'migrated', strategy: 'online' });
          expect(r.stdout + r.stderr).not.toContain(d.password!);
          expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
          const [owner] = await query(
            d,
            `SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE oid = 'health_checks'::regclass`,
          );
          expect(owner.o).toBe(new URL(d.passwordUrl!).username);
        });
      },
      SLOW,
    );
  },
);

describeWithDatabase('apache', 'migrate-from-postgres in place and --strategy auto', () => {
  it(
    '--strategy in-place: one locked conversion, verified, rows unchanged',
    async () => {
      await withDb('apache', 'migrate-inplace', 20_000, async (d) => {
        const before = await fingerprint(d.sql(), 'health_checks');
        const r = await runCli([MIGRATE, '--strategy', 'in-place', '--json', '--database-url', d.url]);
        expectExit(r, 0);
        const j = r.json();
        expect(j).toMatchObject({ outcome: 'migrated', strategy: 'in-place', changed: true, oldTable: null });
        expect(j.verification).toMatchObject({ ok: true, rows: 20_000, mismatches: [] });
        expect(j.locks).toHaveLength(1);
        expect(j.locks[0].mode).toBe('ACCESS EXCLUSIVE');
        expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
        // In place: no second table, no state, no trigger.
        expect(await migrationLeftovers(d.sql())).toEqual({
          triggers: [],
          new_table: null,
          log_table: null,
          capture_fn: null,
          state_table: null,
        });
        expect((await runCli([MIGRATE, '--json', '--database-url', d.url])).json()).toMatchObject({
          outcome: 'already-hypertable',
          changed: false,
        });
      });
    },
    SLOW,
  );

  it(
    'auto on a small table chooses in place, naming the threshold',
    async () => {
      await withDb('apache', 'migrate-auto-small', 5_000, async (d) => {
        const before = await fingerprint(d.sql(), 'health_checks');
        const r = await runCli([MIGRATE, '--json', '--database-url', d.url]);
        expectExit(r, 0);
        const j = r.json();
        expect(j).toMatchObject({ outcome: 'migrated', strategy: 'in-place' });
        expect(j.strategyReason).toMatch(/^\d+\.\d MB is at most the online threshold \(100 MB\)/);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
      });
    },
    SLOW,
  );

  it(
    '--setup then runs setup and create-aggregates (the seed’s steps 3 and 4), and a rerun changes nothing',
    async () => {
      await withDb('apache', 'migrate-setup', 5_000, async (d) => {
        const r = await runCli([MIGRATE, '--setup', '--json', '--database-url', d.url]);
        expectExit(r, 0);
        const j = r.json();
        expect(j.outcome).toBe('migrated');
        const setupOutcomes = Object.fromEntries(
          j.setup.steps.map((s: { id: string; outcome: string }) => [s.id, s.outcome]),
        );
        expect(setupOutcomes).toMatchObject({
          extension: 'unchanged',
          hypertable: 'unchanged',
          'index:idx_devices_site': 'created',
        });
        expect(j.setup.aggregates.length).toBeGreaterThan(0);
        expect(j.nextSteps).toEqual(['homepot-ts status']);
        // The aggregates where there are no continuous aggregates: tables homepot-ts keeps current.
        const views = await query(
          d,
          `SELECT tablename AS matviewname FROM pg_tables WHERE schemaname = 'public'
           AND obj_description(format('public.%I', tablename)::regclass, 'pg_class') LIKE 'homepot-ts aggregate table%' ORDER BY 1`,
        );
        expect(views.map((v) => v.matviewname)).toEqual([
          'device_metrics_daily',
          'device_metrics_hourly',
          'site_metrics_hourly',
        ]);
        const again = await runCli([MIGRATE, '--setup', '--json', '--database-url', d.url]);
        expectExit(again, 0);
        expect(again.json()).toMatchObject({ outcome: 'already-hypertable', changed: false });
        expect(new Set(again.json().setup.steps.map((s: { outcome: string }) => s.outcome))).toEqual(
          new Set(['unchanged', 'skipped']),
        );
      });
    },
    SLOW,
  );

  it(
    'auto on a table above --online-above 1MB chooses online',
    async () => {
      await withDb('apache', 'migrate-auto-big', 20_000, async (d) => {
        const before = await fingerprint(d.sql(), 'health_checks');
        const r = await runCli([MIGRATE, '--online-above', '1MB', '--json', '--database-url', d.url]);
        expectExit(r, 0);
        const j = r.json();
        expect(j).toMatchObject({ outcome: 'migrated', strategy: 'online' });
        expect(j.strategyReason).toMatch(/^\d+\.\d MB is above the online threshold \(1\.0 MB\)/);
        expect(j.verification.ok).toBe(true);
        expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
      });
    },
    SLOW,
  );
});

describeWithDatabase('apache', 'migrate-from-postgres --dry-run', (db) => {
  beforeAll(async () => {
    await loadPlainHealthChecks(db().sql(), { rows: 20_000 });
    await db().closeClients();
  });

  it('online: prints the plan with its SQL and an estimate, and changes nothing (not even the extension)', async () => {
    const before = await snapshot(db());
    expect(JSON.stringify(before)).not.toContain('timescaledb');
    const r = await runCli([MIGRATE, '--strategy', 'online', '--dry-run', '--database-url', db().url]);
    expectExit(r, 0);
    expect(r.stdout).toContain('CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE;');
    expect(r.stdout).toContain(
      'CREATE TABLE public.health_checks_tsdb_new (LIKE public.health_checks INCLUDING DEFAULTS',
    );
    expect(r.stdout).toContain(
      `SELECT create_hypertable('public.health_checks_tsdb_new'::regclass, by_range('timestamp', '7 days'::interval));`,
    );
    expect(r.stdout).toContain(
      'CREATE TRIGGER homepot_ts_capture AFTER INSERT OR UPDATE OR DELETE ON public.health_checks FOR EACH ROW EXECUTE FUNCTION public.health_checks_tsdb_capture();',
    );
    // The estimate as the server has it (ANALYZE'd: reltuples is the row count), on the line it labels.
    const [real] = await query(
      db(),
      `SELECT count(*)::int AS rows, pg_total_relation_size('health_checks')::bigint AS bytes FROM health_checks`,
    );
    const line = (label: string) => cellAfter(r.stdout, label);
    expect(line('rows (estimate)')).toContain(real.rows.toLocaleString('en-US'));
    expect(line('size')).toContain(formatBytes(Number(real.bytes)));
    expect(line('lock')).toContain('SHARE ROW EXCLUSIVE on public.health_checks for milliseconds');
    expect(r.stderr).toMatch(/dry run: nothing was changed/);
    expect(await snapshot(db())).toEqual(before);

    const sizeNow = async () =>
      Number((await query(db(), `SELECT pg_total_relation_size('health_checks')::bigint AS b`))[0].b);
    const sizeBefore = await sizeNow();
    const j = (
      await runCli([MIGRATE, '--strategy', 'online', '--dry-run', '--json', '--database-url', db().url])
    ).json();
    // autovacuum may add a page (free space or visibility map) between two reads on a busy machine:
    // the estimate is the size the server had while the command ran.
    const sizeAfter = await sizeNow();
    expect(j).toMatchObject({ outcome: 'planned', dryRun: true, changed: false, strategy: 'online' });
    expect(j.estimate.rows).toBe(real.rows);
    expect(j.estimate.bytes).toBeGreaterThanOrEqual(sizeBefore);
    expect(j.estimate.bytes).toBeLessThanOrEqual(sizeAfter);
    expect(j.plan.map((s: { id: string }) => s.id)).toEqual([
      'extension',
      'prepare',
      'copy',
      'foreign-keys',
      'replay',
      'swap',
    ]);
    expect(await snapshot(db())).toEqual(before);
  });

  it('auto (small table): the in-place plan, LOCK then create_hypertable with migrate_data', async () => {
    const before = await snapshot(db());
    const r = await runCli([MIGRATE, '--dry-run', '--json', '--database-url', db().url]);
    expectExit(r, 0);
    const j = r.json();
    expect(j).toMatchObject({ outcome: 'planned', changed: false, strategy: 'in-place' });
    expect(j.estimate.lock).toMatch(/^ACCESS EXCLUSIVE on public\.health_checks for the whole conversion/);
    expect(j.plan.at(-1).statements).toEqual([
      'LOCK TABLE public.health_checks IN ACCESS EXCLUSIVE MODE',
      `SELECT create_hypertable('public.health_checks'::regclass, by_range('timestamp', '7 days'::interval), migrate_data => true)`,
    ]);
    expect(await snapshot(db())).toEqual(before);
  });
});

describeWithDatabase(
  'apache',
  'migrate-from-postgres refuses what it cannot migrate (exit 4, nothing changed)',
  (db) => {
    /** health_checks as HOMEPOT creates it, 2,000 rows, then `ddl`. */
    async function reset(ddl: string): Promise<void> {
      const sql = db().sql();
      await sql.unsafe(
        `DROP VIEW IF EXISTS recent_checks; DROP TABLE IF EXISTS check_notes, health_checks CASCADE; DROP SEQUENCE IF EXISTS health_checks_id_seq`,
      );
      await loadPlainHealthChecks(sql, { rows: 2_000 });
      if (ddl) await sql.unsafe(ddl);
      await db().closeClients();
    }

    async function refused(args: string[], pattern: RegExp): Promise<string> {
      const before = await snapshot(db());
      const r = await runCli([MIGRATE, ...args, '--database-url', db().url]);
      expectExit(r, 4);
      oneLineError(r.stderr, pattern);
      expect(await snapshot(db())).toEqual(before);
      return r.stderr;
    }

    it('a time column that allows NULL', async () => {
      await reset(
        `ALTER TABLE health_checks DROP CONSTRAINT health_checks_pkey, ADD PRIMARY KEY (id), ALTER COLUMN "timestamp" DROP NOT NULL`,
      );
      await refused(
        [],
        /health_checks\."timestamp" allows NULL.*ALTER TABLE public\.health_checks ALTER COLUMN "timestamp" SET NOT NULL;/,
      );
    });

    it('PRIMARY KEY (id) only (a unique constraint without the time column), the fix is shown', async () => {
      await reset(`ALTER TABLE health_checks DROP CONSTRAINT health_checks_pkey, ADD PRIMARY KEY (id)`);
      for (const strategy of ['auto', 'in-place', 'online']) {
        await refused(
          ['--strategy', strategy],
          /unique constraints or indexes without "timestamp".*health_checks_pkey.*Run: ALTER TABLE public\.health_checks DROP CONSTRAINT health_checks_pkey, ADD CONSTRAINT health_checks_pkey PRIMARY KEY \(id, "timestamp"\);/,
        );
      }
    });

    it('online: a view reads health_checks', async () => {
      await reset(
        `CREATE VIEW recent_checks AS SELECT * FROM health_checks WHERE "timestamp" > now() - interval '1 day'`,
      );
      await refused(
        ['--strategy', 'online'],
        /cannot be migrated online: views depend on it: public\.recent_checks \(view\).*Fix: drop them and re-create them after the migration.*--strategy in-place/,
      );
    });

    it('online: a foreign key from another table points into health_checks', async () => {
      await reset(`CREATE TABLE check_notes (id serial PRIMARY KEY, check_id integer, check_ts timestamptz, note text,
                   FOREIGN KEY (check_id, check_ts) REFERENCES health_checks (id, "timestamp"))`);
      await refused(
        ['--strategy', 'online'],
        /cannot be migrated online: foreign keys point into it \(.*check_notes\.check_notes_check_id_check_ts_fkey\).*Fix: drop those foreign keys/,
      );
    });

    it('online: no primary key at all', async () => {
      await reset(`ALTER TABLE health_checks DROP CONSTRAINT health_checks_pkey`);
      await refused(
        ['--strategy', 'online'],
        /has no primary key .*includes "timestamp".*ALTER TABLE public\.health_checks ADD PRIMARY KEY \(id, "timestamp"\);/,
      );
    });
  },
);

describeWithDatabase('postgres', 'migrate-from-postgres without TimescaleDB preloaded', (db) => {
  it('exit 5, one line, nothing changed', async () => {
    await loadPlainHealthChecks(db().sql(), { rows: 1_000 });
    await db().closeClients();
    const before = await snapshot(db());
    const r = await runCli([MIGRATE, '--database-url', db().url]);
    expectExit(r, 5);
    // This flavour has TimescaleDB installed but not preloaded (or not installed at all).
    oneLineError(
      r.stderr,
      /TimescaleDB .*(is installed on the server but not preloaded.*shared_preload_libraries = 'timescaledb'|is not installed on this server.*Install the timescaledb package)/,
    );
    expect(await snapshot(db())).toEqual(before);
  });
});

describeWithDatabase('timescale', 'migrate-from-postgres on the embedded TimescaleDB (one connection)', (db) => {
  const ROWS = 20_000;
  async function load(): Promise<{ rows: number; checksum: string }> {
    const sql = db().sql();
    // One table per DROP: TimescaleDB drops a hypertable only on its own.
    for (const t of ['health_checks_pre_timescaledb', 'health_checks', 'homepot_ts.migration'])
      await sql.unsafe(`DROP TABLE IF EXISTS ${t}`);
    await loadPlainHealthChecks(sql, { rows: ROWS });
    const f = await fingerprint(sql, 'health_checks');
    await db().closeClients();
    return f;
  }

  it(
    'in place',
    async () => {
      const before = await load();
      const r = await runCli([MIGRATE, '--strategy', 'in-place', '--json', '--database-url', db().url]);
      expectExit(r, 0);
      const j = r.json();
      expect(j).toMatchObject({ outcome: 'migrated', strategy: 'in-place', edition: 'community' });
      expect(j.verification).toMatchObject({ ok: true, rows: ROWS });
      expect(await fingerprint(db().sql(), 'health_checks')).toEqual(before);
      expect(await isHypertable(db().sql(), 'health_checks')).toBe(true);
      await db().closeClients();
    },
    SLOW,
  );

  it(
    'online, end to end',
    async () => {
      const before = await load();
      const r = await runCli([
        MIGRATE,
        '--strategy',
        'online',
        '--batch-rows',
        '2000',
        '--json',
        '--database-url',
        db().url,
      ]);
      expectExit(r, 0);
      const j = r.json();
      expect(j).toMatchObject({
        outcome: 'migrated',
        strategy: 'online',
        oldTable: 'public.health_checks_pre_timescaledb',
      });
      expect(j.verification.ok).toBe(true);
      expect(j.copied.rows).toBe(ROWS);
      expect(j.copied.batches).toBeGreaterThanOrEqual(5);
      const sql = db().sql();
      expect(await fingerprint(sql, 'health_checks')).toEqual(before);
      expect(await isHypertable(sql, 'health_checks')).toBe(true);
      expect(await duplicateIds(sql)).toEqual([]);
      const [seq] = await sql`SELECT pg_get_serial_sequence('health_checks', 'id') AS s`;
      expect(seq.s).toBe('public.health_checks_id_seq');
      await db().closeClients();
      const cleanup = await runCli([MIGRATE, 'cleanup', '--database-url', db().url]);
      expectExit(cleanup, 0);
      const [left] = await query(
        db(),
        `SELECT to_regclass('public.health_checks_pre_timescaledb')::text AS old, (SELECT count(*)::int FROM health_checks) AS n`,
      );
      expect(left).toEqual({ old: null, n: ROWS });
    },
    SLOW,
  );
});

describe('migrate-from-postgres usage', () => {
  it('a bad --online-above is refused before connecting (exit 2)', async () => {
    const r = await runCli([MIGRATE, '--online-above', 'lots', '--database-url', 'postgres://u@127.0.0.1:1/db']);
    expectExit(r, 2);
    oneLineError(r.stderr, /--online-above must be a size such as 100MB/);
  });
});
