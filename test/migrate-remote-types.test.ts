/**
 * migrate-from-postgres --source (issue 11 §5, issue 16): what a source's
 * columns carry besides their values. A sequence a default uses without
 * owning it is created here from its facts and advanced past the source's
 * value; a default outside the recognised forms is refused up front; index
 * names taken here (TimescaleDB's default time index, another relation) never
 * make the copy fail.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { withClient } from './support/pg.js';
import {
  expectSourceRefused,
  fingerprints,
  insertChecks,
  loadSource,
  migrateArgs,
  on,
} from './support/remote-source.js';

const TABLES = ['health_checks', 'devices', 'sites'];

async function expectSameRows(source: TestDatabase, target: TestDatabase): Promise<void> {
  const expected = await fingerprints(source.sql(), TABLES);
  await source.closeClients();
  const actual = await fingerprints(target.sql(), TABLES);
  await target.closeClients();
  expect(actual).toEqual(expected);
}

const SEQUENCE_FACTS = `
  SELECT data_type::text, start_value::text, min_value::text, max_value::text, increment_by::text, cycle, cache_size::text
  FROM pg_sequences WHERE schemaname = 'public' AND sequencename = 'health_checks_id_seq'`;

describeWithDatabase('postgres', 'migrate-from-postgres --source: a sequence the column does not own', (source) => {
  const app = `hp_app_${randomBytes(3).toString('hex')}`;
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 2_000, days: 1 });
    await source().closeClients();
    // As after a restore or hand-written DDL: CREATE SEQUENCE ...; DEFAULT nextval(...), not OWNED BY the column.
    await on(
      source(),
      `ALTER SEQUENCE health_checks_id_seq OWNED BY NONE;
       ALTER SEQUENCE health_checks_id_seq AS bigint INCREMENT BY 3 MAXVALUE 900000000000 CACHE 4 CYCLE;
       SELECT setval('health_checks_id_seq', (SELECT max(id) FROM health_checks) + 1000);
       CREATE ROLE ${app}; GRANT USAGE ON SEQUENCE health_checks_id_seq TO ${app}`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-seq' });
    await on(target, `CREATE ROLE ${app}`);
  });
  afterAll(async () => {
    await source()
      .sql()
      .unsafe(`DROP OWNED BY ${app}; DROP ROLE ${app}`)
      .catch(() => {});
    await target?.dropAndClose();
    if (target?.info.adminUrl)
      await withClient(target.info.adminUrl, (a) => a.unsafe(`DROP ROLE IF EXISTS ${app}`)).catch(() => {});
  });

  it('creates the sequence here from its facts, renders the default, and advances it after the copy and each catch-up', async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ outcome: 'migrated', verification: { ok: true } });
    await expectSameRows(source(), target);
    const [srcFacts] = await on(source(), SEQUENCE_FACTS);
    const [hereFacts] = await on(target, SEQUENCE_FACTS);
    expect(hereFacts).toEqual(srcFacts);
    expect(hereFacts).toMatchObject({ data_type: 'bigint', increment_by: '3', cycle: true, cache_size: '4' });
    const [def] = await on(
      target,
      `SELECT pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d
       WHERE d.adrelid = 'public.health_checks'::regclass AND d.adnum = 1`,
    );
    expect(def!.expr).toBe("nextval('health_checks_id_seq'::regclass)");
    const [usage] = await on(target, `SELECT has_sequence_privilege('${app}', 'health_checks_id_seq', 'USAGE') AS ok`);
    expect(usage!.ok, 'the USAGE grant on the sequence is carried').toBe(true);
    const [src] = await on(source(), `SELECT last_value::bigint AS v FROM health_checks_id_seq`);
    // The application's next INSERT here takes an id after the source's.
    const [next] = await on(
      target,
      `INSERT INTO health_checks (device_id, is_healthy, "timestamp")
       SELECT id, true, now() - interval '3 days' FROM devices LIMIT 1 RETURNING id::bigint AS id`,
    );
    expect(BigInt(next!.id)).toBe(BigInt(src!.v) + 3n);
    await on(target, `DELETE FROM health_checks WHERE id = ${next!.id}`);

    // A catch-up: the source wrote on; its sequence moved on, so does the one here.
    await insertChecks(source().sql(), {
      rows: 50,
      from: `now() - interval '30 minutes'`,
      span: `interval '10 minutes'`,
    });
    await on(source(), `SELECT setval('health_checks_id_seq', last_value + 3000) FROM health_checks_id_seq`);
    const again = await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    await expectSameRows(source(), target);
    const [src2] = await on(source(), `SELECT last_value::bigint AS v FROM health_checks_id_seq`);
    const [here2] = await on(target, `SELECT last_value::bigint AS v FROM health_checks_id_seq`);
    expect(here2!.v).toBe(src2!.v);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source: a default it does not recognise', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 100, days: 1 });
    await source().closeClients();
    await on(
      source(),
      `ALTER TABLE health_checks ALTER COLUMN endpoint SET DEFAULT lower('/HEALTH' || pg_backend_pid())`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-default' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('is refused before anything changes: exit 4 naming the column and its default', async () => {
    await expectSourceRefused(
      source().url,
      target,
      /^error: source server: public\.health_checks\.endpoint has the default lower\(\('\/HEALTH'::text \|\| pg_backend_pid\(\)\)\), which homepot-ts does not recognise/,
    );
  });
});

// Alembic's naming convention cut to 63 bytes.
const ALEMBIC = 'ix_health_checks_device_id_response_time_ms_status_code_endpoin';

describeWithDatabase('postgres', 'migrate-from-postgres --source: index names taken here', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    expect(Buffer.byteLength(ALEMBIC)).toBe(63);
    await loadSource(source().sql(), { rows: 500, days: 1 });
    await source().closeClients();
    // PostgreSQL names it health_checks_timestamp_idx: TimescaleDB's default time index has that name too.
    await on(
      source(),
      `CREATE INDEX ON health_checks ("timestamp");
       CREATE INDEX "${ALEMBIC}" ON health_checks (device_id, response_time_ms)`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-index-names' });
    await on(
      target,
      `CREATE TABLE alembic_other (device_id int, response_time_ms int);
       CREATE INDEX "${ALEMBIC}" ON alembic_other (device_id, response_time_ms)`,
    );
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it("creates every index (the source's name kept where it is free here), never fails with 42P07", async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({ outcome: 'migrated', verification: { ok: true } });
    const cut = `${ALEMBIC.slice(0, 62)}1`;
    expect(j.warnings.join('\n')).toContain(
      `index ${ALEMBIC} on public.health_checks is named ${cut} here: another relation of schema public on this server has its name`,
    );
    await expectSameRows(source(), target);
    const indexes = await on(
      target,
      `SELECT indexname::text AS name, regexp_replace(indexdef, '^.* USING ', '') AS def
       FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'health_checks' ORDER BY 1`,
    );
    expect(indexes).toEqual([
      { name: 'health_checks_pkey', def: 'btree (id, "timestamp")' },
      { name: 'health_checks_timestamp_idx', def: 'btree ("timestamp")' }, // the source's
      { name: 'health_checks_timestamp_idx1', def: 'btree ("timestamp" DESC)' }, // TimescaleDB's default
      { name: 'idx_health_checks_device_time', def: 'btree (device_id, "timestamp" DESC)' },
      { name: cut, def: 'btree (device_id, response_time_ms)' },
    ]);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source carries the owners at finish', (source) => {
  const owner = `hp_owner_${randomBytes(3).toString('hex')}`;
  const ghost = `hp_ghost_${randomBytes(3).toString('hex')}`;
  let target: TestDatabase;
  const owners = `SELECT c.relname::text AS name, pg_get_userbyid(c.relowner)::text AS owner FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relname IN ('health_checks', 'devices', 'sites', 'health_checks_id_seq', 'devices_id_seq')
    ORDER BY 1`;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 300, days: 1 });
    await source().closeClients();
    await on(
      source(),
      `CREATE ROLE ${owner}; CREATE ROLE ${ghost};
       ALTER TABLE health_checks OWNER TO ${owner}; ALTER TABLE devices OWNER TO ${owner}; ALTER TABLE sites OWNER TO ${ghost}`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-owner' });
    await on(target, `CREATE ROLE ${owner}`);
  });
  afterAll(async () => {
    await source()
      .sql()
      .unsafe(`DROP OWNED BY ${owner}, ${ghost}; DROP ROLE ${owner}; DROP ROLE ${ghost}`)
      .catch(() => {});
    await target?.dropAndClose();
    if (target?.info.adminUrl)
      await withClient(target.info.adminUrl, (a) =>
        a.unsafe(`DROP OWNED BY ${owner}; DROP ROLE IF EXISTS ${owner}`),
      ).catch(() => {});
  });

  it('the copy keeps the tables its own until finish, which gives them to the source owners that exist here', async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().warnings.join('\n')).toContain(
      `the source's owner of public.sites (${ghost}) does not exist on this server`,
    );
    const [me] = await on(target, `SELECT current_user::text AS me`);
    expect((await on(target, owners)).every((o) => o.owner === me!.me)).toBe(true);
    // A separate process: the owners come from the state row.
    const fin = await runCli([
      'migrate-from-postgres',
      'finish',
      '--table',
      'health_checks',
      '--json',
      '--database-url',
      target.url,
    ]);
    expect(fin.code, fin.stderr).toBe(0);
    expect(fin.json()).toMatchObject({
      changed: true,
      owners: [
        { relation: 'public.devices', owner },
        { relation: 'public.health_checks', owner },
      ],
    });
    expect(await on(target, owners)).toEqual([
      { name: 'devices', owner },
      { name: 'devices_id_seq', owner }, // owned by devices.id: follows its table
      { name: 'health_checks', owner },
      { name: 'health_checks_id_seq', owner },
      { name: 'sites', owner: me!.me },
    ]);
    const again = await runCli([
      'migrate-from-postgres',
      'finish',
      '--table',
      'health_checks',
      '--database-url',
      target.url,
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/nothing to change/);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source of enum and domain columns', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 100, days: 1 });
    await source().closeClients();
    await on(
      source(),
      `CREATE TYPE hc_state AS ENUM ('ok', 'degraded', 'down');
       ALTER TABLE health_checks ADD COLUMN state hc_state`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-enum' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('are refused before anything changes, naming the column and the kind of type: exit 4', async () => {
    await expectSourceRefused(
      source().url,
      target,
      /^error: source server: column public\.health_checks\.state has the enum type public\.hc_state: homepot-ts does not create enum types/,
    );
    await on(
      source(),
      `ALTER TABLE health_checks DROP COLUMN state;
       CREATE DOMAIN ms AS integer CHECK (VALUE >= 0); ALTER TABLE health_checks ADD COLUMN latency ms`,
    );
    await expectSourceRefused(
      source().url,
      target,
      /^error: source server: column public\.health_checks\.latency has the domain type public\.ms \(over integer\): homepot-ts does not create domains/,
    );
  });
});
