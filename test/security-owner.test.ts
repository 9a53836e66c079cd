import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { expectExit, oneLineError } from './support/assertions.js';
import { killMidCopy } from './support/migrate-helpers.js';
import { fingerprint, isHypertable, loadPlainHealthChecks } from './support/migration.js';
import { type Sql, client, quoteIdent, quoteLiteral } from './support/pg.js';

/*
 * Issue 9, item 4: rows are moved only with the rights of the table's owner.
 * mallory owns health_checks (HOMEPOT's application role usually does) and
 * puts her code where copying rows runs it: a CHECK constraint calling her
 * VOLATILE function, or a trigger on the migration's new table added while
 * the migration waits. A superuser's migrate-from-postgres or setup must not
 * run it (exit 6, one line); as mallory herself the migration works. And the
 * names the tool derives stay valid identifiers (item 7).
 */

const MIGRATE = 'migrate-from-postgres';
const SLOW = 180_000;

interface Attacker {
  role: string;
  url: string;
  sql: Sql;
}

/**
 * A fresh database (TimescaleDB created) with HOMEPOT's plain tables and `rows`
 * health checks, health_checks owned by a new unprivileged role who may create
 * schemas (so she can run a migration herself), and a CHECK constraint on it
 * calling her function, which tries to make her superuser and logs who ran it.
 */
async function withOwnedTable<T>(
  label: string,
  rows: number,
  fn: (d: TestDatabase, m: Attacker) => Promise<T>,
): Promise<T> {
  const d = await createTestDatabase('apache', { label });
  const role = `mallory_${randomBytes(3).toString('hex')}`;
  const u = new URL(d.url);
  u.username = role;
  u.password = '';
  const m = client(u.toString(), { max: 1 });
  try {
    const sql = d.sql();
    await loadPlainHealthChecks(sql, { rows });
    const r = quoteIdent(role);
    await sql.unsafe(`
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE ROLE ${r} LOGIN;
      GRANT CREATE ON DATABASE ${quoteIdent(d.name)} TO ${r};
      GRANT CREATE ON SCHEMA public TO ${r};
      ALTER TABLE sites OWNER TO ${r}; ALTER TABLE devices OWNER TO ${r}; ALTER TABLE health_checks OWNER TO ${r};`);
    await m.unsafe(`
      CREATE TABLE public.mallory_log (who text);
      GRANT INSERT ON public.mallory_log TO PUBLIC;
      CREATE FUNCTION public.mallory_check(id integer) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $f$
      BEGIN
        IF current_user <> ${quoteLiteral(role)} THEN
          INSERT INTO public.mallory_log (who) VALUES (current_user);
          BEGIN
            EXECUTE format('ALTER ROLE %I SUPERUSER', ${quoteLiteral(role)});
          EXCEPTION WHEN others THEN NULL;
          END;
        END IF;
        RETURN true;
      END $f$;
      ALTER TABLE public.health_checks ADD CONSTRAINT mallory_ok CHECK (public.mallory_check(id));`);
    await d.closeClients();
    return await fn(d, { role, url: u.toString(), sql: m });
  } finally {
    await m.end({ timeout: 5 });
    await d.dropAndClose();
  }
}

async function harm(d: TestDatabase, role: string): Promise<{ ranAs: string[]; superuser: boolean }> {
  const sql = d.sql();
  const ran = await sql.unsafe(`SELECT DISTINCT who FROM public.mallory_log ORDER BY 1`);
  const [r] = await sql.unsafe(`SELECT rolsuper FROM pg_roles WHERE rolname = $1`, [role]);
  await d.closeClients();
  return { ranAs: ran.map((x) => x.who as string), superuser: Boolean(r.rolsuper) };
}

describeWithDatabase('apache', 'who moves the rows: a table owned by a less trusted role', () => {
  it(
    "a superuser's migrate (online, in place) and setup refuse with exit 6 and run none of her code; as the owner it works",
    async () => {
      await withOwnedTable('owner-check', 3_000, async (d, m) => {
        const before = await fingerprint(d.sql(), 'health_checks');
        await d.closeClients();
        const owned = new RegExp(
          `public\\.health_checks is owned by role "${m.role}": its triggers, CHECK constraints and index expressions would run with your rights.*Run (migrate-from-postgres|setup) as ${m.role}`,
        );
        for (const args of [
          [MIGRATE, '--strategy', 'online'],
          [MIGRATE, '--strategy', 'in-place'],
          [MIGRATE],
          ['setup'],
        ]) {
          const r = await runCli([...args, '--database-url', d.url]);
          expect(await harm(d, m.role), `${args.join(' ')} ran her code`).toEqual({ ranAs: [], superuser: false });
          expectExit(r, 6);
          oneLineError(r.stderr, owned);
        }
        const sql = d.sql();
        expect(await fingerprint(sql, 'health_checks')).toEqual(before);
        expect(await isHypertable(sql, 'health_checks')).toBe(false);
        const [left] = await sql.unsafe(
          `SELECT to_regclass('public.health_checks_tsdb_new')::text AS n, to_regnamespace('homepot_ts')::text AS s`,
        );
        expect(left).toEqual({ n: null, s: null });
        await d.closeClients();

        // As mallory herself: her code runs with her own rights, which is fine.
        const own = await runCli([
          MIGRATE,
          '--strategy',
          'online',
          '--batch-rows',
          '1000',
          '--json',
          '--database-url',
          m.url,
        ]);
        expectExit(own, 0);
        expect(own.json()).toMatchObject({ outcome: 'migrated', strategy: 'online' });
        expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
        expect(await fingerprint(d.sql(), 'health_checks')).toEqual(before);
        await d.closeClients();
        expect(await harm(d, m.role)).toEqual({ ranAs: [], superuser: false });
      });
    },
    SLOW,
  );

  it(
    'an empty table she owns: setup converts it (no row moves, none of her code runs)',
    async () => {
      await withOwnedTable('owner-empty', 0, async (d, m) => {
        const r = await runCli(['setup', '--database-url', d.url]);
        expectExit(r, 0);
        expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
        await d.closeClients();
        expect(await harm(d, m.role)).toEqual({ ranAs: [], superuser: false });
      });
    },
    SLOW,
  );

  it(
    'a trigger the owner adds to the new table while an online migration waits: the next run refuses with exit 6 naming it',
    async () => {
      await withOwnedTable('owner-trigger', 30_000, async (d, m) => {
        // mallory starts the migration; it is killed in the middle of the copy (her state row held, as in migrate.test.ts).
        await killMidCopy(d, 500, m.url);
        await m.sql.unsafe(`
        CREATE FUNCTION public.mallory_trigger() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
          IF current_user <> ${quoteLiteral(m.role)} THEN INSERT INTO public.mallory_log (who) VALUES (current_user); END IF;
          RETURN NEW;
        END $f$;
        CREATE TRIGGER mallory_was_here BEFORE INSERT OR UPDATE ON public.health_checks_tsdb_new
          FOR EACH ROW EXECUTE FUNCTION public.mallory_trigger();`);
        const [copied] = await d.sql().unsafe(`SELECT count(*)::int AS n FROM health_checks_tsdb_new`);
        await d.closeClients();

        const r = await runCli([MIGRATE, '--batch-rows', '500', '--database-url', m.url]);
        expectExit(r, 6);
        oneLineError(
          r.stderr
            .split('\n')
            .filter((l) => !/^(preparing|copying|adding|replaying|verifying|validating|final step)/.test(l))
            .join('\n'),
          /trigger .*mallory_was_here on public\.health_checks_tsdb_new.* was added to the migration's new table: it would run with your rights/,
        );
        const [after] = await d.sql().unsafe(`SELECT count(*)::int AS n FROM health_checks_tsdb_new`);
        expect(after.n).toBe(copied.n);
        expect(await isHypertable(d.sql(), 'health_checks')).toBe(false);
        await d.closeClients();

        // Without it, the migration continues and finishes.
        await m.sql.unsafe(`DROP TRIGGER mallory_was_here ON public.health_checks_tsdb_new`);
        const again = await runCli([MIGRATE, '--batch-rows', '500', '--json', '--database-url', m.url]);
        expectExit(again, 0);
        expect(again.json()).toMatchObject({ outcome: 'migrated', resumed: true });
      });
    },
    SLOW,
  );
});

describeWithDatabase('apache', 'derived names: cut like PostgreSQL cuts identifiers', (db) => {
  it(
    'a table named with 60 bytes of multibyte characters migrates online; every derived name fits in 63 bytes and is valid UTF-8; cleanup drops the old table',
    async () => {
      const name = 'ü'.repeat(30); // 60 bytes
      expect(Buffer.byteLength(name)).toBe(60);
      const sql = db().sql();
      await sql.unsafe(`
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE ${quoteIdent(name)} (id bigserial, ts timestamptz NOT NULL, v integer, PRIMARY KEY (id, ts));
      CREATE INDEX ${quoteIdent(`${'ä'.repeat(28)}_v_idx`)} ON ${quoteIdent(name)} (v, ts);
      INSERT INTO ${quoteIdent(name)} (ts, v) SELECT now() - i * interval '1 minute', i FROM generate_series(1, 5000) i;`);
      const before = await fingerprint(sql, quoteIdent(name));
      await db().closeClients();

      const notices: string[] = [];
      const r = await runCli([
        MIGRATE,
        '--table',
        `"${name}"`,
        '--time-column',
        'ts',
        '--strategy',
        'online',
        '--batch-rows',
        '1000',
        '--json',
        '--database-url',
        db().url,
      ]);
      expectExit(r, 0);
      notices.push(...r.stderr.split('\n').filter((l) => /truncated/.test(l)));
      expect(notices).toEqual([]);
      expect(r.json()).toMatchObject({ outcome: 'migrated', strategy: 'online' });
      const s = db().sql();
      expect(await fingerprint(s, quoteIdent(name))).toEqual(before);
      const names = await s.unsafe(`
      SELECT c.relname::text AS name, octet_length(c.relname::text) AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND (c.relname LIKE 'ü%' OR c.relname LIKE 'ä%')
      UNION ALL
      SELECT con.conname::text, octet_length(con.conname::text) FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
      WHERE n.nspname = 'public' AND con.conname LIKE 'ü%'`);
      const old = `${'ü'.repeat(23)}_pre_timescaledb`;
      expect(names.map((x) => x.name)).toContain(old);
      for (const x of names) {
        expect(x.bytes, x.name).toBeLessThanOrEqual(63);
        expect(x.name).not.toContain('\uFFFD');
        expect(Buffer.from(x.name, 'utf8').toString('utf8')).toBe(x.name);
      }
      const [st] = await s.unsafe(`SELECT old_table, new_table, log_table, capture_fn FROM homepot_ts.migration`);
      for (const v of Object.values(st)) {
        expect(Buffer.byteLength(v as string)).toBeLessThanOrEqual(63);
        expect(v as string).not.toContain('\uFFFD');
      }
      expect(st.new_table).toBe(`${'ü'.repeat(27)}_tsdb_new`);
      await db().closeClients();

      const cleanup = await runCli([MIGRATE, 'cleanup', '--table', `"${name}"`, '--database-url', db().url]);
      expectExit(cleanup, 0);
      const [left] = await db()
        .sql()
        .unsafe(`SELECT to_regclass($1)::text AS old, to_regclass($2) IS NOT NULL AS table`, [
          quoteIdent(old),
          quoteIdent(name),
        ]);
      expect(left).toEqual({ old: null, table: true });
      await db().closeClients();
    },
    SLOW,
  );
});
