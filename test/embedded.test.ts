import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import postgres from 'postgres';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded.js';

// Every start runs initdb inside WASM: ~4 s on an idle machine, well over 10 s on a busy one.
const SLOW = { timeout: 240_000 };
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A postgres.js client the way the CLI must use it with the embedded server: one connection. */
function connect(url: string, notices: postgres.Notice[] = []) {
  return postgres(url, { max: 1, connect_timeout: 60, onnotice: (n) => notices.push(n) });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((res) => srv.close(res));
  return port;
}

describe('embedded server with TimescaleDB', SLOW, () => {
  let server: EmbeddedServer;
  const logs: string[] = [];

  beforeAll(async () => {
    server = await startEmbedded({ onLog: (line) => logs.push(line) });
  }, SLOW.timeout);
  afterAll(async () => {
    await server?.stop();
  }, SLOW.timeout);

  it('describes itself', () => {
    expect(server).toMatchObject({
      host: '127.0.0.1',
      user: 'postgres',
      database: 'postgres',
      dir: null,
      timescaledb: true,
    });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
  });

  it('offers timescaledb without creating it; CREATE EXTENSION works; reports license and version', async () => {
    const sql = connect(server.url);
    try {
      const avail = await sql`
        SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'timescaledb'`;
      expect(avail).toHaveLength(1);
      expect(avail[0]?.installed_version).toBeNull();

      await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`;
      const [ext] = await sql`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`;
      expect(ext?.extversion).toMatch(/^2\.23\./);
      const [settings] = await sql`
        SELECT current_setting('timescaledb.license', true) AS license,
               current_setting('shared_preload_libraries', true) AS preload`;
      // The TSL (Community) build: compression, caggs and policies are available.
      expect(settings?.license).toBe('timescale');
      // PGlite loads timescaledb on demand; it is not preloaded.
      expect(settings?.preload).toBe('');
    } finally {
      await sql.end();
    }
  });

  it('runs hypertables, compression, continuous aggregates and policies; jobs only via run_job', async () => {
    const sql = connect(server.url);
    try {
      await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`;
      await sql`CREATE TABLE metrics (time timestamptz NOT NULL, device_id text NOT NULL, value double precision)`;
      await sql`SELECT create_hypertable('metrics', 'time', chunk_time_interval => interval '1 day')`;
      await sql`
        INSERT INTO metrics
        SELECT t, 'dev' || (i % 3), i FROM generate_series(now() - interval '10 days', now(), interval '10 minutes')
          WITH ORDINALITY AS g(t, i)`;
      const [{ total } = { total: 0 }] = await sql`SELECT count(*)::int AS total FROM metrics`;
      const chunkCount = async () => (await sql`SELECT count(*)::int AS n FROM show_chunks('metrics')`)[0]?.n as number;
      const compressedCount = async () =>
        (
          await sql`SELECT count(*)::int AS n FROM timescaledb_information.chunks
                    WHERE hypertable_name = 'metrics' AND is_compressed`
        )[0]?.n as number;
      expect(await chunkCount()).toBeGreaterThanOrEqual(10);

      // Compression
      await sql`ALTER TABLE metrics SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id')`;
      const [{ compressJob } = { compressJob: 0 }] =
        await sql`SELECT add_compression_policy('metrics', interval '2 days') AS "compressJob"`;
      expect(compressJob).toBeGreaterThanOrEqual(1000);
      await sql`SELECT compress_chunk(c) FROM show_chunks('metrics', older_than => interval '7 days') c`;
      const manuallyCompressed = await compressedCount();
      expect(manuallyCompressed).toBeGreaterThanOrEqual(2);
      expect((await sql`SELECT count(*)::int AS n FROM metrics`)[0]?.n).toBe(total);

      // Continuous aggregate
      await sql`
        CREATE MATERIALIZED VIEW metrics_hourly WITH (timescaledb.continuous) AS
        SELECT time_bucket('1 hour', time) AS bucket, device_id, avg(value) AS avg_value
        FROM metrics GROUP BY 1, 2 WITH NO DATA`;
      const [{ caggJob } = { caggJob: 0 }] = await sql`
        SELECT add_continuous_aggregate_policy('metrics_hourly', start_offset => interval '30 days',
          end_offset => interval '1 hour', schedule_interval => interval '1 hour') AS "caggJob"`;
      expect(caggJob).toBeGreaterThanOrEqual(1000);
      await sql`CALL refresh_continuous_aggregate('metrics_hourly', NULL, NULL)`;
      expect((await sql`SELECT count(*)::int AS n FROM metrics_hourly`)[0]?.n).toBeGreaterThan(200);

      // Retention
      const [{ retentionJob } = { retentionJob: 0 }] =
        await sql`SELECT add_retention_policy('metrics', interval '5 days') AS "retentionJob"`;
      expect(retentionJob).toBeGreaterThanOrEqual(1000);

      // The jobs are registered, but no background worker scheduler runs in PGlite: nothing
      // has a next_start and job_stats shows no runs.
      const jobs = await sql`
        SELECT j.job_id, j.scheduled, j.next_start, s.total_runs
        FROM timescaledb_information.jobs j
        LEFT JOIN timescaledb_information.job_stats s USING (job_id)
        WHERE j.job_id IN (${compressJob}, ${caggJob}, ${retentionJob})`;
      expect(jobs).toHaveLength(3);
      for (const job of jobs) {
        expect(job.scheduled).toBe(true);
        expect(job.next_start).toBeNull();
        expect(job.total_runs).toBeNull();
      }
      const [{ workers } = { workers: -1 }] = await sql`
        SELECT count(*)::int AS workers FROM pg_stat_activity WHERE backend_type <> 'client backend'`;
      expect(workers).toBe(0);

      // ... but run_job runs a policy in the foreground.
      const chunksBefore = await chunkCount();
      await sql`CALL run_job(${retentionJob})`;
      expect(await chunkCount()).toBeLessThan(chunksBefore);
      const [{ oldRows } = { oldRows: -1 }] =
        await sql`SELECT count(*)::int AS "oldRows" FROM metrics WHERE time < now() - interval '6 days'`;
      expect(oldRows).toBe(0);
      await sql`CALL run_job(${compressJob})`;
      // Every chunk entirely older than 2 days is compressed now (the 7-day ones were dropped).
      expect(await compressedCount()).toBeGreaterThanOrEqual(2);
      await sql`CALL run_job(${caggJob})`;
    } finally {
      await sql.end();
    }
  });

  it('handles messages larger than one TCP chunk (big INSERTs and parameters)', async () => {
    // pglite-socket passes each 'data' chunk on as is; without our reassembly a message
    // cut in pieces made the backend drop the connection ("protocol synchronization was lost").
    const sql = connect(server.url);
    try {
      const big = 'x'.repeat(2_000_000);
      const [r] = await sql`SELECT length(${big}::text) AS n`;
      expect(r?.n).toBe(2_000_000);
      const values = Array.from({ length: 20_000 }, (_, i) => i);
      const [s] = await sql`SELECT sum(v)::bigint AS s FROM unnest(${values}::int[]) AS v`;
      expect(Number(s?.s)).toBe((20_000 * 19_999) / 2);
    } finally {
      await sql.end();
    }
  });

  it('serves sequential clients, ignoring user, database and password', async () => {
    const first = connect(server.url);
    for (let i = 0; i < 5; i++) expect((await first`SELECT ${i}::int AS i`)[0]?.i).toBe(i);
    await first.end();

    const other = connect(`postgres://someone:secret@127.0.0.1:${server.port}/otherdb`);
    try {
      const [who] = await other`SELECT current_user, current_database()`;
      // One PGlite backend serves everything; its database is template1, not postgres.
      expect(who).toEqual({ current_user: 'postgres', current_database: 'template1' });
    } finally {
      await other.end();
    }
  });

  it('queues a second concurrent connection until the first closes', async () => {
    // B asks while A is connected and still working. The order is read from the server: B's row
    // is numbered after every row A committed, B's statement saw all of them and not A's last
    // transaction (left open when A disconnected, rolled back by the session reset), and A never
    // saw B's row while connected. On the client side, B's query went out only after A closed:
    // the server did not finish B's handshake before. Two layers queue: pglite-socket's own
    // connection queue and the PGlite exclusive lock our socket wrapper takes for a connection's
    // life (src/db/embedded-socket.ts); with either alone this passes, with neither it fails.
    const events: string[] = [];
    let asked!: () => void;
    const bAsked = new Promise<void>((resolve) => (asked = resolve));
    const a = connect(server.url);
    const b = postgres(server.url, {
      max: 1,
      connect_timeout: 60,
      // postgres.js's documented socket factory (not in its types): B's socket, to see what B sends.
      ...({
        socket: async () => {
          const s = net.connect(server.port, server.host);
          await once(s, 'connect');
          const write = s.write.bind(s);
          s.write = ((chunk: Uint8Array, ...rest: [BufferEncoding]) => {
            const first = Buffer.from(chunk)[0];
            if (first === 0x00) {
              events.push('b: startup sent'); // the startup message has no type byte
              asked();
            }
            if (first === 0x51 || first === 0x50) events.push('b: query sent'); // 'Q' or 'P'
            return write(chunk, ...rest);
          }) as typeof s.write;
          return s;
        },
      } as object),
    });
    try {
      await a`CREATE TABLE public.queue_order (id serial PRIMARY KEY, who text NOT NULL)`;
      await a`INSERT INTO public.queue_order (who) VALUES ('a-0')`;
      const bQuery = b<{ id: number; seen: string[] }[]>`
        INSERT INTO public.queue_order (who) VALUES ('b')
        RETURNING id, (SELECT array_agg(who ORDER BY id) FROM public.queue_order) AS seen`;
      bQuery.catch(() => {}); // awaited below
      await bAsked;
      for (let i = 1; i <= 20; i++) {
        const [row] = await a`
          INSERT INTO public.queue_order (who) VALUES (${`a-${i}`})
          RETURNING (SELECT count(*)::int FROM public.queue_order WHERE who = 'b') AS b_rows`;
        expect(row?.b_rows, `B's row appeared while A was connected (after a-${i - 1})`).toBe(0);
      }
      await a`BEGIN`;
      await a`INSERT INTO public.queue_order (who) VALUES ('a-open')`;
      await a.end(); // disconnect with the transaction open
      events.push('a: closed');
      const [bRow] = await bQuery;
      expect(bRow?.seen).toEqual(Array.from({ length: 21 }, (_, i) => `a-${i}`));
      const [{ maxA } = { maxA: -1 }] = await b`SELECT max(id)::int AS "maxA" FROM public.queue_order WHERE who <> 'b'`;
      expect(bRow?.id).toBeGreaterThan(maxA);
      // B's statements (postgres.js may first ask for types) all went out after A closed.
      expect(events.slice(0, 2)).toEqual(['b: startup sent', 'a: closed']);
      expect(new Set(events.slice(2))).toEqual(new Set(['b: query sent']));
      await b`DROP TABLE public.queue_order`;
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('gives each connection a fresh session (no leaked transaction or settings)', async () => {
    const first = connect(server.url);
    await first`SET search_path TO pg_catalog`;
    await first`BEGIN`;
    await first`CREATE TABLE public.leak (a int)`;
    await first.end(); // disconnect with the transaction still open

    const notices: postgres.Notice[] = [];
    const second = connect(server.url, notices);
    try {
      const [state] = await second`
        SELECT current_setting('search_path') AS search_path,
               current_setting('client_min_messages') AS cmm,
               to_regclass('public.leak') IS NULL AS rolled_back`;
      expect(state).toEqual({ search_path: '"$user", public', cmm: 'notice', rolled_back: true });
      await second.begin(async (tx) => tx`SELECT 1`);
      expect(notices.map((n) => n.message)).not.toContain('there is already a transaction in progress');
    } finally {
      await second.end();
    }
  });

  it('never sends DEBUG notices, even after RESET ALL brings back the built-in debug3', async () => {
    const notices: postgres.Notice[] = [];
    const sql = connect(server.url, notices);
    try {
      await sql`RESET ALL`;
      expect((await sql`SELECT current_setting('client_min_messages') AS c`)[0]?.c).toBe('debug3');
      await sql`SELECT 1`;
      await sql`CREATE TEMP TABLE noisy (a int)`;
      await sql`DO $$ BEGIN RAISE WARNING 'visible warning'; END $$`;
    } finally {
      await sql.end();
    }
    expect(notices.filter((n) => String(n.severity).startsWith('DEBUG'))).toEqual([]);
    expect(notices.map((n) => n.message)).toContain('visible warning');
  });

  it('passes server warnings and errors to onLog, without DEBUG lines or its own resets', async () => {
    const sql = connect(server.url);
    try {
      await sql`DO $$ BEGIN RAISE WARNING 'for the log'; END $$`;
      await expect(sql`SELECT 1/0`).rejects.toThrow(/division by zero/);
    } finally {
      await sql.end();
    }
    expect(logs).toContain('WARNING: for the log');
    expect(logs).toContain('ERROR: division by zero');
    expect(logs.filter((l) => /DEBUG|no transaction in progress|^WARNING: #/.test(l))).toEqual([]);
  });

  it('survives a client that resets its connection', async () => {
    await new Promise<void>((res, rej) => {
      const socket = net.connect(server.port, '127.0.0.1', () => {
        socket.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])); // SSLRequest
        setTimeout(() => {
          socket.resetAndDestroy(); // RST: the server side sees ECONNRESET
          res();
        }, 300);
      });
      socket.on('error', rej);
    });
    await new Promise((res) => setTimeout(res, 300));
    const sql = connect(server.url);
    try {
      expect((await sql`SELECT 1 AS one`)[0]?.one).toBe(1);
    } finally {
      await sql.end();
    }
  });
});

describe('embedded server without TimescaleDB', SLOW, () => {
  it('has no timescaledb at all, listens on the requested port, stops idempotently', async () => {
    const port = await freePort();
    const server = await startEmbedded({ timescaledb: false, port });
    try {
      expect(server.port).toBe(port);
      expect(server.timescaledb).toBe(false);
      const sql = connect(server.url);
      try {
        expect(await sql`SELECT * FROM pg_available_extensions WHERE name = 'timescaledb'`).toHaveLength(0);
        await expect(sql`CREATE EXTENSION timescaledb`).rejects.toThrow(/not available/);
      } finally {
        await sql.end();
      }
    } finally {
      await Promise.all([server.stop(), server.stop()]);
      await server.stop();
    }
  });
});

describe('embedded server persisted to a directory', SLOW, () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'homepot-embedded-'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('keeps data, extension and hypertables across stop and start; refuses a second user', async () => {
    const dir = join(base, 'nested', 'data'); // parents do not exist yet
    const first = await startEmbedded({ dir });
    expect(first.dir).toBe(dir);
    await expect(startEmbedded({ dir })).rejects.toThrow(/in use/);
    const sql = connect(first.url);
    try {
      await sql`CREATE EXTENSION timescaledb`;
      await sql`CREATE TABLE readings (time timestamptz NOT NULL, device_id text, v int)`;
      await sql`SELECT create_hypertable('readings', 'time')`;
      await sql`INSERT INTO readings VALUES (now(), 'a', 1), (now(), 'b', 2), (now() - interval '30 days', 'c', 3)`;
    } finally {
      await sql.end();
      await first.stop();
    }
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const notData = join(base, 'not-data');
    await mkdir(notData);
    await writeFile(join(notData, 'x.txt'), 'x');
    await expect(startEmbedded({ dir: notData })).rejects.toThrow(/neither empty nor/);

    const second = await startEmbedded({ dir });
    const again = connect(second.url);
    try {
      expect((await again`SELECT sum(v)::int AS s FROM readings`)[0]?.s).toBe(6);
      expect(await again`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`).toHaveLength(1);
      expect(
        await again`SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'readings'`,
      ).toHaveLength(1);
    } finally {
      await again.end();
      await second.stop();
    }
  });
});

describe('embedded server in a child process', SLOW, () => {
  // Compile the current src/db/embedded*.ts (embedded.ts and the modules it imports) for a plain
  // `node` child (no TS loader is installed, and dist/ may be stale). They go under node_modules
  // so their package imports resolve, in a directory of their own marked as ES modules.
  let outDir: string;
  let modulePath: string;
  let dataDir: string;
  beforeAll(async () => {
    outDir = join(ROOT, 'node_modules', '.cache', 'homepot-embedded-test', `embedded-${process.pid}`);
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
    const srcDir = join(ROOT, 'src', 'db');
    for (const file of (await readdir(srcDir)).filter((f) => /^embedded.*\.ts$/.test(f))) {
      const source = await readFile(join(srcDir, file), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      await writeFile(join(outDir, file.replace(/\.ts$/, '.js')), outputText);
    }
    modulePath = join(outDir, 'embedded.js');
    dataDir = await mkdtemp(join(tmpdir(), 'homepot-embedded-child-'));
  });
  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints nothing on stdout and lets the process exit soon after stop()', async () => {
    // postgres.js is left with its default onnotice (console.log, i.e. stdout) on purpose.
    const script = `
      import postgres from 'postgres';
      const { startEmbedded } = await import(${JSON.stringify(pathToFileURL(modulePath).href)});
      const server = await startEmbedded({ dir: ${JSON.stringify(join(dataDir, 'db'))} });
      const sql = postgres(server.url, { max: 1 });
      await sql\`CREATE TABLE t (a int)\`;
      await sql\`INSERT INTO t VALUES (1), (2)\`;
      const rows = await sql\`SELECT a FROM t\`;
      await sql.end();
      await server.stop();
      process.stderr.write('stopped ' + rows.length + '\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stoppedAt = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!stoppedAt && stderr.includes('stopped')) stoppedAt = Date.now();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), SLOW.timeout - 10_000);
    const code = await new Promise<number | null>((res) => child.on('close', res));
    clearTimeout(killer);
    const exitDelay = Date.now() - stoppedAt;

    expect(stderr).toContain('stopped 2');
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(/DEBUG/);
    expect(exitDelay).toBeLessThan(5000); // no handle kept the event loop alive
  });
});
