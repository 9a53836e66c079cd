import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { expectExit, oneLineError } from './support/assertions.js';
import { fingerprint, loadPlainHealthChecks } from './support/migration.js';
import { type Sql, client, quoteIdent, quoteLiteral } from './support/pg.js';

/*
 * Issue 9, item 1: the migration state cannot be planted. A less trusted role
 * (mallory, who may create objects in public, or even create schemas) puts a
 * view or a state of her own where homepot-ts looks for its state; a
 * superuser then runs status or migrate-from-postgres. Nothing of hers may
 * run with the superuser's rights, nothing she names may be dropped, and the
 * commands say so in one line (status still works, with a warning).
 */

const MIGRATE = 'migrate-from-postgres';
const SLOW = 120_000;

/** A fresh database with HOMEPOT's plain tables and rows, and a new unprivileged role in it. */
async function withAttacker<T>(
  flavour: 'apache' | 'postgres',
  label: string,
  fn: (d: TestDatabase, m: { role: string; sql: Sql }) => Promise<T>,
): Promise<T> {
  const d = await createTestDatabase(flavour, { label });
  const role = `mallory_${randomBytes(3).toString('hex')}`;
  const url = new URL(d.url);
  url.username = role;
  url.password = '';
  const m = client(url.toString(), { max: 1 });
  try {
    const sql = d.sql();
    await loadPlainHealthChecks(sql, { rows: 500 });
    await sql.unsafe(`CREATE ROLE ${quoteIdent(role)} LOGIN; GRANT CREATE ON SCHEMA public TO ${quoteIdent(role)}`);
    // Her witness: what ran as whom, written by her function wherever it runs.
    await m.unsafe(`
      CREATE TABLE public.mallory_log (who text, at timestamptz DEFAULT now());
      GRANT INSERT ON public.mallory_log TO PUBLIC;
      CREATE FUNCTION public.mallory_spy() RETURNS text LANGUAGE plpgsql VOLATILE AS $f$
      BEGIN
        INSERT INTO public.mallory_log (who) VALUES (current_user);
        BEGIN
          EXECUTE format('ALTER ROLE %I SUPERUSER', ${quoteLiteral(role)});
        EXCEPTION WHEN others THEN NULL;
        END;
        RETURN 'health_checks';
      END $f$;`);
    await d.closeClients();
    return await fn(d, { role, sql: m });
  } finally {
    await m.end({ timeout: 5 });
    await d.dropAndClose();
  }
}

/** Whether her function ran with anyone else's rights, and whether she became superuser. */
async function harm(d: TestDatabase, role: string): Promise<{ ranAs: string[]; superuser: boolean }> {
  const sql = d.sql();
  const ran = await sql.unsafe(`SELECT DISTINCT who FROM public.mallory_log WHERE who <> $1 ORDER BY 1`, [role]);
  const [r] = await sql.unsafe(`SELECT rolsuper FROM pg_roles WHERE rolname = $1`, [role]);
  await d.closeClients();
  return { ranAs: ran.map((x) => x.who as string), superuser: Boolean(r.rolsuper) };
}

/** The old place of the state: a table of the old shape in public, planted, naming health_checks and devices as what to drop. */
const PLANTED_OLD_STATE = `
  CREATE TABLE public.homepot_ts_migration (
    table_name text PRIMARY KEY, strategy text NOT NULL, phase text NOT NULL, source text,
    new_table text, log_table text, capture_fn text, index_names jsonb NOT NULL DEFAULT '{}',
    total_blocks bigint NOT NULL DEFAULT 0, next_block bigint NOT NULL DEFAULT 0,
    copied_blocks int8multirange NOT NULL DEFAULT '{}', rows_copied bigint NOT NULL DEFAULT 0,
    window_seconds integer NOT NULL DEFAULT 3600, batches integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz, result jsonb);
  INSERT INTO public.homepot_ts_migration (table_name, strategy, phase, new_table, log_table, capture_fn)
  VALUES ('health_checks', 'online', 'copying', 'health_checks', 'health_checks', 'mallory_spy');`;

for (const flavour of ['apache', 'postgres'] as const) {
  describeWithDatabase(flavour, 'a planted migration state in the old place (public.homepot_ts_migration)', () => {
    it(
      "a view there whose column calls her function: a superuser's status never runs it, warns and exits 0",
      async () => {
        await withAttacker(flavour, 'state-view', async (d, m) => {
          await m.sql.unsafe(`
          CREATE VIEW public.homepot_ts_migration AS
          SELECT 'health_checks'::text AS table_name, 'online'::text AS strategy, 'copying'::text AS phase,
                 public.mallory_spy() AS new_table, 0::bigint AS rows_copied, 0::bigint AS next_block, 0::bigint AS total_blocks`);
          const r = await runCli(['status', '--json', '--database-url', d.url]);
          expect(await harm(d, m.role)).toEqual({ ranAs: [], superuser: false });
          expectExit(r, 0);
          expect(r.json().warnings.join('\n')).toMatch(
            new RegExp(
              `public\\.homepot_ts_migration \\(a view owned by role "${m.role}"\\) was left by an older homepot-ts or planted; not read`,
            ),
          );
          const human = await runCli(['status', '--database-url', d.url]);
          expectExit(human, 0);
          expect(await harm(d, m.role)).toEqual({ ranAs: [], superuser: false });
          // migrate-from-postgres refuses while it is there (exit 6, one line), and runs nothing of hers either.
          for (const args of [
            [MIGRATE, 'abort'],
            [MIGRATE, 'cleanup'],
          ]) {
            const refused = await runCli([...args, '--database-url', d.url]);
            expectExit(refused, 6);
            oneLineError(
              refused.stderr,
              new RegExp(
                `public\\.homepot_ts_migration \\(a view owned by role "${m.role}"\\) was left by an older homepot-ts or planted; not read`,
              ),
            );
          }
          expect(await harm(d, m.role)).toEqual({ ranAs: [], superuser: false });
        });
      },
      SLOW,
    );

    it(
      'a planted state row naming health_checks as the new table: abort by a superuser exits 6 and drops nothing',
      async () => {
        await withAttacker(flavour, 'state-plant-old', async (d, m) => {
          await m.sql.unsafe(PLANTED_OLD_STATE);
          const before = await fingerprint(d.sql(), 'health_checks');
          const devices = await fingerprint(d.sql(), 'devices');
          await d.closeClients();
          const r = await runCli([MIGRATE, 'abort', '--database-url', d.url]);
          const sql = d.sql();
          const [still] = await sql.unsafe(`SELECT to_regclass('public.health_checks')::text AS t`);
          expect(still.t, 'health_checks survives').toBe('health_checks');
          expect(await fingerprint(sql, 'health_checks')).toEqual(before);
          expectExit(r, 6);
          oneLineError(
            r.stderr,
            new RegExp(`public\\.homepot_ts_migration \\(a table owned by role "${m.role}"\\).*not read`),
          );
          expect(await fingerprint(sql, 'devices')).toEqual(devices);
          await d.closeClients();
        });
      },
      SLOW,
    );
  });
}

for (const flavour of ['apache', 'postgres'] as const) {
  describeWithDatabase(flavour, 'a schema homepot_ts that homepot-ts did not create', () => {
    it(
      'owned by her, with a state naming health_checks: abort, cleanup and migrate exit 6 naming it and her; status warns and exits 0',
      async () => {
        await withAttacker(flavour, 'state-schema', async (d, m) => {
          await d.sql().unsafe(`GRANT CREATE ON DATABASE ${quoteIdent(d.name)} TO ${quoteIdent(m.role)}`);
          await d.closeClients();
          await m.sql.unsafe(`
          CREATE SCHEMA homepot_ts;
          GRANT USAGE ON SCHEMA homepot_ts TO PUBLIC;
          CREATE TABLE homepot_ts.migration (
            schema_name text NOT NULL, table_name text NOT NULL, strategy text NOT NULL, phase text NOT NULL, source text,
            table_oid oid, new_table text, new_table_oid oid, log_table text, log_table_oid oid, capture_fn text, capture_fn_oid oid,
            old_table text, old_table_oid oid, index_names jsonb NOT NULL DEFAULT '{}', total_blocks bigint NOT NULL DEFAULT 0,
            next_block bigint NOT NULL DEFAULT 0, copied_blocks int8multirange NOT NULL DEFAULT '{}', rows_copied bigint NOT NULL DEFAULT 0,
            window_seconds integer NOT NULL DEFAULT 3600, batches integer NOT NULL DEFAULT 0, started_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz, result jsonb, PRIMARY KEY (schema_name, table_name));
          GRANT SELECT ON homepot_ts.migration TO PUBLIC;
          INSERT INTO homepot_ts.migration (schema_name, table_name, strategy, phase, table_oid, new_table, new_table_oid, log_table, log_table_oid, capture_fn, old_table, old_table_oid)
          SELECT 'public', 'health_checks', 'online', 'copying', 1, 'health_checks', 'public.health_checks'::regclass, 'devices', 'public.devices'::regclass,
                 'mallory_spy', 'health_checks', 'public.health_checks'::regclass;`);
          const before = await fingerprint(d.sql(), 'health_checks');
          const devices = await fingerprint(d.sql(), 'devices');
          await d.closeClients();
          const owned = new RegExp(
            `schema homepot_ts is owned by role "${m.role}", not by you or a superuser: homepot-ts did not create it`,
          );
          const commands =
            flavour === 'apache'
              ? [
                  [MIGRATE, 'abort'],
                  [MIGRATE, 'cleanup'],
                  [MIGRATE, '--strategy', 'online'],
                ]
              : [
                  [MIGRATE, 'abort'],
                  [MIGRATE, 'cleanup'],
                ];
          for (const args of commands) {
            const r = await runCli([...args, '--database-url', d.url]);
            const [still] = await d
              .sql()
              .unsafe(
                `SELECT to_regclass('public.health_checks')::text AS t, to_regclass('public.devices')::text AS d`,
              );
            await d.closeClients();
            expect(still, 'health_checks and devices survive').toEqual({ t: 'health_checks', d: 'devices' });
            expectExit(r, 6);
            oneLineError(r.stderr, owned);
          }
          const status = await runCli(['status', '--json', '--database-url', d.url]);
          expectExit(status, 0);
          expect(status.json().warnings.join('\n')).toMatch(
            new RegExp(`the migration state was not read: ${owned.source}`),
          );
          const sql = d.sql();
          expect(await fingerprint(sql, 'health_checks')).toEqual(before);
          expect(await fingerprint(sql, 'devices')).toEqual(devices);
          const [kind] = await sql.unsafe(
            `SELECT relkind::text AS k FROM pg_class WHERE oid = 'public.health_checks'::regclass`,
          );
          expect(kind.k).toBe('r');
          await d.closeClients();
          expect(await harm(d, m.role)).toEqual({ ranAs: [], superuser: false });
        });
      },
      SLOW,
    );
  });
}

describeWithDatabase('apache', 'the state homepot-ts creates is its own', () => {
  it(
    'an online migration keeps its state in homepot_ts.migration, closed to PUBLIC, and the old table OID from the swap; cleanup drops it and the state',
    async () => {
      await withAttacker('apache', 'state-own', async (d, m) => {
        await d.sql().unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
        await d.closeClients();
        const r = await runCli([MIGRATE, '--strategy', 'online', '--dry-run', '--database-url', d.url]);
        expectExit(r, 0);
        expect(r.stdout).toContain('CREATE SCHEMA IF NOT EXISTS homepot_ts;');
        expect(r.stdout).toContain('REVOKE ALL ON SCHEMA homepot_ts FROM PUBLIC;');
        const run = await runCli([MIGRATE, '--strategy', 'online', '--database-url', d.url]);
        expectExit(run, 0);
        const sql = d.sql();
        const [acl] = await sql.unsafe(
          `
        SELECT (SELECT nspacl::text FROM pg_namespace WHERE nspname = 'homepot_ts') AS schema_acl,
               has_schema_privilege($1, 'homepot_ts', 'USAGE') AS usage`,
          [m.role],
        );
        expect(acl.usage).toBe(false);
        expect(acl.schema_acl ?? '').not.toMatch(/(^|[{,])=/); // no PUBLIC entry
        const [st] = await sql.unsafe(
          `SELECT phase, old_table, old_table_oid::int AS old_oid, (SELECT oid::int FROM pg_class WHERE oid = 'public.health_checks_pre_timescaledb'::regclass) AS real_old FROM homepot_ts.migration`,
        );
        expect(st.phase).toBe('done');
        expect(st.old_oid).toBe(st.real_old);
        await d.closeClients();
        const cleanup = await runCli([MIGRATE, 'cleanup', '--database-url', d.url]);
        expectExit(cleanup, 0);
        const [left] = await d
          .sql()
          .unsafe(
            `SELECT to_regclass('public.health_checks_pre_timescaledb')::text AS old, to_regclass('homepot_ts.migration')::text AS state`,
          );
        expect(left).toEqual({ old: null, state: null });
        await d.closeClients();
      });
    },
    SLOW,
  );
});
