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
      const human = await runCli(['chunks', 'health_checks', '--database-url', db().url]);
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
