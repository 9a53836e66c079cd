/**
 * Issue 16, left item 5: an online migration of a health_checks with a second
 * unique key (UNIQUE (device_id, "timestamp")) while the application keeps
 * replacing rows through that key (INSERT ... ON CONFLICT (device_id,
 * "timestamp") DO UPDATE, and a new row taking the key of one it deleted).
 * The writer runs for as long as the copy does; the migration must complete
 * with the new table equal to the old one by count and md5.
 */
import { expect, it } from 'vitest';
import { startCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { expectExit, MIGRATE, withDb } from './support/migrate-helpers.js';
import { client, type Sql } from './support/pg.js';

const SLOW = 240_000;

/** Count and md5 over every column, in key order. */
async function contents(sql: Sql, relation: string): Promise<{ rows: number; md5: string }> {
  const [r] = await sql.unsafe(
    `SELECT count(*)::int AS rows, md5(coalesce(string_agg(h::text, E'\\n' ORDER BY id, "timestamp"), '')) AS md5 FROM ${relation} h`,
  );
  return { rows: r.rows as number, md5: r.md5 as string };
}

/** The online migration's phase, or null before it has a state row. */
async function phase(sql: Sql): Promise<string | null> {
  const [exists] = await sql.unsafe(`SELECT to_regclass('homepot_ts.migration') IS NOT NULL AS ok`);
  if (!exists?.ok) return null;
  const [r] = await sql.unsafe(`SELECT phase FROM homepot_ts.migration WHERE table_name = 'health_checks'`);
  return (r?.phase as string | undefined) ?? null;
}

/**
 * One replacement, as the application makes them: every other one updates a
 * row through the second key (a new id, the same device and time), the others
 * delete a row and insert a new one on its device and time, in one transaction.
 */
async function replace(sql: Sql, i: number): Promise<void> {
  if (i % 2 === 0) {
    await sql.unsafe(
      `INSERT INTO health_checks (device_id, is_healthy, response_time_ms, endpoint, "timestamp")
       SELECT device_id, NOT is_healthy, ${i}, '/replaced', "timestamp" FROM health_checks
       WHERE id = (SELECT min(id) + (${i} * 7919) % 20000 FROM health_checks)
       ON CONFLICT (device_id, "timestamp") DO UPDATE
       SET is_healthy = EXCLUDED.is_healthy, response_time_ms = EXCLUDED.response_time_ms, endpoint = EXCLUDED.endpoint`,
    );
    return;
  }
  await sql.begin(async (tx) => {
    const gone = await tx.unsafe(
      `DELETE FROM health_checks WHERE id = (SELECT min(id) + (${i} * 104729) % 20000 FROM health_checks)
       RETURNING device_id, "timestamp"`,
    );
    if (gone.length === 0) return;
    await tx.unsafe(
      `INSERT INTO health_checks (device_id, is_healthy, response_time_ms, endpoint, "timestamp")
       VALUES ($1, true, ${i}, '/new', $2)
       ON CONFLICT (device_id, "timestamp") DO UPDATE SET response_time_ms = EXCLUDED.response_time_ms`,
      [gone[0].device_id, gone[0].timestamp],
    );
  });
}

describeWithDatabase('apache', 'migrate-from-postgres online with a writer replacing rows', () => {
  it(
    'a second unique key and a writer replacing rows through it during the whole copy: migrated, equal by count and md5',
    async () => {
      await withDb('apache', 'mig-writer-uniq', 20_000, async (d) => {
        await d.sql().unsafe(`ALTER TABLE health_checks ADD CONSTRAINT hc_device_time UNIQUE (device_id, "timestamp")`);
        await d.closeClients();
        const { result } = startCli(
          [MIGRATE, '--strategy', 'online', '--batch-rows', '200', '--json', '--database-url', d.url],
          { timeoutMs: SLOW - 30_000 },
        );
        let exited = false;
        void result.then(() => (exited = true));
        const w = client(d.url);
        let duringCopy = 0;
        try {
          // Until the copy has ended (the phase moves on) or the CLI has exited.
          let seen = false;
          for (let i = 0; !exited; i++) {
            const p = await phase(w);
            if (p === 'copying') seen = true;
            else if (seen || (p !== null && p !== 'copying')) break;
            await replace(w, i);
            if (p === 'copying' && (await phase(w)) === 'copying') duringCopy++;
          }
        } finally {
          await w.end({ timeout: 5 });
        }
        const r = await result;
        expectExit(r, 0);
        expect(r.json()).toMatchObject({ outcome: 'migrated', verification: { ok: true } });
        expect(duringCopy, 'replacements made while the copy ran').toBeGreaterThanOrEqual(20);
        // The old table is kept and nobody wrote after the writer stopped: both must be equal.
        const old = await contents(d.sql(), 'health_checks_pre_timescaledb');
        const migrated = await contents(d.sql(), 'health_checks');
        expect(migrated).toEqual(old);
        expect(migrated.rows).toBe(20_000);
      });
    },
    SLOW,
  );
});
