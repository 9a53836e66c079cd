/**
 * migrate-from-postgres --source (issue 16): sites and devices are matched to
 * the target's rows by their natural keys (site_id, device_id), never by id;
 * the references of the copied rows are translated; a rerun carries the
 * source's changes to them; a mapping that is ambiguous is refused.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cellAfter, oneLineError, snapshot } from './support/assertions.js';
import { runCli as run, type CliResult } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { loadPlainRows, loadSchema } from './support/homepot.js';
import { withClient } from './support/pg.js';
import { fingerprints, loadSource, migrateArgs, on } from './support/remote-source.js';

function runCli(args: string[]): Promise<CliResult> {
  return run(args, { timeoutMs: 60_000 });
}

/** Every column of each table, with references shown by the referenced row's natural key (ids may differ). */
const NATURAL = {
  health_checks: `(SELECT h.id, d.device_id, h.is_healthy, h.response_time_ms, h.status_code, h.endpoint, h.response_data::text AS response_data, h.error_message, h."timestamp"
                  FROM health_checks h JOIN devices d ON d.id = h.device_id)`,
  devices: `(SELECT d.device_id, d.name, d.device_type, s.site_id, d.ip_address, d.status, d.is_active, d.created_at, d.updated_at
            FROM devices d JOIN sites s ON s.id = d.site_id WHERE d.device_id <> 'src-dev-8')`,
  sites: `(SELECT site_id, name, description, location, is_active, created_at, updated_at FROM sites WHERE site_id <> 'SITE-Z')`,
};

async function expectSameByNaturalKeys(source: TestDatabase, target: TestDatabase): Promise<void> {
  const rels = Object.values(NATURAL);
  const expected = await fingerprints(source.sql(), rels);
  await source.closeClients();
  const actual = await fingerprints(target.sql(), rels);
  await target.closeClients();
  expect(actual).toEqual(expected);
  for (const r of rels) expect(expected[r].rows).toBeGreaterThan(0);
}

/** HOMEPOT's sites and devices on the target, inserted in another order than on the source (other ids), plus a site of its own. */
async function sameFleetOtherIds(source: TestDatabase, target: TestDatabase): Promise<void> {
  const sites = await on(source, `SELECT site_id, name FROM sites ORDER BY id DESC`);
  const devices = await on(source, `SELECT device_id, device_type FROM devices ORDER BY id DESC`);
  const t = target.sql();
  await loadSchema(t);
  await t.unsafe(`DROP TABLE health_checks`);
  await t.unsafe(`INSERT INTO sites (site_id, name) VALUES ('SITE-Z', 'the target''s own')`);
  for (const s of sites) await t`INSERT INTO sites (site_id, name) VALUES (${s.site_id}, ${s.name})`;
  const z = (await t`SELECT id FROM sites WHERE site_id = 'SITE-Z'`)[0].id as number;
  for (const d of devices)
    await t`INSERT INTO devices (device_id, name, device_type, site_id) VALUES (${d.device_id}, 'stale name', ${d.device_type}, ${z})`;
  await target.closeClients();
}

describeWithDatabase(
  'postgres',
  'migrate-from-postgres --source matches devices and sites by natural key',
  (source) => {
    let target: TestDatabase;
    beforeAll(async () => {
      await loadSource(source().sql(), { rows: 6_000, days: 2 });
      await source().closeClients();
      target = await createTestDatabase('apache', { label: 'migrate-remote-keys' });
      await sameFleetOtherIds(source(), target);
    });
    afterAll(async () => {
      await target?.dropAndClose();
    });

    it('a target whose devices and sites have other ids: every health check keeps its device, the rows are equal by natural key', async () => {
      const [ids] = await on(
        target,
        `SELECT count(*)::int AS n FROM devices WHERE device_id LIKE 'src-dev-%' AND id::text <> substr(device_id, 9)`,
      );
      expect(ids!.n, 'the target numbers its devices otherwise').toBeGreaterThan(0);
      const r = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '2000'));
      expect(r.code, r.stderr).toBe(0);
      const j = r.json();
      expect(j).toMatchObject({ outcome: 'migrated', verification: { ok: true, rows: 6_000, mismatches: [] } });
      expect(j.referenced).toEqual([
        expect.objectContaining({ table: 'public.sites', naturalKey: ['site_id'], inserted: 0, translated: true }),
        expect.objectContaining({ table: 'public.devices', naturalKey: ['device_id'], inserted: 0, translated: true }),
      ]);
      expect(j.referenced[1].updated).toBe(12); // name and site (and times) as on the source
      await expectSameByNaturalKeys(source(), target);
      const [own] = await on(target, `SELECT count(*)::int AS n FROM sites WHERE site_id = 'SITE-Z'`);
      expect(own!.n).toBe(1); // the target's own row stays
    });

    it('a rerun carries renamed, offline and moved devices and a changed site; keeps a change made here and says so', async () => {
      await on(
        source(),
        `UPDATE devices SET name = 'renamed on the source' WHERE device_id = 'src-dev-5';
       UPDATE devices SET status = 'offline' WHERE device_id = 'src-dev-1';
       UPDATE devices SET site_id = (SELECT s.id FROM sites s WHERE s.id <> devices.site_id ORDER BY s.id LIMIT 1) WHERE device_id = 'src-dev-7';
       UPDATE sites SET location = 'moved' WHERE site_id = 'SITE-B';
       INSERT INTO devices (device_id, name, device_type, site_id) VALUES ('src-dev-new', 'New', 'kiosk', (SELECT id FROM sites WHERE site_id = 'SITE-A'));`,
      );
      await on(target, `UPDATE devices SET name = 'renamed on the target' WHERE device_id = 'src-dev-8'`);
      const r = await runCli(migrateArgs(source().url, target.url, '--json'));
      expect(r.code, r.stderr).toBe(0);
      const j = r.json();
      expect(j).toMatchObject({ outcome: 'migrated', changed: true, verification: { ok: true } });
      expect(j.referenced).toEqual([
        expect.objectContaining({ table: 'public.sites', inserted: 0, updated: 1, keptHere: 0 }),
        expect.objectContaining({ table: 'public.devices', inserted: 1, updated: 3, keptHere: 1 }),
      ]);
      expect(j.warnings.join('\n')).toMatch(/public\.devices: 1 row\(s\) changed on this server .* kept/);
      const kept = await on(target, `SELECT name FROM devices WHERE device_id = 'src-dev-8'`);
      expect(kept).toEqual([{ name: 'renamed on the target' }]);
      await expectSameByNaturalKeys(source(), target);
      const human = await runCli(migrateArgs(source().url, target.url));
      expect(human.code, human.stderr).toBe(0);
      expect(cellAfter(human.stdout, 'public.devices')).toMatch(/^13 rows matched by device_id: 0 inserted, 0 updated/);
    });
  },
);

describeWithDatabase('postgres', 'migrate-from-postgres --source refuses devices it cannot match', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 500, days: 1 });
    await source().closeClients();
    target = await createTestDatabase('apache', { label: 'migrate-remote-keys-dup' });
    await sameFleetOtherIds(source(), target);
    // Without its unique key, the target holds src-dev-3 twice.
    await on(
      target,
      `ALTER TABLE devices DROP CONSTRAINT devices_device_id_key;
       INSERT INTO devices (device_id, name, device_type, site_id) SELECT device_id, 'twin', device_type, site_id FROM devices WHERE device_id = 'src-dev-3'`,
    );
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('a device_id twice on the target: exit 4 naming the table and the key, nothing changed', async () => {
    const before = await snapshot(target);
    const [rows] = await on(
      target,
      `SELECT count(*)::int AS n, string_agg(name, ',' ORDER BY id) AS names FROM devices`,
    );
    const r = await runCli(migrateArgs(source().url, target.url));
    expect(r.code, r.stderr).toBe(4);
    oneLineError(
      r.stderr,
      /public\.devices on this server has several rows with the same device_id \(\["src-dev-3"\] 2 times\)/,
    );
    expect(await snapshot(target)).toEqual(before);
    const [after] = await on(
      target,
      `SELECT count(*)::int AS n, string_agg(name, ',' ORDER BY id) AS names FROM devices`,
    );
    expect(after).toEqual(rows);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source into the Community edition, other ids', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 3_000, days: 1 });
    await source().closeClients();
    target = await createTestDatabase('timescale', { label: 'migrate-remote-keys-community' });
    await sameFleetOtherIds(source(), target);
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('references are translated in JSON batches (embedded) and through COPY (a real server) alike', async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '1000'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ outcome: 'migrated', verification: { ok: true, rows: 3_000 } });
    expect(r.json().referenced.map((d: { translated: boolean }) => d.translated)).toEqual([true, true]);
    await expectSameByNaturalKeys(source(), target);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source after a finished online migration here', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 200, days: 1 });
    await source().closeClients();
    target = await createTestDatabase('apache', { label: 'migrate-remote-after-online' });
    await loadPlainRows(target.sql());
    await target.closeClients();
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('says the table was already migrated here (not "in progress (done)"): exit 4, nothing changed', async () => {
    const online = await runCli(['migrate-from-postgres', '--strategy', 'online', '--database-url', target.url]);
    expect(online.code, online.stderr).toBe(0);
    const before = await snapshot(target);
    const r = await runCli(migrateArgs(source().url, target.url));
    expect(r.code, r.stderr).toBe(4);
    oneLineError(
      r.stderr,
      /public\.health_checks on this server was already migrated to a hypertable here .*old table is kept/,
    );
    expect(r.stderr).not.toMatch(/in progress/);
    expect(await snapshot(target)).toEqual(before);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source carries grants', (source) => {
  const app = `hp_app_${randomBytes(3).toString('hex')}`;
  const ghost = `hp_ghost_${randomBytes(3).toString('hex')}`;
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 300, days: 1 });
    await on(
      source(),
      `CREATE ROLE ${app} LOGIN; CREATE ROLE ${ghost};
       GRANT SELECT ON health_checks, devices, sites TO ${app};
       GRANT INSERT (device_id, is_healthy, "timestamp") ON health_checks TO ${app};
       GRANT USAGE ON SEQUENCE health_checks_id_seq TO ${app};
       GRANT SELECT ON health_checks TO ${ghost};`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-grants' });
    await on(target, `CREATE ROLE ${app} LOGIN`);
  });
  afterAll(async () => {
    await source()
      .sql()
      .unsafe(`DROP OWNED BY ${app}, ${ghost}; DROP ROLE ${app}; DROP ROLE ${ghost}`)
      .catch(() => {});
    await target?.dropAndClose();
    if (target?.info.adminUrl)
      await withClient(target.info.adminUrl, (a) => a.unsafe(`DROP ROLE IF EXISTS ${app}`)).catch(() => {});
  });

  it('table, column and sequence grants for roles that exist here; the others named', async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().warnings.join('\n')).toMatch(
      new RegExp(`role\\(s\\) ${ghost} have grants on the source but do not exist on this server`),
    );
    const privileges = `SELECT has_table_privilege('${app}', 'health_checks', 'SELECT') AS hc_select,
        has_table_privilege('${app}', 'devices', 'SELECT') AS dev_select,
        has_table_privilege('${app}', 'health_checks', 'INSERT') AS hc_insert_all,
        has_column_privilege('${app}', 'health_checks', 'device_id', 'INSERT') AS insert_device,
        has_column_privilege('${app}', 'health_checks', 'endpoint', 'INSERT') AS insert_endpoint,
        has_sequence_privilege('${app}', 'health_checks_id_seq', 'USAGE') AS seq_usage`;
    const [expected] = await on(source(), privileges);
    const [actual] = await on(target, privileges);
    expect(actual).toEqual(expected);
    expect(actual).toMatchObject({ hc_select: true, insert_device: true, insert_endpoint: false, seq_usage: true });
    // The application's writer, as on the source.
    const url = new URL(target.url);
    url.username = app;
    url.password = '';
    await withClient(url.toString(), async (w) => {
      await w.unsafe(
        `INSERT INTO health_checks (device_id, is_healthy, "timestamp") SELECT id, true, now() FROM devices LIMIT 1`,
      );
      await expect(
        w.unsafe(
          `INSERT INTO health_checks (device_id, is_healthy, endpoint, "timestamp") SELECT id, true, '/x', now() FROM devices LIMIT 1`,
        ),
      ).rejects.toThrow(/permission denied/);
    });
  });
});
