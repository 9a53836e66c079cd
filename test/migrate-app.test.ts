import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase, type TestDatabase } from './support/databases.js';
import { oneLineError, snapshot } from './support/assertions.js';
import { expectExit, killMidCopy, MIGRATE, withDb } from './support/migrate-helpers.js';
import { fingerprint, isHypertable, loadPlainHealthChecks } from './support/migration.js';
import { quoteIdent } from './support/pg.js';
import { inTransaction } from '../src/db/sql.js';
import { verifyStatement, windowSums } from '../src/migrate/verify.js';

/*
 * migrate-from-postgres keeps the application working: what it relies on
 * around health_checks (grants on columns, the comment, CHECK constraints,
 * index and sequence names, functions of its row type) is carried over or
 * named before anything changes, and no real-world schema gets a migration
 * stuck (index names that collide, a second unique key, rows at infinity).
 */

const SLOW = 120_000;

async function refused(d: TestDatabase, args: string[], pattern: RegExp): Promise<string> {
  const before = await snapshot(d);
  const r = await runCli([MIGRATE, ...args, '--database-url', d.url]);
  expectExit(r, 4);
  oneLineError(r.stderr, pattern);
  expect(await snapshot(d)).toEqual(before);
  return r.stderr;
}

describeWithDatabase('apache', 'migrate-from-postgres refuses what a hypertable cannot hold (exit 4)', () => {
  it(
    'rules: named, a trigger suggested, in place and online',
    async () => {
      await withDb('apache', 'mig-app-rules', 2_000, async (d) => {
        await d.sql().unsafe(`CREATE TABLE alerts (check_id integer, note text);
          CREATE RULE hc_alert AS ON INSERT TO health_checks WHERE NOT NEW.is_healthy
            DO ALSO INSERT INTO alerts VALUES (NEW.id, 'unhealthy')`);
        await d.closeClients();
        for (const strategy of ['in-place', 'online']) {
          await refused(d, ['--strategy', strategy], /rules, which hypertables do not support: hc_alert.*as a trigger/);
        }
      });
    },
    SLOW,
  );

  it(
    'a publication that lists health_checks is named',
    async () => {
      await withDb('apache', 'mig-app-pub', 2_000, async (d) => {
        await d.sql().unsafe(`CREATE PUBLICATION hc_pub FOR TABLE health_checks`);
        await d.closeClients();
        await refused(d, ['--strategy', 'online'], /publications list it .*: hc_pub.*ALTER PUBLICATION/);
      });
    },
    SLOW,
  );

  it(
    'rows at -infinity/infinity are named by id before anything changes, in place and online',
    async () => {
      await withDb('apache', 'mig-app-inf', 2_000, async (d) => {
        await d.sql().unsafe(`INSERT INTO health_checks (id, device_id, is_healthy, "timestamp")
          SELECT 900001, id, true, '-infinity' FROM devices ORDER BY id LIMIT 1;
          INSERT INTO health_checks (id, device_id, is_healthy, "timestamp")
          SELECT 900002, id, true, 'infinity' FROM devices ORDER BY id LIMIT 1`);
        await d.closeClients();
        for (const strategy of ['in-place', 'online']) {
          await refused(
            d,
            ['--strategy', strategy],
            /2 row\(s\) have "timestamp" at infinity or -infinity.*id = 900001 \(-infinity\), id = 900002 \(infinity\)/,
          );
        }
      });
    },
    SLOW,
  );

  it(
    'in place: a NOT VALID CHECK constraint (rows moving into chunks are checked)',
    async () => {
      await withDb('apache', 'mig-app-nvin', 2_000, async (d) => {
        await d
          .sql()
          .unsafe(`ALTER TABLE health_checks ADD CONSTRAINT rt_fast CHECK (response_time_ms < 100) NOT VALID`);
        await d.closeClients();
        await refused(d, ['--strategy', 'in-place'], /NOT VALID .*: rt_fast.*VALIDATE CONSTRAINT.*--strategy online/);
      });
    },
    SLOW,
  );

  it(
    'auto converts a small table with a view and a trigger in place (the online blockers do not apply)',
    async () => {
      await withDb('apache', 'mig-app-auto', 2_000, async (d) => {
        await d.sql().unsafe(`CREATE VIEW recent_checks AS SELECT * FROM health_checks;
          CREATE FUNCTION hc_touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
          CREATE TRIGGER hc_touch BEFORE INSERT ON health_checks FOR EACH ROW EXECUTE FUNCTION hc_touch()`);
        const before = await fingerprint(d.sql(), 'health_checks');
        await d.closeClients();
        const r = await runCli([MIGRATE, '--json', '--database-url', d.url]);
        expectExit(r, 0);
        expect(r.json()).toMatchObject({ outcome: 'migrated', strategy: 'in-place' });
        expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
        expect(await fingerprint(d.sql(), 'recent_checks')).toEqual(before);
      });
    },
    SLOW,
  );
});

// In place with a foreign key into health_checks: TimescaleDB 2.16+ keeps
// such keys, yet create_hypertable(migrate_data) empties the table after
// moving its rows, which PostgreSQL refuses while a key points in. Asked of
// the server itself, on the Apache 2.19.3 cluster and on Community (embedded
// 2.23, or the real 2.28.3 cluster).
for (const flavour of ['apache', 'timescale'] as const) {
  describeWithDatabase(flavour, 'migrate-from-postgres in place with a foreign key into health_checks', (db) => {
    it(
      'the server refuses create_hypertable(migrate_data) with 0A000; migrate refuses before it, exit 4',
      async () => {
        const sql = db().sql();
        await loadPlainHealthChecks(sql, { rows: 500 });
        await sql.unsafe(`CREATE TABLE check_notes (id serial PRIMARY KEY, check_id integer, check_ts timestamptz,
          FOREIGN KEY (check_id, check_ts) REFERENCES health_checks (id, "timestamp"))`);
        const err = await sql
          .begin(async (tx) => {
            await tx.unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
            await tx.unsafe(`SELECT create_hypertable('health_checks', by_range('timestamp'), migrate_data => true)`);
          })
          .catch((e: unknown) => e);
        expect((err as { code?: string }).code).toBe('0A000');
        await db().closeClients();
        await refused(
          db(),
          ['--strategy', 'in-place'],
          /cannot be migrated in place: foreign keys point into it \(check_notes\.check_notes_check_id_check_ts_fkey\)/,
        );
      },
      SLOW,
    );
  });
}

describeWithDatabase('apache', 'migrate-from-postgres online carries what the application relies on', () => {
  it(
    'column grants, comment, NOT VALID check, colliding and 63-byte index names, identity sequence; --drop-old kept for a row-type function',
    async () => {
      const role = `hpt_col_${randomBytes(3).toString('hex')}`;
      await withDb('apache', 'mig-app-carry', 5_000, async (d) => {
        const sql = d.sql();
        try {
          await sql.unsafe(`
            CREATE ROLE ${quoteIdent(role)};
            GRANT INSERT (device_id, is_healthy, "timestamp"), SELECT (id) ON health_checks TO ${quoteIdent(role)};
            COMMENT ON TABLE health_checks IS 'one row per device per minute';
            ALTER TABLE health_checks ADD CONSTRAINT rt_fast CHECK (response_time_ms < 100) NOT VALID;
            CREATE INDEX ON health_checks ("timestamp");
            CREATE INDEX ix_health_checks_device_id_is_healthy_response_time_ms_status_code
              ON health_checks (device_id, is_healthy, response_time_ms, status_code);
            CREATE INDEX health_checks_device_id_is_healthy_response_time_ms_status_code_x
              ON health_checks (device_id, is_healthy);
            ALTER TABLE health_checks ALTER id DROP DEFAULT;
            DROP SEQUENCE health_checks_id_seq;
            ALTER TABLE health_checks ALTER id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 100000);
            CREATE FUNCTION recent_checks() RETURNS SETOF health_checks LANGUAGE sql
              AS 'SELECT * FROM health_checks ORDER BY "timestamp" DESC LIMIT 5';
            CREATE TABLE baseline AS SELECT * FROM health_checks;`);
          const before = await fingerprint(sql, 'baseline');
          const indexesBefore = await indexNames(d);
          await d.closeClients();

          const r = await runCli([MIGRATE, '--strategy', 'online', '--drop-old', '--json', '--database-url', d.url]);
          expectExit(r, 0);
          const j = r.json();
          // The swap is done; the drop was refused, naming the function, never CASCADE.
          expect(j).toMatchObject({ outcome: 'migrated', droppedOld: false, keptBy: ['function recent_checks()'] });
          expect(j.oldTable).toBe('public.health_checks_pre_timescaledb');
          expect(j.warnings.join('\n')).toMatch(
            /function recent_checks\(\) uses public\.health_checks or its row type/,
          );
          expect(j.warnings.join('\n')).toMatch(/--drop-old refused.*never DROP … CASCADE/);
          expect(j.warnings.join('\n')).toMatch(/UPDATE that moves a row's time into another chunk fails \(23514/);

          expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
          expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
          const [cat] = await d.sql().unsafe(`SELECT
              obj_description('health_checks'::regclass, 'pg_class') AS comment,
              (SELECT array_agg(attname || ':' || attacl::text ORDER BY attnum) FROM pg_attribute
                WHERE attrelid = 'health_checks'::regclass AND attacl IS NOT NULL) AS column_acl,
              (SELECT array_agg(attname || ':' || attacl::text ORDER BY attnum) FROM pg_attribute
                WHERE attrelid = 'health_checks_pre_timescaledb'::regclass AND attacl IS NOT NULL) AS old_column_acl,
              (SELECT convalidated FROM pg_constraint WHERE conrelid = 'health_checks'::regclass AND conname = 'rt_fast') AS check_valid,
              pg_get_serial_sequence('health_checks', 'id') AS id_seq,
              (SELECT count(*)::int FROM pg_index WHERE indrelid = 'health_checks'::regclass
                AND indnkeyatts = 1 AND indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = 'health_checks'::regclass AND attname = 'timestamp')) AS time_indexes`);
          expect(cat.comment).toBe('one row per device per minute');
          expect(cat.column_acl).toHaveLength(4);
          expect(cat.column_acl).toEqual(cat.old_column_acl);
          expect(cat.column_acl.join(' ')).toContain(`${role}=a/`);
          expect(cat.check_valid).toBe(false);
          expect(cat.id_seq).toBe('public.health_checks_id_seq');
          expect(cat.time_indexes).toBe(1);
          expect(await indexNames(d)).toEqual(indexesBefore);
          const [next] = await d
            .sql()
            .unsafe(`SELECT nextval('health_checks_id_seq') AS n, (SELECT max(id) FROM baseline) AS m`);
          expect(Number(next.n)).toBeGreaterThan(Number(next.m));

          // cleanup names the function and changes nothing; once it is re-created, cleanup drops the old table.
          await d.closeClients();
          const before2 = await snapshot(d);
          const c = await runCli([MIGRATE, 'cleanup', '--database-url', d.url]);
          expectExit(c, 4);
          oneLineError(
            c.stderr,
            /health_checks_pre_timescaledb cannot be dropped: function recent_checks\(\) still uses it/,
          );
          expect(c.stderr).not.toMatch(/Use DROP .* CASCADE/);
          expect(await snapshot(d)).toEqual(before2);
          await d.sql()
            .unsafe(`DROP FUNCTION recent_checks(); CREATE FUNCTION recent_checks() RETURNS SETOF health_checks
            LANGUAGE sql AS 'SELECT * FROM health_checks ORDER BY "timestamp" DESC LIMIT 5'`);
          await d.closeClients();
          expectExit(await runCli([MIGRATE, 'cleanup', '--database-url', d.url]), 0);
          expect(await d.sql()`SELECT to_regclass('health_checks_pre_timescaledb') AS t`).toEqual([{ t: null }]);
        } finally {
          await d.sql().unsafe(`DROP OWNED BY ${quoteIdent(role)}; DROP ROLE ${quoteIdent(role)}`);
        }
      });
    },
    SLOW,
  );
});

/** The names of health_checks's indexes (the new hypertable's after a swap), with their columns. */
async function indexNames(d: TestDatabase): Promise<string[]> {
  const rows = await d.sql()
    .unsafe(`SELECT c.relname || ' ' || regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') AS x
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'health_checks'::regclass ORDER BY 1`);
  return rows.map((r) => String(r.x));
}

describeWithDatabase('apache', 'migrate-from-postgres online never gets stuck', () => {
  it(
    'a second unique key: a row takes the (device_id, "timestamp") of a copied row deleted in the same transaction',
    async () => {
      await withDb('apache', 'mig-app-uniq', 20_000, async (d) => {
        // Half-empty pages: an UPDATE keeps the row in its block, ahead of the copy.
        await d.sql().unsafe(`ALTER TABLE health_checks ADD CONSTRAINT hc_device_time UNIQUE (device_id, "timestamp");
          ALTER TABLE health_checks SET (fillfactor = 50)`);
        await d.sql().unsafe(`VACUUM FULL health_checks`);
        await d.sql().unsafe(`ANALYZE health_checks`);
        await d.closeClients();
        const { nextBlock, totalBlocks } = await killMidCopy(d, 500);
        expect(nextBlock).toBeLessThan(totalBlocks - 2);
        // The application replaces a copied row: it deletes it and moves a row
        // not yet copied onto its device and time.
        await d.sql().unsafe(`WITH gone AS (
            DELETE FROM health_checks WHERE ctid = (SELECT min(ctid) FROM health_checks) RETURNING device_id, "timestamp")
          UPDATE health_checks h SET device_id = g.device_id, "timestamp" = g."timestamp" FROM gone g
          WHERE h.ctid = (SELECT max(ctid) FROM health_checks)`);
        const before = await fingerprint(d.sql(), 'health_checks');
        await d.closeClients();
        const r = await runCli([
          MIGRATE,
          '--strategy',
          'online',
          '--batch-rows',
          '500',
          '--json',
          '--database-url',
          d.url,
        ]);
        expectExit(r, 0);
        expect(r.json()).toMatchObject({ outcome: 'migrated', resumed: true });
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
      });
    },
    SLOW,
  );

  it(
    'a second unique key in the replay: a row takes the (device_id, "timestamp") another row gave up just before',
    async () => {
      await withDb('apache', 'mig-app-uniq2', 20_000, async (d) => {
        await d.sql().unsafe(`ALTER TABLE health_checks ADD CONSTRAINT hc_device_time UNIQUE (device_id, "timestamp")`);
        await d.closeClients();
        await killMidCopy(d, 500);
        // Both rows are copied; the one with the higher id moves to another
        // device, then the one with the lower id takes its device and time.
        await d.sql().unsafe(`CREATE TEMP TABLE pair AS
            SELECT (SELECT min(id) FROM health_checks WHERE ctid < '(1,0)') AS b, (SELECT max(id) FROM health_checks WHERE ctid < '(1,0)') AS a;
          CREATE TEMP TABLE was AS SELECT h.device_id, h."timestamp" FROM health_checks h, pair WHERE h.id = pair.a;
          UPDATE health_checks h SET device_id = (SELECT min(id) FROM devices WHERE id <> h.device_id) FROM pair WHERE h.id = pair.a;
          UPDATE health_checks h SET device_id = was.device_id, "timestamp" = was."timestamp" FROM pair, was WHERE h.id = pair.b;`);
        const before = await fingerprint(d.sql(), 'health_checks');
        await d.closeClients();
        const r = await runCli([MIGRATE, '--strategy', 'online', '--json', '--database-url', d.url]);
        expectExit(r, 0);
        expect(r.json().replayed).toBeGreaterThanOrEqual(3);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
      });
    },
    SLOW,
  );

  it(
    'an old index named as TimescaleDB names its default time index, on other columns: no 42P07, numbered as PostgreSQL would',
    async () => {
      await withDb('apache', 'mig-app-idx', 5_000, async (d) => {
        await d.sql().unsafe(`CREATE INDEX health_checks_timestamp_idx ON health_checks ("timestamp", device_id)`);
        const before = await fingerprint(d.sql(), 'health_checks');
        await d.closeClients();
        const dry = await runCli([MIGRATE, '--strategy', 'online', '--dry-run', '--json', '--database-url', d.url]);
        expectExit(dry, 0);
        const r = await runCli([MIGRATE, '--strategy', 'online', '--json', '--database-url', d.url]);
        expectExit(r, 0);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
        const names = await indexNames(d);
        expect(names).toContain('health_checks_timestamp_idx btree ("timestamp", device_id)');
        expect(names).toContain('health_checks_timestamp_idx1 btree ("timestamp" DESC)');
      });
    },
    SLOW,
  );

  it(
    'a failed run says the capture trigger is still there and how to remove it',
    async () => {
      await withDb('apache', 'mig-app-left', 20_000, async (d) => {
        await killMidCopy(d, 500);
        // Written after preflight, captured, and refused by the hypertable when replayed (22008).
        await d.sql().unsafe(`INSERT INTO health_checks (device_id, is_healthy, "timestamp")
          SELECT id, true, 'infinity' FROM devices ORDER BY id LIMIT 1`);
        await d.closeClients();
        const r = await runCli([MIGRATE, '--strategy', 'online', '--json', '--database-url', d.url]);
        expectExit(r, 1);
        const { error } = JSON.parse(r.stderr.trim().split('\n').at(-1)!);
        expect(error.sqlstate).toMatch(/^22/);
        expect(error.hint).toMatch(
          /capture trigger homepot_ts_capture is still on public\.health_checks .*health_checks_tsdb_log.*migrate-from-postgres abort to remove/,
        );
        expectExit(await runCli([MIGRATE, 'abort', '--database-url', d.url]), 0);
        const [t] = await d.sql()`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'homepot_ts_capture%'`;
        expect(t.n).toBe(0);
      });
    },
    SLOW,
  );

  it(
    'a checksum that fails inside a transaction reports its own error, not 25P02 from the RESET after it',
    async () => {
      await withDb('apache', 'mig-app-reset', 100, async (d) => {
        const sql = d.sql();
        await sql.unsafe(`INSERT INTO health_checks (device_id, is_healthy, "timestamp")
          SELECT id, true, 'infinity' FROM devices ORDER BY id LIMIT 1`);
        const statement = await verifyStatement(sql, {
          schema: 'public',
          name: 'health_checks',
          timeColumn: 'timestamp',
        });
        const conn = await sql.reserve();
        try {
          const err = await inTransaction(conn, {}, () => windowSums(conn, statement, 3600)).catch((e: unknown) => e);
          expect((err as { code?: string }).code).not.toBe('25P02');
          expect((err as { code?: string }).code).toBe('22003');
        } finally {
          conn.release();
        }
      });
    },
    SLOW,
  );
});

describe('migrate-from-postgres next steps', () => {
  describeWithDatabase('apache', 'keep the schema and quote --table as one shell word', () => {
    it(
      'app.health_checks and "HealthChecks"',
      async () => {
        await withDb('apache', 'mig-app-next', 10, async (d) => {
          await d.sql().unsafe(`CREATE SCHEMA app;
            CREATE TABLE app.health_checks (id integer, "timestamp" timestamptz NOT NULL, PRIMARY KEY (id, "timestamp"));
            INSERT INTO app.health_checks SELECT i, now() - i * interval '1 minute' FROM generate_series(1, 10) i;
            CREATE TABLE "HealthChecks" (id integer, "timestamp" timestamptz NOT NULL, PRIMARY KEY (id, "timestamp"));
            INSERT INTO "HealthChecks" SELECT i, now() - i * interval '1 minute' FROM generate_series(1, 10) i;`);
          await d.closeClients();
          const a = await runCli([MIGRATE, '--table', 'app.health_checks', '--json', '--database-url', d.url]);
          expectExit(a, 0);
          expect(a.json().nextSteps[0]).toBe('homepot-ts setup --table app.health_checks');
          const q = await runCli([MIGRATE, '--table', '"HealthChecks"', '--json', '--database-url', d.url]);
          expectExit(q, 0);
          expect(q.json().nextSteps[0]).toBe(`homepot-ts setup --table '"HealthChecks"'`);
        });
      },
      SLOW,
    );
  });
});
