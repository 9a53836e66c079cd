/**
 * migrate-from-postgres --source (issue 16, cost): verification windows are
 * sized by where the rows are (quantiles of time), not by the min-max span;
 * batches are bounded by bytes as well as rows; a partitioned source is
 * refused up front.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { loadSchema } from './support/homepot.js';
import { expectSourceRefused, fingerprints, loadSource, migrateArgs, on } from './support/remote-source.js';

const TABLES = ['health_checks', 'devices', 'sites'];

async function expectSameRows(source: TestDatabase, target: TestDatabase): Promise<void> {
  const expected = await fingerprints(source.sql(), TABLES);
  await source.closeClients();
  const actual = await fingerprints(target.sql(), TABLES);
  await target.closeClients();
  expect(actual).toEqual(expected);
}

describeWithDatabase('postgres', 'migrate-from-postgres --source with one health check from 1970', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 20_000, days: 2 });
    await source().closeClients();
    // A device without a clock.
    await on(
      source(),
      `INSERT INTO health_checks (device_id, is_healthy, "timestamp") SELECT id, true, '1970-01-01 00:00:07+00' FROM devices WHERE device_id = 'src-dev-1'`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-cost' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('verifies in hourly windows (the outlier in a window of its own), and a catch-up re-reads only the hour that changed', async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().verification).toMatchObject({ ok: true, rows: 20_001, windowSeconds: 3600 });
    await on(
      source(),
      `UPDATE health_checks SET is_healthy = NOT is_healthy WHERE id IN (SELECT id FROM health_checks WHERE "timestamp" > now() - interval '1 day' ORDER BY "timestamp" LIMIT 3)`,
    );
    const again = await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    const j = again.json();
    expect(j.verification).toMatchObject({ ok: true, windowSeconds: 3600 });
    expect(j.caughtUp).toMatchObject({ windows: 1, updated: 3, inserted: 0, deleted: 0 });
    await expectSameRows(source(), target);
  });

  it('a rerun says what it re-copied (windows, rows read), not "copied 0 rows in 0 s" or "writes replayed 0"', async () => {
    const changed = `SELECT id FROM health_checks WHERE "timestamp" > now() - interval '1 day' ORDER BY "timestamp" LIMIT 2`;
    const [hour] = await on(
      source(),
      `SELECT count(*)::int AS n FROM health_checks
       WHERE date_trunc('hour', "timestamp") = (SELECT date_trunc('hour', min("timestamp")) FROM health_checks WHERE id IN (${changed}))`,
    );
    await on(source(), `UPDATE health_checks SET is_healthy = NOT is_healthy WHERE id IN (${changed})`);
    const human = await runCli(migrateArgs(source().url, target.url), { timeoutMs: 60_000 });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(
      `1 window(s) of 1h00m re-copied from the source (${hour!.n.toLocaleString('en-US')} rows read) and reconciled by key: 0 inserted, 2 updated, 0 deleted`,
    );
    expect(human.stdout).not.toMatch(/writes replayed|0 rows in 0 s/);
    await on(source(), `UPDATE health_checks SET is_healthy = NOT is_healthy WHERE id IN (${changed})`);
    const j = (await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 })).json();
    expect(j).not.toHaveProperty('replayed');
    expect(j.caughtUp).toMatchObject({ windows: 1, rows: hour!.n, updated: 2 });
    await expectSameRows(source(), target);
  });

  it('a column added on the source since the copy began is named: exit 4, nothing changed (not "verification failed ... windows")', async () => {
    await on(source(), `ALTER TABLE health_checks ADD COLUMN firmware text DEFAULT '1.0'`);
    await expectSourceRefused(
      source().url,
      target,
      /public\.health_checks changed on the source since the copy began: column firmware \(text\) is on the source but not here/,
    );
    await on(source(), `ALTER TABLE health_checks DROP COLUMN firmware`);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source of wide rows', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 100, days: 1 });
    // 40 rows of 1 MB each that do not compress (hex digits of md5s), stored out of line.
    await on(
      source(),
      `ALTER TABLE health_checks ALTER COLUMN error_message SET STORAGE EXTERNAL;
       UPDATE health_checks SET error_message = (SELECT string_agg(md5(id::text || '-' || g::text), '') FROM generate_series(1, 32768) g) WHERE id <= 40;
       ANALYZE health_checks;`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-wide' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('copies them in batches bounded by bytes (16 MB), not one batch of 40 MB; the rows are equal', async () => {
    const r = await runCli(migrateArgs(source().url, target.url, '--json'), { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.verification).toMatchObject({ ok: true, rows: 100 });
    expect(j.copied.rows).toBe(100);
    expect(j.copied.batches).toBeGreaterThanOrEqual(3);
    await expectSameRows(source(), target);
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source from a partitioned health_checks', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSchema(source().sql());
    await on(
      source(),
      `DROP TABLE health_checks;
       CREATE TABLE health_checks (id serial, device_id integer NOT NULL REFERENCES devices (id), is_healthy boolean NOT NULL,
         "timestamp" timestamptz NOT NULL, PRIMARY KEY (id, "timestamp")) PARTITION BY RANGE ("timestamp");
       CREATE TABLE health_checks_old PARTITION OF health_checks FOR VALUES FROM (MINVALUE) TO (now());
       CREATE TABLE health_checks_new PARTITION OF health_checks FOR VALUES FROM (now()) TO (MAXVALUE);
       INSERT INTO sites (site_id, name) VALUES ('S', 'S');
       INSERT INTO devices (device_id, name, device_type, site_id) SELECT 'd', 'd', 'pos', id FROM sites;
       INSERT INTO health_checks (device_id, is_healthy, "timestamp") SELECT d.id, true, now() - i * interval '1 minute' FROM devices d, generate_series(1, 100) i;`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-partitioned' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('is refused before anything changes: exit 4 naming the table', async () => {
    await expectSourceRefused(
      source().url,
      target,
      /^error: source server: public\.health_checks is a partitioned table/,
    );
  });
});

describeWithDatabase('postgres', 'migrate-from-postgres --source of a table with a generated column', (source) => {
  let target: TestDatabase;
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 100, days: 1 });
    await on(
      source(),
      `ALTER TABLE health_checks ADD COLUMN slow boolean GENERATED ALWAYS AS (response_time_ms > 500) STORED`,
    );
    target = await createTestDatabase('apache', { label: 'migrate-remote-generated' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('is refused before anything changes (not copied as a plain column): exit 4 naming the column', async () => {
    await expectSourceRefused(
      source().url,
      target,
      /^error: source server: public\.health_checks\.slow is a generated column/,
    );
  });
});
