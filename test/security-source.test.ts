/**
 * Issue 9, item 3: migrate-from-postgres --source treats the source server as
 * data, never as code. The source database belongs to mallory (no superuser),
 * who points its search_path at a schema of functions shadowing the catalog
 * functions a tool might call (pg_get_indexdef, pg_get_constraintdef, ...) and
 * whose results would run on the target, and gives health_checks a CHECK
 * constraint and a default calling functions that mallory also planted on the
 * target (in public, where mallory may create objects there). The copy, run
 * as the target's superuser, must create the tables right and run none of it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { oneLineError, snapshot } from './support/assertions.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { client, quoteIdent, withClient } from './support/pg.js';
import { fingerprints, loadSource, on } from './support/remote-source.js';

const TABLES = ['health_checks', 'devices', 'sites'];

function asUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = '';
  return u.toString();
}

describeWithDatabase('postgres', 'migrate-from-postgres --source from a database its owner has booby-trapped', () => {
  const mallory = `mallory_${randomBytes(3).toString('hex')}`;
  let source: TestDatabase;
  let typed: TestDatabase;
  let target: TestDatabase;
  let sourceUrl: string;
  let typedUrl: string;

  /** A source database owned by mallory, with HOMEPOT's tables created by mallory. */
  async function mallorysDatabase(label: string): Promise<[TestDatabase, string]> {
    const db = await createTestDatabase('postgres', { label });
    await db.sql().unsafe(`ALTER DATABASE ${quoteIdent(db.name)} OWNER TO ${mallory}`);
    await db.closeClients();
    const url = asUser(db.url, mallory);
    const m = client(url);
    try {
      await loadSource(m, { rows: 3_000, days: 2 });
    } finally {
      await m.end({ timeout: 5 });
    }
    return [db, url];
  }

  beforeAll(async () => {
    // mallory on the source's cluster (it will own the source database) and on the target's.
    const first = await createTestDatabase('postgres', { label: 'security-source-role' });
    await first.sql().unsafe(`CREATE ROLE ${mallory} LOGIN`);
    await first.dropAndClose();
    [source, sourceUrl] = await mallorysDatabase('security-source');
    [typed, typedUrl] = await mallorysDatabase('security-source-typed');
    target = await createTestDatabase('apache', { label: 'security-source-target' });
    await target.sql().unsafe(`
      CREATE ROLE ${mallory} LOGIN;
      GRANT CREATE ON SCHEMA public TO ${mallory};`);
    await target.closeClients();

    // On the target, as mallory: functions that would run as whoever inserts rows.
    await withClient(asUser(target.url, mallory), (m) =>
      m.unsafe(`
      CREATE TABLE public.ran_as (who text, super boolean);
      GRANT INSERT ON public.ran_as TO PUBLIC;
      CREATE FUNCTION public.hc_ok(integer) RETURNS boolean LANGUAGE plpgsql AS $f$
      BEGIN
        INSERT INTO public.ran_as VALUES (current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user));
        BEGIN EXECUTE 'ALTER ROLE ${mallory} SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
        RETURN true;
      END $f$;
      CREATE FUNCTION public.hc_endpoint() RETURNS text LANGUAGE plpgsql AS $f$
      BEGIN
        INSERT INTO public.ran_as VALUES (current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user));
        BEGIN EXECUTE 'ALTER ROLE ${mallory} SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
        RETURN '/x';
      END $f$;`),
    );

    // On the source, as mallory: the traps.
    const pwn = `CREATE TABLE IF NOT EXISTS public.pwned_on_target (); ALTER ROLE ${mallory} SUPERUSER`;
    const m = client(sourceUrl);
    try {
      await m.unsafe(`
        CREATE SCHEMA mallory_s;
        CREATE FUNCTION mallory_s.pg_get_indexdef(oid) RETURNS text LANGUAGE sql AS $f$ SELECT pg_catalog.pg_get_indexdef($1) || '; ${pwn}' $f$;
        CREATE FUNCTION mallory_s.pg_get_indexdef(oid, integer, boolean) RETURNS text LANGUAGE sql AS $f$ SELECT pg_catalog.pg_get_indexdef($1, $2, $3) || '; ${pwn}' $f$;
        CREATE FUNCTION mallory_s.pg_get_constraintdef(oid) RETURNS text LANGUAGE sql AS $f$ SELECT pg_catalog.pg_get_constraintdef($1) || '; ${pwn}' $f$;
        CREATE FUNCTION mallory_s.pg_get_constraintdef(oid, boolean) RETURNS text LANGUAGE sql AS $f$ SELECT pg_catalog.pg_get_constraintdef($1, $2) || '; ${pwn}' $f$;
        -- These two must keep their statement intact to reach the ones above: honest, and called.
        CREATE TABLE mallory_s.calls (fn text);
        CREATE FUNCTION mallory_s.pg_get_expr(pg_node_tree, oid) RETURNS text LANGUAGE sql AS $f$ INSERT INTO mallory_s.calls VALUES ('pg_get_expr'); SELECT pg_catalog.pg_get_expr($1, $2) $f$;
        CREATE FUNCTION mallory_s.format_type(oid, integer) RETURNS text LANGUAGE sql AS $f$ INSERT INTO mallory_s.calls VALUES ('format_type'); SELECT pg_catalog.format_type($1, $2) $f$;
        CREATE FUNCTION public.hc_ok(integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT true $f$;
        CREATE FUNCTION public.hc_endpoint() RETURNS text LANGUAGE sql AS $f$ SELECT '/x' $f$;
        ALTER TABLE health_checks ADD CONSTRAINT hc_status_ok CHECK (public.hc_ok(status_code));
        ALTER TABLE health_checks ALTER COLUMN endpoint SET DEFAULT public.hc_endpoint();
        CREATE INDEX hc_lower_endpoint ON health_checks (lower(endpoint));
        CREATE INDEX hc_failed ON health_checks ("timestamp") WHERE NOT is_healthy;
        ALTER DATABASE ${quoteIdent(source.name)} SET search_path = mallory_s, pg_catalog, public;`);
    } finally {
      await m.end({ timeout: 5 });
    }
    // A column of a type that is not built in (a domain of mallory's).
    await withClient(typedUrl, (t) =>
      t.unsafe(`
      CREATE DOMAIN public.http_status AS integer CHECK (VALUE > 0);
      ALTER TABLE health_checks ALTER COLUMN status_code TYPE public.http_status;`),
    );
  });

  afterAll(async () => {
    await Promise.all([source, typed].map((d) => d?.dropAndClose()));
    await target?.dropAndClose();
    for (const db of [source, target]) {
      if (db?.info.adminUrl)
        await withClient(db.info.adminUrl, (a) => a.unsafe(`DROP ROLE IF EXISTS ${mallory}`)).catch(() => {});
    }
  });

  it('a column of a type that is not built in: exit 4, one line naming the column and type, nothing changed on the target', async () => {
    const before = await snapshot(target);
    const r = await runCli(['migrate-from-postgres', '--source', typedUrl, '--database-url', target.url], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(4);
    oneLineError(r.stderr, /health_checks\.status_code .*public\.http_status/);
    expect(await snapshot(target)).toEqual(before);
  });

  it("a default calling the source owner's function: exit 4 naming the column and the default, none of it runs, nothing changed", async () => {
    const before = await snapshot(target);
    const r = await runCli(['migrate-from-postgres', '--source', sourceUrl, '--database-url', target.url], {
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(4);
    oneLineError(
      r.stderr,
      /health_checks\.endpoint has the default public\.hc_endpoint\(\), which homepot-ts does not recognise/,
    );
    const [ran] = await on(target, `SELECT (SELECT count(*)::int FROM public.ran_as) AS ran`);
    expect(ran).toEqual({ ran: 0 });
    expect(await snapshot(target)).toEqual(before);
    // The rest of the traps stay for the copy below.
    await withClient(sourceUrl, (m) => m.unsafe(`ALTER TABLE health_checks ALTER COLUMN endpoint DROP DEFAULT`));
  });

  it("creates the tables from facts, copies the rows, runs none of the source's text on the target, and names what it left out", async () => {
    const r = await runCli(['migrate-from-postgres', '--source', sourceUrl, '--database-url', target.url, '--json'], {
      timeoutMs: 60_000,
    });
    const [after] = await on(
      target,
      `
      SELECT to_regclass('public.pwned_on_target') IS NULL AS no_pwned_table,
             (SELECT rolsuper FROM pg_roles WHERE rolname = '${mallory}') AS mallory_super,
             (SELECT count(*)::int FROM public.ran_as) AS ran`,
    );
    expect(after, r.stderr).toEqual({ no_pwned_table: true, mallory_super: false, ran: 0 });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({ outcome: 'migrated', verification: { ok: true, rows: 3_000 } });
    const warnings = j.warnings.join('\n');
    expect(warnings).toMatch(/CHECK constraint hc_status_ok .* not copied/);
    expect(warnings).toMatch(/index hc_lower_endpoint .* not copied/);
    expect(warnings).toMatch(/index hc_failed .* not copied/);

    const expected = await fingerprints(source.sql(), TABLES);
    await source.closeClients();
    const actual = await fingerprints(target.sql(), TABLES);
    await target.closeClients();
    expect(actual).toEqual(expected);

    const [facts] = await on(
      target,
      `
      SELECT (SELECT array_agg(pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint WHERE conrelid = 'public.health_checks'::regclass) AS constraints,
             (SELECT array_agg(pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint WHERE conrelid = 'public.devices'::regclass) AS device_constraints,
             (SELECT pg_get_indexdef('public.idx_health_checks_device_time'::regclass)) AS device_time,
             (SELECT to_regclass('public.hc_lower_endpoint')) IS NULL AS no_expression_index,
             (SELECT to_regclass('public.hc_failed')) IS NULL AS no_partial_index,
             (SELECT array_agg(format('%s %s %s', attname, format_type(atttypid, atttypmod), coalesce(pg_get_expr(d.adbin, d.adrelid), '-')) ORDER BY attnum)
                FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE attrelid = 'public.health_checks'::regclass AND attnum > 0 AND NOT attisdropped) AS columns,
             (SELECT array_agg(format('%s %s', attname, coalesce(pg_get_expr(d.adbin, d.adrelid), '-')) ORDER BY attnum)
                FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE attrelid = 'public.devices'::regclass AND attnum > 0 AND NOT attisdropped) AS device_columns,
             pg_get_serial_sequence('public.health_checks', 'id') AS check_seq,
             nextval(pg_get_serial_sequence('public.health_checks', 'id'))::bigint > (SELECT max(id) FROM health_checks) AS seq_advanced`,
    );
    expect(facts).toMatchObject({
      constraints: ['FOREIGN KEY (device_id) REFERENCES devices(id)', 'PRIMARY KEY (id, "timestamp")'],
      device_constraints: ['UNIQUE (device_id)', 'PRIMARY KEY (id)', 'FOREIGN KEY (site_id) REFERENCES sites(id)'],
      no_expression_index: true,
      no_partial_index: true,
      check_seq: 'public.health_checks_id_seq',
      seq_advanced: true,
      columns: [
        "id integer nextval('health_checks_id_seq'::regclass)",
        'device_id integer -',
        'is_healthy boolean -',
        'response_time_ms integer -',
        'status_code integer -',
        'endpoint character varying(200) -',
        'response_data json -',
        'error_message text -',
        'timestamp timestamp with time zone -',
      ],
    });
    expect(facts.device_time).toMatch(/USING btree \(device_id, "timestamp" DESC\)/);
    expect(facts.device_columns).toEqual(
      expect.arrayContaining(["status 'online'::character varying", 'created_at now()', 'is_active true']),
    );

    // The catalog functions that ran on the source were the real ones: mallory's were never called.
    const [calls] = await on(source, `SELECT count(*)::int AS n FROM mallory_s.calls`);
    expect(calls!.n).toBe(0);
  });
});
