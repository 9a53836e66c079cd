/**
 * Issue 12 §1: every command's human output fits the terminal. Each command
 * runs as a child process with COLUMNS set (stdout is a pipe, so COLUMNS is the
 * width) on real servers, and no line of stdout is longer (colour codes do not
 * count). At 60 and 120 columns the tables adapt; --wide keeps every column.
 */
import { stripVTControlCharacters } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase, type TestDatabase } from './support/databases.js';
import { loadPlainRows, loadSchema } from './support/homepot.js';
import { holdJobs } from './support/jobs.js';

/** The longest stdout line, in characters a terminal shows. */
function widest(stdout: string): { width: number; line: string } {
  let best = { width: 0, line: '' };
  for (const line of stdout.split('\n')) {
    const width = [...stripVTControlCharacters(line)].length;
    if (width > best.width) best = { width, line };
  }
  return best;
}

/** Run one command at `columns` and check it succeeded and fits. */
async function fits(db: TestDatabase, args: string[], columns: number, extra: string[] = []): Promise<string> {
  const r = await runCli([...args, ...extra, '--database-url', db.url], { env: { COLUMNS: String(columns) } });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  expect(r.stdout.trim(), args.join(' ')).not.toBe('');
  const w = widest(r.stdout);
  expect(w.width, `${args.join(' ')} at ${columns} columns:\n${w.line}`).toBeLessThanOrEqual(columns);
  return r.stdout;
}

/** Every read-only command with human output, on a database set up and aggregated. */
function readCommands(timescale: boolean, community: boolean): string[][] {
  const ts = timescale
    ? [
        ['jobs'],
        ['chunks'],
        ['chunk-interval'],
        ['retention'],
        ['retention', 'run', '--dry-run', '--older-than', '30 days'],
        ['setup', '--dry-run'],
      ]
    : [];
  const cs = community
    ? [
        ['compression', 'show'],
        ['compression', 'stats'],
      ]
    : [];
  return [['status'], ['aggregates', 'list'], ['create-aggregates', '--dry-run'], ...ts, ...cs];
}

const CASES = [
  { flavour: 'apache', timescale: true, community: false },
  { flavour: 'timescale', timescale: true, community: true },
  { flavour: 'postgres-bare', timescale: false, community: false },
] as const;

for (const { flavour, timescale, community } of CASES) {
  describeWithDatabase(flavour, 'human output fits the terminal', (db) => {
    beforeAll(async () => {
      if (timescale) await loadSchema(db().sql());
      else await loadPlainRows(db().sql());
      await db().closeClients();
    }, 120_000);

    it('setup, create-aggregates (dry run and run) and migrate-from-postgres --dry-run fit 80 columns', async () => {
      if (timescale) {
        await fits(db(), ['setup', '--dry-run'], 80);
        await fits(db(), ['setup'], 80);
        if (community) await holdJobs(db());
        await db().sql().unsafe(`
          INSERT INTO sites (site_id, name) VALUES ('SITE-T1', 'Test site');
          INSERT INTO devices (device_id, name, device_type, site_id)
            SELECT 'dev-' || i, 'Device ' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-T1')
            FROM generate_series(1, 3) i;
          INSERT INTO health_checks (device_id, is_healthy, "timestamp")
            SELECT d.id, true, t FROM devices d, generate_series(now() - INTERVAL '2 days', now(), INTERVAL '10 minutes') t;`);
        await db().closeClients();
        // A plain table with rows, as migrate-from-postgres finds one.
        await db()
          .sql()
          .unsafe(
            `CREATE TABLE legacy_checks (LIKE health_checks); INSERT INTO legacy_checks SELECT * FROM health_checks`,
          );
        await db().closeClients();
        await fits(db(), ['migrate-from-postgres', '--table', 'legacy_checks', '--dry-run'], 80);
      }
      await fits(db(), ['create-aggregates', '--dry-run'], 80);
      await fits(db(), ['create-aggregates'], 80);
      if (community) await holdJobs(db());
    }, 300_000);

    it('every command with human output fits 80 columns', async () => {
      for (const args of readCommands(timescale, community)) await fits(db(), args, 80);
    }, 300_000);

    it('tables adapt: status at 60 and at 120 columns fits each, shows more at 120, and --wide goes past 80', async () => {
      const narrow = await fits(db(), ['status'], 60);
      const broad = await fits(db(), ['status'], 120);
      expect(widest(broad).width).toBeGreaterThan(80);
      expect(broad.length).toBeGreaterThan(0);
      // What 60 columns leave out is named below the tables.
      expect(narrow).toMatch(/not shown to fit 60 columns: .*\(--wide or --json shows them\)/s);
      const wide = await runCli(['status', '--wide', '--database-url', db().url], { env: { COLUMNS: '80' } });
      expect(wide.code, wide.stderr).toBe(0);
      expect(widest(wide.stdout).width).toBeGreaterThan(80);
      expect(wide.stdout).not.toContain('not shown to fit');
      if (timescale) {
        const jobs = await fits(db(), ['jobs'], 60);
        expect(jobs).toMatch(/not shown to fit 60 columns/);
        const wideJobs = await runCli(['jobs', '--wide', '--database-url', db().url], { env: { COLUMNS: '60' } });
        expect(wideJobs.stdout).toMatch(/\bfailures\b/);
        expect(widest(wideJobs.stdout).width).toBeGreaterThan(80);
      }
    }, 300_000);
  });
}
