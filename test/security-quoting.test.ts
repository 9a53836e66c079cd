import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExit, sleep } from './support/assertions.js';
import type { Sql as LibSql } from '../src/db/connection.js';
import { executeRendered } from '../src/db/sql.js';
import { runCli, startCli } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type Sql, type TestDatabase } from './support/databases.js';
import { loadHypertable, loadSchema } from './support/homepot.js';
import { fingerprint, isHypertable, loadPlainHealthChecks } from './support/migration.js';
import { client, quoteIdent } from './support/pg.js';

/*
 * Issue 9, item 2 (no text built from identifiers escapes its quoting; every
 * rendered statement runs alone), the target's pinned search_path (item 3)
 * and the capture function's hardening (item 7). The attacker is a role the
 * test creates (mallory_*); everything the tool runs, it runs as a superuser.
 */

const MIGRATE = 'migrate-from-postgres';
const SLOW = 120_000;

/** A role of our own per test (roles are cluster-wide; other files may have a "mallory" too). */
function attackerName(): string {
  return `mallory_${randomBytes(4).toString('hex')}`;
}

/** The file database's URL, logged in as another role (local clusters trust every role but homepot_pw). */
function urlAs(url: string, role: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = '';
  return u.toString();
}

async function dropRole(d: TestDatabase, role: string): Promise<void> {
  // The role owns objects in this file's database only.
  await d
    .sql()
    .unsafe(`DROP OWNED BY ${quoteIdent(role)} CASCADE`)
    .catch(() => {});
  await d
    .sql()
    .unsafe(`DROP ROLE IF EXISTS ${quoteIdent(role)}`)
    .catch(() => {});
  await d.closeClients();
}

async function isSuperuser(sql: Sql, role: string): Promise<boolean> {
  const [r] = await sql`SELECT rolsuper FROM pg_roles WHERE rolname = ${role}`;
  return Boolean(r?.rolsuper);
}

/*
 * Two column names that, in today's capture function, end its dollar quote
 * ($body$), run a statement as the operator, and reopen a string so the
 * CREATE FUNCTION still succeeds (each name is used twice, as OLD.x and NEW.x):
 *   A, in OLD's list: closes the body; `SET check_function_bodies=0` becomes an
 *     option of the CREATE FUNCTION (applied while it validates, so the cut
 *     body is not checked); then CREATE TABLE pwned(); then opens a comment.
 *   B, in OLD's list: closes the comment, starts `SELECT $a$` (a string that
 *     runs over A and B in NEW's list), and in NEW's list closes it and opens
 *     `||$body$`, which the template's own closing $body$ ends.
 * 63 bytes per name leave no room for ALTER ROLE ... SUPERUSER in A.
 */
const COLUMN_A = '$body$SET check_function_bodies=0;CREATE TABLE pwned();/*';
const COLUMN_B = '*/SELECT $a$||$body$';

describe('the capture function cannot be broken out of (apache)', () => {
  let d: TestDatabase;
  beforeAll(async () => {
    d = await createTestDatabase('apache', { label: 'security-quoting-body' });
    await loadPlainHealthChecks(d.sql(), { rows: 5_000 });
    await d.sql().unsafe(`
      ALTER TABLE health_checks ADD COLUMN ${quoteIdent(COLUMN_A)} text, ADD COLUMN ${quoteIdent(COLUMN_B)} text;
      UPDATE health_checks SET ${quoteIdent(COLUMN_A)} = 'a' || id, ${quoteIdent(COLUMN_B)} = 'b' || id;
      ANALYZE health_checks;`);
    await d.closeClients();
  }, SLOW);
  afterAll(async () => {
    await d?.dropAndClose();
  });

  it(
    'a column named "$body$..." is copied like any other, and nothing in its name runs',
    async () => {
      expect(Buffer.byteLength(COLUMN_A)).toBeLessThanOrEqual(63);
      const before = await fingerprint(d.sql(), 'health_checks');
      await d.closeClients();
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
      const sql = d.sql();
      const [pwned] = await sql`SELECT to_regclass('public.pwned')::text AS t`;
      expect(pwned.t, 'a statement hidden in a column name ran as the operator').toBeNull();
      expectExit(r, 0);
      expect(r.json()).toMatchObject({ outcome: 'migrated', strategy: 'online' });
      expect(await isHypertable(sql, 'health_checks')).toBe(true);
      expect(await fingerprint(sql, 'health_checks')).toEqual(before);
      const [copied] = await sql.unsafe(`
      SELECT count(*) FILTER (WHERE ${quoteIdent(COLUMN_A)} = 'a' || id AND ${quoteIdent(COLUMN_B)} = 'b' || id)::int AS n FROM health_checks`);
      expect(copied.n).toBe(5_000);
      await d.closeClients();
    },
    SLOW,
  );
});

describe('the capture function of a paused online migration (apache)', () => {
  let d: TestDatabase;
  const mallory = attackerName();
  const capture = 'public.health_checks_tsdb_capture()';
  beforeAll(async () => {
    d = await createTestDatabase('apache', { label: 'security-quoting-capture' });
    await loadPlainHealthChecks(d.sql(), { rows: 30_000 });
    await d.sql().unsafe(`
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE ROLE ${mallory} LOGIN;
      CREATE SCHEMA ${mallory} AUTHORIZATION ${mallory};
      GRANT SELECT, INSERT ON health_checks TO ${mallory};
      GRANT SELECT ON devices TO ${mallory};
      GRANT USAGE ON SEQUENCE health_checks_id_seq TO ${mallory};`);
    await d.closeClients();
  }, SLOW);
  afterAll(async () => {
    if (d) {
      await dropRole(d, mallory);
      await d.dropAndClose();
    }
  });

  it(
    'mallory cannot attach it to her table; attached anyway, it records nothing from there and lets her rows through',
    async () => {
      // Start an online migration and stop it (kill -9) once the capture trigger is in place.
      const { child, result } = startCli([
        MIGRATE,
        '--strategy',
        'online',
        '--batch-rows',
        '200',
        '--database-url',
        d.url,
      ]);
      const watcher = d.connect({ max: 1 });
      const deadline = Date.now() + 60_000;
      try {
        for (;;) {
          const [t] = await watcher`
          SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'public.health_checks'::regclass AND tgname = 'homepot_ts_capture') AS ok`;
          if (t.ok) break;
          if (Date.now() > deadline || child.exitCode !== null) {
            child.kill('SIGKILL');
            const r = await result;
            throw new Error(`the capture trigger never appeared (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
          }
          await sleep(2);
        }
        child.kill('SIGKILL');
        await result;
      } finally {
        await watcher.end({ timeout: 5 });
      }
      const sql = d.sql();
      const [still] =
        await sql`SELECT to_regprocedure(${capture}) IS NOT NULL AS fn, to_regclass('public.health_checks_tsdb_log') IS NOT NULL AS log`;
      expect(still, 'the migration was stopped while it captured writes').toEqual({ fn: true, log: true });
      const logRows = async () =>
        Number((await sql`SELECT count(*)::int AS n FROM public.health_checks_tsdb_log`)[0].n);
      const logged = await logRows();

      const m = client(urlAs(d.url, mallory));
      try {
        await m.unsafe(`CREATE TABLE ${mallory}.t (LIKE public.health_checks)`);
        const attach = m.unsafe(
          `CREATE TRIGGER steal AFTER INSERT OR UPDATE OR DELETE ON ${mallory}.t FOR EACH ROW EXECUTE FUNCTION ${capture}`,
        );
        await expect(attach).rejects.toMatchObject({ code: '42501' });

        // Attached anyway (only a superuser could), before and after the row: her rows pass untouched, nothing is logged.
        await sql.unsafe(`
        CREATE TRIGGER planted_before BEFORE INSERT OR UPDATE OR DELETE ON ${mallory}.t FOR EACH ROW EXECUTE FUNCTION ${capture};
        CREATE TRIGGER planted_after AFTER INSERT OR UPDATE OR DELETE ON ${mallory}.t FOR EACH ROW EXECUTE FUNCTION ${capture};`);
        await m.unsafe(`INSERT INTO ${mallory}.t SELECT * FROM public.health_checks ORDER BY id LIMIT 3`);
        expect((await m.unsafe(`SELECT count(*)::int AS n FROM ${mallory}.t`))[0].n).toBe(3);
        await m.unsafe(`UPDATE ${mallory}.t SET is_healthy = NOT is_healthy`);
        await m.unsafe(`DELETE FROM ${mallory}.t`);
        expect((await m.unsafe(`SELECT count(*)::int AS n FROM ${mallory}.t`))[0].n).toBe(0);
        expect(await logRows(), 'rows of another table reached the change log').toBe(logged);

        // Her writes to health_checks itself (no EXECUTE on the function) are captured as before.
        await m.unsafe(`
        INSERT INTO public.health_checks (device_id, is_healthy, "timestamp")
        SELECT id, true, now() - interval '1 hour' FROM public.devices ORDER BY id LIMIT 1`);
        expect(await logRows()).toBe(logged + 1);
      } finally {
        await m.end({ timeout: 5 });
      }

      // The planted triggers go (DROP FUNCTION at the swap would refuse them); the migration then finishes with her row.
      await sql.unsafe(`DROP TRIGGER planted_before ON ${mallory}.t; DROP TRIGGER planted_after ON ${mallory}.t`);
      const before = await fingerprint(sql, 'public.health_checks');
      await d.closeClients();
      const r = await runCli([MIGRATE, '--json', '--database-url', d.url]);
      expectExit(r, 0);
      expect(r.json()).toMatchObject({ outcome: 'migrated', resumed: true });
      expect(await isHypertable(d.sql(), 'health_checks')).toBe(true);
      expect(await fingerprint(d.sql(), 'public.health_checks')).toEqual(before);
      await d.closeClients();
    },
    SLOW,
  );
});

describeWithDatabase('apache', 'rendered statements run alone', (db) => {
  it('executeRendered refuses a text that carries two statements, and runs one', async () => {
    const sql = db().sql() as unknown as LibSql;
    await expect(executeRendered(sql, 'SELECT 1; SELECT 2')).rejects.toMatchObject({ code: '42601' });
    await expect(executeRendered(sql, 'CREATE TABLE twice_a (); CREATE TABLE twice_b ()')).rejects.toMatchObject({
      code: '42601',
    });
    const [t] = await sql`SELECT to_regclass('public.twice_a') AS a, to_regclass('public.twice_b') AS b`;
    expect(t).toEqual({ a: null, b: null });
    const [one] = await executeRendered<{ n: number }[]>(sql, 'SELECT $1::int + 1 AS n', [41]);
    expect(one.n).toBe(42);
    await db().closeClients();
  });
});

/*
 * search_path: a database-level setting another role chose (here set by the
 * superuser on mallory's behalf, as a database owner could) puts mallory's
 * schema first. Her pg_total_relation_size(oid) is an exact match for the
 * call in sql/db/homepot-tables.sql (pg_catalog's takes regclass), so it
 * would win over pg_catalog's even though pg_catalog is searched first.
 */
for (const flavour of ['apache', 'postgres'] as const) {
  describeWithDatabase(flavour, `status ignores a search_path chosen by another role (${flavour})`, (db) => {
    const mallory = attackerName();
    beforeAll(async () => {
      const sql = db().sql();
      if (flavour === 'apache') await loadHypertable(sql);
      else await loadSchema(sql);
      await sql.unsafe(`CREATE ROLE ${mallory} LOGIN; CREATE SCHEMA ${mallory} AUTHORIZATION ${mallory};`);
      await db().closeClients();
      const m = client(urlAs(db().url, mallory));
      try {
        await m.unsafe(`
          CREATE TABLE ${mallory}.calls (who text NOT NULL);
          GRANT INSERT ON ${mallory}.calls TO PUBLIC;
          CREATE FUNCTION ${mallory}.pg_total_relation_size(oid) RETURNS bigint LANGUAGE plpgsql AS $f$
          BEGIN
            INSERT INTO ${mallory}.calls (who) VALUES (current_user);
            BEGIN
              EXECUTE 'ALTER ROLE ${mallory} SUPERUSER';
            EXCEPTION WHEN insufficient_privilege THEN NULL;
            END;
            RETURN pg_catalog.pg_total_relation_size($1::regclass);
          END $f$;`);
      } finally {
        await m.end({ timeout: 5 });
      }
      await db()
        .sql()
        .unsafe(`ALTER DATABASE ${quoteIdent(db().name)} SET search_path = ${mallory}, public`);
      await db().closeClients();
    });
    afterAll(async () => {
      await db()
        .sql()
        .unsafe(`ALTER DATABASE ${quoteIdent(db().name)} RESET search_path`)
        .catch(() => {});
      await dropRole(db(), mallory);
    });

    it('homepot-ts status as a superuser does not call a function from her schema', async () => {
      const r = await runCli(['status', '--json', '--database-url', db().url]);
      const sql = db().sql();
      const [path] = await sql`SELECT current_setting('search_path') AS p`;
      expect(path.p, 'the database setting is in force for other sessions').toContain(mallory);
      const calls = await sql.unsafe(`SELECT who FROM ${mallory}.calls`);
      expect(calls, "her function ran in the tool's session").toEqual([]);
      expect(await isSuperuser(sql, mallory)).toBe(false);
      expectExit(r, 0);
      expect(r.json().tables.find((t: { name: string }) => t.name === 'health_checks')).toMatchObject({
        exists: true,
        schema: 'public',
      });
      await db().closeClients();
    });
  });
}
