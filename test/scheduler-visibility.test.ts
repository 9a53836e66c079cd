/**
 * Issue 14, "Non-superusers": pg_stat_activity hides other roles' sessions
 * (TimescaleDB's scheduler among them) from a role without
 * pg_read_all_stats, so `status` must not say "no scheduler" to a
 * non-superuser database owner while the scheduler runs.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { quoteIdent } from './support/pg.js';

describeWithDatabase('apache', 'the job scheduler seen by a non-superuser database owner', (db) => {
  it('status --json says running or unknown, never the false "no scheduler" warning', async () => {
    const role = `owner_${randomBytes(3).toString('hex')}`;
    const sql = db().sql();
    await sql.unsafe(`CREATE ROLE ${quoteIdent(role)} LOGIN`);
    try {
      await sql.unsafe(`ALTER DATABASE ${quoteIdent(db().name)} OWNER TO ${quoteIdent(role)}`);
      await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
      // The superuser sees the scheduler's session: it really runs for this database.
      await waitForScheduler();
      const asSuperuser = await runCli(['status', '--json', '--database-url', db().url]);
      expect(asSuperuser.json().scheduler).toEqual({ state: 'running', reason: 'its session is in pg_stat_activity' });

      const u = new URL(db().url);
      u.username = role;
      u.password = '';
      const r = await runCli(['status', '--json', '--database-url', u.toString()]);
      expect(r.code, r.stderr).toBe(0);
      const status = r.json();
      expect(status.server.superuser).toBe(false);
      expect(status.jobs.some((j: { scheduled: boolean }) => j.scheduled)).toBe(true);
      expect(['running', 'unknown']).toContain(status.scheduler.state);
      if (status.scheduler.state === 'unknown')
        expect(status.scheduler.reason).toBe('cannot tell without pg_read_all_stats');
      expect(status.features.jobScheduler).toBe(true);
      expect(status.warnings.join('\n')).not.toMatch(/No TimescaleDB job scheduler/);
      expect(r.stderr).not.toMatch(/No TimescaleDB job scheduler/);

      // The human form says the same on its "job scheduler" line.
      const human = await runCli(['status', '--no-color', '--database-url', u.toString()]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/job scheduler +│? *(running|unknown \(cannot tell without pg_read_all_stats\))/);
      expect(human.stderr).not.toMatch(/No TimescaleDB job scheduler/);

      // doctor, as the same role: runs read-only, and its scheduler check is ok or "cannot tell".
      const d = await runCli(['doctor', '--json', '--database-url', u.toString()]);
      expect(d.stderr).toBe('');
      const sched = d.json().checks.find((c: { id: string }) => c.id === 'scheduler');
      expect(
        sched.status === 'ok' || (sched.status === 'n/a' && /cannot tell/.test(sched.finding)),
        sched.finding,
      ).toBe(true);
    } finally {
      await sql.unsafe(`ALTER DATABASE ${quoteIdent(db().name)} OWNER TO CURRENT_USER`);
      await sql.unsafe(`DROP OWNED BY ${quoteIdent(role)}`);
      await sql.unsafe(`DROP ROLE ${quoteIdent(role)}`);
      await db().closeClients();
    }
  });

  /** The launcher starts a database's scheduler soon after CREATE EXTENSION: wait for it (up to 30 s). */
  async function waitForScheduler(): Promise<void> {
    const sql = db().sql();
    let seen = false;
    for (let i = 0; i < 150 && !seen; i++) {
      const [r] = await sql.unsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE backend_type = 'TimescaleDB Background Worker Scheduler' AND datname = current_database()`,
      );
      seen = (r?.n ?? 0) > 0;
      if (!seen) await new Promise((res) => setTimeout(res, 200));
    }
    expect(seen).toBe(true);
  }
});
