import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { listChunks } from '../src/chunks.js';
import { detectCapabilities } from '../src/db/capabilities.js';
import type { Sql as LibSql } from '../src/db/connection.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable, loadPlainRows, publicTables } from './support/homepot.js';
import { oneLineError } from './support/assertions.js';

for (const flavour of ['timescale', 'apache'] as const) {
  describeWithDatabase(flavour, 'chunks', (db) => {
    beforeAll(async () => {
      const sql = db().sql();
      await loadHypertable(sql);
      if (flavour === 'timescale') {
        await sql.unsafe(
          `ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = '"timestamp" DESC, id')`,
        );
        await sql.unsafe(`SELECT compress_chunk(c) FROM show_chunks('health_checks') c ORDER BY c LIMIT 1`);
      }
      // A hypertable whose name needs quoting, in another schema.
      await sql.unsafe(`CREATE SCHEMA "Fleet Ops"`);
      await sql.unsafe(`CREATE TABLE "Fleet Ops"."Metrics Raw" (ts timestamptz NOT NULL, v int)`);
      await sql.unsafe(
        `SELECT create_hypertable('"Fleet Ops"."Metrics Raw"', 'ts', chunk_time_interval => INTERVAL '1 hour')`,
      );
      await sql.unsafe(
        `INSERT INTO "Fleet Ops"."Metrics Raw" SELECT now() - i * INTERVAL '1 hour', i FROM generate_series(0, 2) i`,
      );
      await db().closeClients();
    });

    it('library: newest first, limit, oldest first, counts', async () => {
      const sql = db().sql() as unknown as LibSql;
      const caps = await detectCapabilities(sql);
      const all = await listChunks(sql, caps, 'health_checks');
      expect(all.total).toBe(4);
      expect(all.chunks).toHaveLength(4);
      const starts = all.chunks.map((c) => (c.rangeStart as Date).getTime());
      expect(starts).toEqual([...starts].sort((a, b) => b - a));
      const two = await listChunks(sql, caps, 'health_checks', { limit: 2, order: 'oldest' });
      expect(two.chunks).toHaveLength(2);
      expect((two.chunks[0].rangeStart as Date).getTime()).toBe(Math.min(...starts));
      expect(all.chunks.every((c) => (c.totalBytes ?? 0) > 0)).toBe(true);
      if (flavour === 'timescale') {
        expect(all.compressed).toBe(1);
        const oldest = all.chunks[all.chunks.length - 1];
        expect(oldest.compressed).toBe(true);
        expect(oldest.beforeCompressionBytes).toBeGreaterThan(0);
        expect(oldest.afterCompressionBytes).toBeGreaterThan(0);
      } else {
        expect(all.compressed).toBe(0);
      }
      await db().closeClients();
    });

    it('CLI: default table health_checks, --json, --limit, human table', async () => {
      const j = (await runCli(['chunks', '--json', '--limit', '3', '--database-url', db().url])).json();
      expect(j.hypertable).toEqual({ schema: 'public', name: 'health_checks' });
      expect(j.total).toBe(4);
      expect(j.chunks).toHaveLength(3);
      expect(j.order).toBe('newest');
      // --wide: at 80 columns the before → after column is the first to go.
      const human = await runCli(['chunks', 'health_checks', '--wide', '--database-url', db().url]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain('_hyper_');
      expect(human.stdout.match(/_hyper_\d+_\d+_chunk/g)).toHaveLength(4);
      if (flavour === 'timescale') expect(human.stdout).toMatch(/→.*×/);
    });

    it("without a table argument it uses the config's setup.table; an argument wins over it", async () => {
      const dir = await mkdtemp(join(tmpdir(), 'homepot-chunks-config-'));
      try {
        const config = join(dir, 'homepot-ts.json');
        await writeFile(config, JSON.stringify({ setup: { table: '"Fleet Ops"."Metrics Raw"' } }));
        const fromConfig = await runCli(['chunks', '--json', '--config', config, '--database-url', db().url]);
        expect(fromConfig.code, fromConfig.stderr).toBe(0);
        expect(fromConfig.json().hypertable).toEqual({ schema: 'Fleet Ops', name: 'Metrics Raw' });
        const argWins = await runCli([
          'chunks',
          'health_checks',
          '--json',
          '--config',
          config,
          '--database-url',
          db().url,
        ]);
        expect(argWins.json().hypertable).toEqual({ schema: 'public', name: 'health_checks' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('schema-qualified names and names that need quoting work', async () => {
      const r1 = await runCli(['chunks', 'public.health_checks', '--json', '--database-url', db().url]);
      expect(r1.code, r1.stderr).toBe(0);
      const r2 = await runCli(['chunks', '"Fleet Ops"."Metrics Raw"', '--json', '--database-url', db().url]);
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.json().hypertable).toEqual({ schema: 'Fleet Ops', name: 'Metrics Raw' });
      expect(r2.json().total).toBe(3);
    });

    it('unknown table: exit 4, one line; an injection attempt is just an unknown name', async () => {
      const r = await runCli(['chunks', 'nosuch', '--database-url', db().url]);
      expect(r.code).toBe(4);
      oneLineError(r.stderr, /table "nosuch" does not exist/);
      expect(r.stdout).toBe('');
      const before = await publicTables(db().sql());
      await db().closeClients();
      const evil = await runCli(['chunks', 'x; drop table devices', '--database-url', db().url]);
      expect(evil.code).toBe(4);
      oneLineError(evil.stderr, /does not exist/);
      const evil2 = await runCli(['chunks', 'devices"; drop table devices; --', '--database-url', db().url]);
      expect([2, 4]).toContain(evil2.code);
      expect(await publicTables(db().sql())).toEqual(before);
      expect(before).toContain('devices');
      await db().closeClients();
    });

    it('a plain table is not a hypertable: exit 4 with what to do', async () => {
      const r = await runCli(['chunks', 'devices', '--database-url', db().url]);
      expect(r.code).toBe(4);
      oneLineError(r.stderr, /public\.devices is a plain table, not a hypertable/);
    });

    it('a hypertable of 1,200 chunks: the newest 20 by default, a summary line, how to see more; --limit, --all, --since, --compressed filter in SQL', async () => {
      const sql = db().sql();
      await sql.unsafe(`CREATE TABLE big_ticks (ts timestamptz NOT NULL, v int)`);
      await sql.unsafe(`SELECT create_hypertable('big_ticks', 'ts', chunk_time_interval => INTERVAL '1 hour')`);
      // 1,200 hourly chunks ending at 2026-01-01 01:00Z, one row each; in batches (one INSERT into 1,200 chunks takes 1,200 chunk locks).
      for (let from = 0; from < 1200; from += 200) {
        await sql.unsafe(
          `INSERT INTO big_ticks SELECT TIMESTAMPTZ '2026-01-01 00:30Z' - i * INTERVAL '1 hour', i FROM generate_series(${from}, ${from + 199}) i`,
        );
      }
      if (flavour === 'timescale') {
        await sql.unsafe(`ALTER TABLE big_ticks SET (timescaledb.compress)`);
        await sql.unsafe(
          `SELECT compress_chunk(c) FROM show_chunks('big_ticks', older_than => TIMESTAMPTZ '2025-11-12 04:00Z') c`,
        );
      }
      await db().closeClients();
      const url = ['--database-url', db().url];
      const human = await runCli(['chunks', 'big_ticks', ...url], { env: { COLUMNS: '80' } });
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout.match(/_hyper_\d+_\d+_chunk/g)).toHaveLength(20);
      const compressedShare = flavour === 'timescale' ? '3 compressed \\(<1%\\)' : '0 compressed \\(0%\\)';
      expect(human.stdout).toMatch(
        new RegExp(
          `public\\.big_ticks: 1,200 chunks, [\\d.]+ [kMG]?B, ${compressedShare}, 2025-11-12 01:00:00Z\\s+→\\s+2026-01-01 01:00:00Z`,
        ),
      );
      expect(human.stderr.replace(/\s+/g, ' ')).toContain(
        '20 newest of 1200 chunks shown; 1180 more: --limit n or --all shows them',
      );
      for (const line of human.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);

      const page = (await runCli(['chunks', 'big_ticks', '--json', ...url])).json();
      expect(page).toMatchObject({
        total: 1200,
        matching: 1200,
        filters: { limit: 20, since: null, compressed: null },
      });
      expect(page.chunks).toHaveLength(20);
      expect(page.chunks[0].rangeStart).toBe('2026-01-01T00:00:00.000Z');
      expect(page.newest).toBe('2026-01-01T01:00:00.000Z');
      expect(page.oldest).toBe('2025-11-12T01:00:00.000Z');
      expect(page.totalBytes).toBeGreaterThan(0);
      expect((await runCli(['chunks', 'big_ticks', '--json', '--limit', '5', ...url])).json().chunks).toHaveLength(5);
      const all = (await runCli(['chunks', 'big_ticks', '--json', '--all', ...url])).json();
      expect(all.chunks).toHaveLength(1200);
      const since = (await runCli(['chunks', 'big_ticks', '--json', '--since', '2025-12-31T14:00Z', ...url])).json();
      expect(since.matching).toBe(11);
      expect(since.chunks.map((c: any) => c.rangeStart).at(-1)).toBe('2025-12-31T14:00:00.000Z');
      const compressed = (await runCli(['chunks', 'big_ticks', '--json', '--all', '--compressed', ...url])).json();
      const uncompressed = (await runCli(['chunks', 'big_ticks', '--json', '--uncompressed', ...url])).json();
      expect(compressed.matching).toBe(flavour === 'timescale' ? 3 : 0);
      expect(compressed.chunks.every((c: any) => c.compressed)).toBe(true);
      expect(uncompressed.matching).toBe(flavour === 'timescale' ? 1197 : 1200);
      expect(uncompressed.chunks.every((c: any) => !c.compressed)).toBe(true);
      if (flavour === 'timescale') expect(compressed.chunks[0].rangeStart).toBe('2025-11-12T03:00:00.000Z');

      const both = await runCli(['chunks', 'big_ticks', '--compressed', '--uncompressed', ...url]);
      expect(both.code).toBe(2);
      oneLineError(both.stderr, /--compressed and --uncompressed contradict each other/);
      const allAndLimit = await runCli(['chunks', 'big_ticks', '--all', '--limit', '3', ...url]);
      expect(allAndLimit.code).toBe(2);
      oneLineError(allAndLimit.stderr, /--all and --limit contradict each other/);
      const badSince = await runCli(['chunks', 'big_ticks', '--since', 'yesterday', ...url]);
      expect(badSince.code).toBe(2);
      oneLineError(badSince.stderr, /--since "?yesterday"? is neither a timestamp nor an interval ago/);
    }, 180_000);

    it('bad --limit is a usage error (exit 2)', async () => {
      const r = await runCli(['chunks', '--limit', 'ten', '--database-url', db().url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--limit must be a whole number/);
    });
  });
}

describeWithDatabase('postgres', 'chunks without TimescaleDB preloaded', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });
  it('exit 5 naming the missing piece and the fix', async () => {
    const r = await runCli(['chunks', '--database-url', db().url]);
    expect(r.code).toBe(5);
    const expected = db().info.facts.timescaledb.available
      ? /not preloaded.*shared_preload_libraries.*restart/
      : /not installed/;
    oneLineError(r.stderr, expected);
    const j = await runCli(['chunks', '--json', '--database-url', db().url]);
    expect(j.code).toBe(5);
    expect(JSON.parse(j.stderr.trim()).error).toMatchObject({ exitCode: 5 });
    expect(j.stdout).toBe('');
  });
});

describeWithDatabase('postgres-bare', 'chunks with no TimescaleDB at all', (db) => {
  it('exit 5: not installed, with where to get it', async () => {
    const r = await runCli(['chunks', '--database-url', db().url]);
    expect(r.code).toBe(5);
    oneLineError(r.stderr, /not installed on this server.*Install the timescaledb package/);
  });
});
