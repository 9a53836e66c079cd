/**
 * The "nothing changed" snapshot (test/support/catalog.ts) that 31+ assertions rely on: every
 * change below keeps the relations, extensions, job configs and hypertable counts it used to
 * compare, so the old snapshot called each one "nothing changed". Each must now show.
 */
import { beforeAll, expect, it } from 'vitest';
import { snapshot, query } from './support/assertions.js';
import { describeWithDatabase, type TestDatabase } from './support/databases.js';
import { loadHypertable, loadPlainRows } from './support/homepot.js';

/** Run `change`, expect the snapshot to differ in `key`, run `undo`, expect it equal again. */
async function expectSeen(db: TestDatabase, key: string, change: string, undo: string): Promise<void> {
  const before = (await snapshot(db)) as Record<string, unknown>;
  await query(db, change);
  const after = (await snapshot(db)) as Record<string, unknown>;
  expect(before[key], `${key} is in the snapshot`).not.toBeNull();
  expect(after[key], `${change}: ${key} unchanged`).not.toEqual(before[key]);
  await query(db, undo);
  expect(await snapshot(db), `${undo}: not back to the first snapshot`).toEqual(before);
}

describeWithDatabase('postgres-bare', 'catalog snapshot without TimescaleDB', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().sql().unsafe(`CREATE VIEW healthy AS SELECT * FROM health_checks WHERE is_healthy`);
    // An explicit ACL (the default one is NULL), so that a GRANT and its REVOKE come back to it.
    await db().sql().unsafe(`REVOKE SELECT ON devices FROM PUBLIC`);
    await db().closeClients();
  });

  it('has no TimescaleDB parts, and is stable', async () => {
    const s = (await snapshot(db())) as Record<string, unknown>;
    expect(s.jobs).toBeNull();
    expect(Object.keys(s.data as object).sort()).toEqual(['devices', 'health_checks', 'sites']);
    expect(await snapshot(db())).toEqual(s);
  });

  for (const [key, change, undo] of [
    [
      'columns',
      `ALTER TABLE devices ALTER COLUMN name DROP NOT NULL`,
      `ALTER TABLE devices ALTER COLUMN name SET NOT NULL`,
    ],
    [
      'columns',
      `ALTER TABLE devices ALTER COLUMN status SET DEFAULT 'x'`,
      `ALTER TABLE devices ALTER COLUMN status SET DEFAULT 'online'`,
    ],
    [
      'constraints',
      `ALTER TABLE health_checks ADD CONSTRAINT rt CHECK (response_time_ms >= 0)`,
      `ALTER TABLE health_checks DROP CONSTRAINT rt`,
    ],
    ['indexes', `CREATE INDEX hc_dev ON health_checks (device_id)`, `DROP INDEX hc_dev`],
    [
      'views',
      `CREATE OR REPLACE VIEW healthy AS SELECT * FROM health_checks WHERE is_healthy AND status_code = 200`,
      `CREATE OR REPLACE VIEW healthy AS SELECT * FROM health_checks WHERE is_healthy`,
    ],
    ['relations', `GRANT SELECT ON devices TO PUBLIC`, `REVOKE SELECT ON devices FROM PUBLIC`],
    [
      'data',
      `UPDATE devices SET name = name || ' (renamed)' WHERE device_id = 'dev-1'`,
      `UPDATE devices SET name = replace(name, ' (renamed)', '') WHERE device_id = 'dev-1'`,
    ],
  ] as const) {
    it(`sees ${change}`, async () => {
      await expectSeen(db(), key, change, undo);
    });
  }
});

describeWithDatabase('timescale', 'catalog snapshot with TimescaleDB', (db) => {
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db()
      .sql()
      .unsafe(`ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id')`);
    await db().closeClients();
  });

  it('sees a changed compression setting', async () => {
    await expectSeen(
      db(),
      'hypertableCompressionSettings',
      `ALTER TABLE health_checks SET (timescaledb.compress_segmentby = 'device_id, status_code')`,
      `ALTER TABLE health_checks SET (timescaledb.compress_segmentby = 'device_id')`,
    );
  });

  it('sees a changed chunk interval', async () => {
    const [d] = await query<{ i: string }>(
      db(),
      `SELECT time_interval::text AS i FROM timescaledb_information.dimensions WHERE hypertable_name = 'health_checks'`,
    );
    await expectSeen(
      db(),
      'dimensions',
      `SELECT set_chunk_time_interval('health_checks', INTERVAL '3 hours')`,
      `SELECT set_chunk_time_interval('health_checks', INTERVAL '${d.i}')`,
    );
  });
});
