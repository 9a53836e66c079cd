/**
 * Issue 9, item 5: a migrate-from-postgres --source rerun never deletes rows
 * the source does not own. After the cutover HOMEPOT writes to the target
 * (new ids from the target's sequence, in the same time windows as copied
 * rows); a rerun before `finish` reconciles the windows that differ by key:
 * rows the source changed are updated, rows the source deleted (and we had
 * copied) are deleted, rows written on the target stay. After `finish`, a
 * rerun refuses (exit 4) and changes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { oneLineError, snapshot } from './support/assertions.js';
import { runCli as run, type CliResult } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { loadSource, migrateArgs, on } from './support/remote-source.js';

function runCli(args: string[]): Promise<CliResult> {
  return run(args, { timeoutMs: 60_000 });
}

describeWithDatabase(
  'postgres',
  "migrate-from-postgres --source: a rerun keeps the target's own rows; finish ends it",
  (source) => {
    let target: TestDatabase;
    beforeAll(async () => {
      await loadSource(source().sql(), { rows: 6_000, days: 3 });
      await source().closeClients();
      target = await createTestDatabase('apache', { label: 'security-source-rerun' });
    });
    afterAll(async () => {
      await target?.dropAndClose();
    });

    it('a rerun updates the changed row, deletes the row the source deleted, keeps the rows written on the target, and says so', async () => {
      const first = await runCli(migrateArgs(source().url, target.url, '--json', '--batch-rows', '2000'));
      expect(first.code, first.stderr).toBe(0);
      expect(first.json()).toMatchObject({
        outcome: 'migrated',
        copied: { rows: 6_000 },
        caughtUp: { inserted: 0, updated: 0, deleted: 0, keyColumn: 'id' },
      });

      // HOMEPOT after the cutover, on the target: new ids from the target's sequence, in the windows of
      // copied rows (two of them in the very windows of the rows that change on the source below).
      await on(
        target,
        `
      INSERT INTO health_checks (device_id, is_healthy, response_data, error_message, "timestamp")
      SELECT device_id, true, '{"written": "on the target"}', 'target ' || id, "timestamp" + interval '1 second'
      FROM health_checks WHERE id IN (500, 700) OR id % 400 = 11`,
      );
      const [mine] = await on(
        target,
        `SELECT count(*)::int AS n, min(id)::int AS lo FROM health_checks WHERE error_message LIKE 'target %'`,
      );
      expect(mine!.n).toBe(17);
      // and on the source: one row changed, one deleted
      await on(
        source(),
        `
      UPDATE health_checks SET is_healthy = NOT is_healthy, error_message = 'changed on the source' WHERE id = 500;
      DELETE FROM health_checks WHERE id = 700;`,
      );

      const r = await runCli(migrateArgs(source().url, target.url, '--json'));
      expect(r.code, r.stderr).toBe(0);
      const j = r.json();
      expect(j).toMatchObject({
        outcome: 'migrated',
        resumed: true,
        changed: true,
        verification: { ok: true, rows: 5_999, mismatches: [] },
      });
      expect(j.caughtUp).toMatchObject({ inserted: 0, updated: 1, deleted: 1, keyColumn: 'id' });
      expect(j.caughtUp.windows).toBeGreaterThan(0);

      const [after] = await on(
        target,
        `
      SELECT (SELECT count(*)::int FROM health_checks WHERE error_message LIKE 'target %') AS mine,
             (SELECT count(*)::int FROM health_checks) AS total,
             (SELECT error_message FROM health_checks WHERE id = 500) AS changed,
             (SELECT count(*)::int FROM health_checks WHERE id = 700) AS deleted`,
      );
      expect(after).toEqual({ mine: 17, total: 5_999 + 17, changed: 'changed on the source', deleted: 0 });

      // People read the same counts; a rerun with nothing new reconciles nothing and keeps the target's rows.
      await on(source(), `UPDATE health_checks SET error_message = 'changed again' WHERE id = 900`);
      const human = await runCli(migrateArgs(source().url, target.url));
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(
        /caught up .*window\(s\) of \S+ re-copied from the source \([\d,]+ rows read\) and reconciled by key: 0 inserted, 1 updated, 0 deleted/,
      );
      const again = await runCli(migrateArgs(source().url, target.url, '--json'));
      expect(again.code, again.stderr).toBe(0);
      expect(again.json()).toMatchObject({
        changed: false,
        caughtUp: { windows: 0, inserted: 0, updated: 0, deleted: 0 },
      });
      const [still] = await on(
        target,
        `SELECT count(*)::int AS n FROM health_checks WHERE error_message LIKE 'target %'`,
      );
      expect(still!.n).toBe(17);
    });

    it('finish records the end; a rerun then refuses with exit 4 and one line, and changes nothing; finish again changes nothing', async () => {
      const f = await runCli([
        'migrate-from-postgres',
        '--source',
        source().url,
        'finish',
        '--json',
        '--database-url',
        target.url,
      ]);
      expect(f.code, f.stderr).toBe(0);
      const done = f.json();
      expect(done).toMatchObject({
        command: 'migrate-from-postgres finish',
        table: 'public.health_checks',
        changed: true,
      });
      const [state] = await on(
        target,
        `SELECT phase, finished_at FROM homepot_ts.migration WHERE schema_name = 'public' AND table_name = 'health_checks'`,
      );
      expect(state!.phase).toBe('finished');
      expect(new Date(state!.finished_at).toISOString()).toBe(done.finishedAt);

      // the source changes: a rerun would copy it, but the copy is finished
      await on(
        source(),
        `
      UPDATE health_checks SET error_message = 'after finish' WHERE id = 1000;
      DELETE FROM health_checks WHERE id = 1100;`,
      );
      const before = await snapshot(target);
      const [rows] = await on(
        target,
        `SELECT count(*)::int AS n, sum(hashtext(h::text))::text AS h FROM health_checks h`,
      );
      for (const extra of [[], ['--dry-run']]) {
        const r = await runCli(migrateArgs(source().url, target.url, ...extra));
        expect(r.code, r.stderr).toBe(4);
        oneLineError(
          r.stderr,
          new RegExp(
            `the copy of public\\.health_checks from another server was finished at ${done.finishedAt.replace(/[.]/g, '\\.')}`,
          ),
        );
      }
      expect(await snapshot(target)).toEqual(before);
      const [same] = await on(
        target,
        `SELECT count(*)::int AS n, sum(hashtext(h::text))::text AS h FROM health_checks h`,
      );
      expect(same).toEqual(rows);

      const second = await runCli(['migrate-from-postgres', 'finish', '--json', '--database-url', target.url]);
      expect(second.code, second.stderr).toBe(0);
      expect(second.json()).toMatchObject({ changed: false, finishedAt: done.finishedAt });
      const human = await runCli(['migrate-from-postgres', 'finish', '--database-url', target.url]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stderr).toMatch(/nothing to change: the copy of public\.health_checks was already finished at/);

      const status = await runCli(['status', '--json', '--database-url', target.url]);
      expect(status.json().warnings.join('\n')).toMatch(/copy was finished at .* reruns are refused/);
      const here = await runCli(['migrate-from-postgres', '--json', '--database-url', target.url]);
      expect(here.code, here.stderr).toBe(0);
      expect(here.json().warnings.join('\n')).toMatch(/the copy was finished at .*migrate-from-postgres finish/);
    });

    it('finish on a server where nothing was copied: an error, one line', async () => {
      const other = await createTestDatabase('apache', { label: 'security-source-rerun-none' });
      try {
        const r = await runCli(['migrate-from-postgres', 'finish', '--database-url', other.url]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/^error: /m);
      } finally {
        await other.dropAndClose();
      }
    });
  },
);
