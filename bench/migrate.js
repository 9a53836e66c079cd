#!/usr/bin/env node
// Benchmark: moving health_checks from a plain PostgreSQL table into a hypertable, three ways,
// side by side in one run: a single `INSERT … SELECT` into a new hypertable (the baseline),
// `migrate-from-postgres --strategy in-place` and `--strategy online`. Not a test: numbers for
// the issue's target (online ≤ 1.3× the INSERT … SELECT, no lock on health_checks over 1 s).
// `npm run bench:migrate -- --help` for the flags.
//
// One source database is loaded once (HOMEPOT schema, generate_series data); every variant
// runs on a fresh `CREATE DATABASE … TEMPLATE source` copy. While a variant runs, an observer
// connection does what HOMEPOT's devices do (INSERT a health check, read the last minute)
// every 50 ms and times each round trip: the longest one is the write stall. Its rows are
// marked (endpoint '/bench-observer-<variant>') and counted afterwards to find lost writes.
// Without --database-url a throwaway PostgreSQL 15 + TimescaleDB (Apache) cluster is started
// (as the `postgres` OS user when run as root) and removed at the end, also on error or Ctrl-C.
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { applyHomepotSchema } from '../dist/index.js';

const { values: flags } = parseArgs({
  options: {
    devices: { type: 'string', default: '100' },
    days: { type: 'string', default: '30' },
    'devices-per-site': { type: 'string', default: '10' },
    runs: { type: 'string', default: '1' },
    'database-url': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout
    .write(`npm run bench:migrate -- [--devices 100] [--days 30] [--devices-per-site 10] [--runs 1] [--database-url postgres://admin@host/postgres]
Loads devices x days x 1 check/minute into a plain health_checks table, then times insert-select,
in-place and online (each on a fresh template copy; order rotated between runs). Without
--database-url it runs a throwaway local PostgreSQL 15 + TimescaleDB cluster; with it, it creates
and drops databases of its own on that server (the role needs CREATEDB and TimescaleDB available).
`);
  process.exit(0);
}
const devices = Number(flags.devices);
const days = Number(flags.days);
const perSite = Math.min(Number(flags['devices-per-site']), devices);
const sites = Math.ceil(devices / perSite);
const runs = Number(flags.runs);
for (const [k, v] of Object.entries({ devices, days, 'devices-per-site': perSite, runs })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}

const log = (s) => process.stderr.write(s + '\n');
const ms = (t0) => performance.now() - t0;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const repo = fileURLToPath(new URL('..', import.meta.url));
const quiet = { onnotice: () => {}, idle_timeout: 0 };

// ---------- the server: a throwaway local cluster, or --database-url ----------
const PG_BIN = '/usr/lib/postgresql/15/bin';
let cluster = null; // { dir, dataDir, as, running }
let child = null; // the CLI while it runs
function runAs() {
  if (process.getuid?.() !== 0) return null;
  const parts = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
    ?.split(':');
  if (!parts) throw new Error("running as root and there is no 'postgres' OS user to run PostgreSQL as");
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}
function pgRun(cmd, args) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return spawnSync(join(PG_BIN, cmd), args, {
    cwd: cluster.dir,
    env: { ...env, LC_ALL: 'C', LANG: 'C' },
    encoding: 'utf8',
    ...(cluster.as ? { uid: cluster.as.uid, gid: cluster.as.gid } : {}),
  });
}
function stopCluster() {
  const c = cluster;
  if (!c) return;
  if (c.running) pgRun('pg_ctl', ['-D', c.dataDir, 'stop', '-m', 'fast', '-w', '-t', '60']);
  cluster = null;
  rmSync(c.dir, { recursive: true, force: true });
  log('cluster stopped and removed');
}
async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}
async function startCluster() {
  if (!existsSync(join(PG_BIN, 'initdb')))
    throw new Error(
      `no PostgreSQL 15 in ${PG_BIN} (scripts/provision-test-servers.sh installs it), or pass --database-url`,
    );
  const as = runAs();
  const dir = mkdtempSync(join('/tmp', 'homepot-ts-bench-migrate-'));
  if (as) chownSync(dir, as.uid, as.gid);
  cluster = { dir, dataDir: join(dir, 'data'), as, running: false };
  const init = pgRun('initdb', [
    '-D',
    cluster.dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
  ]);
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}${init.stderr}`);
  const port = await freePort();
  const settings = {
    listen_addresses: "'127.0.0.1'",
    port,
    unix_socket_directories: `'${dir}'`,
    shared_preload_libraries: "'timescaledb'",
    'timescaledb.license': "'apache'",
    'timescaledb.telemetry_level': 'off',
    // sized for a 2-core / 24 GB box; durability settings (fsync, synchronous_commit, full_page_writes) stay default
    shared_buffers: "'1GB'",
    max_wal_size: "'4GB'",
    checkpoint_timeout: "'15min'",
  };
  const conf = join(cluster.dataDir, 'postgresql.conf');
  writeFileSync(
    conf,
    readFileSync(conf, 'utf8') +
      '\n' +
      Object.entries(settings)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n') +
      '\n',
  );
  const start = pgRun('pg_ctl', ['-D', cluster.dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  if (start.status !== 0) {
    const serverLog = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    throw new Error(
      `pg_ctl start failed:\n${start.stdout}${start.stderr}${serverLog.split('\n').slice(-15).join('\n')}`,
    );
  }
  cluster.running = true;
  log(`started a throwaway PostgreSQL 15 cluster on 127.0.0.1:${port} (${dir})`);
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

const adminUrl =
  flags['database-url'] ??
  (await startCluster().catch((e) => {
    stopCluster();
    throw e;
  }));
const dbUrl = (name) => {
  const u = new URL(adminUrl);
  u.pathname = '/' + name;
  return u.toString();
};
const admin = postgres(adminUrl, { max: 1, ...quiet });
const created = new Set();
const tag = `${process.pid}`;
const SRC = `homepot_bench_src_${tag}`;

let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    if (child) child.kill('SIGKILL');
    if (!cluster && created.size) {
      // existing server: drop what we created
      const a = postgres(adminUrl, { max: 1, ...quiet });
      for (const db of created)
        await a
          .unsafe(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
          .catch((e) => log(`could not drop ${db}: ${e.message}`));
      await a.end({ timeout: 5 });
    }
    await admin.end({ timeout: 2 }).catch(() => {});
    stopCluster();
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`\n${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => stopCluster()); // last resort (synchronous)

async function createDb(name, template) {
  for (let attempt = 1; ; attempt++) {
    try {
      // FILE_COPY (PG 15+): a file-level copy after a checkpoint, instead of writing it all to WAL
      const strategy = template && serverNum >= 150000 ? ' STRATEGY = FILE_COPY' : '';
      await admin.unsafe(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}${strategy}` : ''}`);
      created.add(name);
      return dbUrl(name);
    } catch (e) {
      if (e.code !== '55006' || attempt >= 10) throw e; // 55006: template in use (e.g. a background worker)
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${template} AND pid <> pg_backend_pid()`;
      await sleep(500);
    }
  }
}
async function dropDb(name) {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  created.delete(name);
}

// ---------- the observer: HOMEPOT's writes while a variant runs ----------
function startObserver(url, deviceId, marker) {
  const o = postgres(url, {
    max: 1,
    prepare: false,
    ...quiet,
    connection: { lock_timeout: '0', statement_timeout: '0', application_name: 'bench-observer' },
  });
  const st = { writes: 0, failed: 0, maxMs: 0, lastError: null, stop: false };
  const loop = (async () => {
    while (!st.stop) {
      const t = performance.now();
      try {
        await o`INSERT INTO health_checks (device_id, is_healthy, endpoint, "timestamp") VALUES (${deviceId}, true, ${marker}, now())`;
        st.writes++;
        await o`SELECT 1 FROM health_checks WHERE device_id = ${deviceId} AND "timestamp" > now() - interval '1 minute' LIMIT 1`;
      } catch (e) {
        st.failed++;
        st.lastError = e.message;
      }
      st.maxMs = Math.max(st.maxMs, ms(t));
      await sleep(50);
    }
  })();
  return {
    st,
    async stop() {
      st.stop = true;
      await loop;
      await o.end({ timeout: 5 });
      return st;
    },
  };
}

// ---------- the variants ----------
function runCli(strategy, url) {
  return new Promise((resolve) => {
    const args = [
      'bin/homepot-ts.js',
      'migrate-from-postgres',
      '--strategy',
      strategy,
      '--json',
      '--database-url',
      url,
    ];
    child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let [out, err] = ['', ''];
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      child = null;
      resolve({ code: -1, out, err: err + e.message });
    });
    child.on('close', (code) => {
      child = null;
      resolve({ code, out, err });
    });
  });
}
async function insertSelect(sql) {
  await sql`CREATE TABLE hc_new (LIKE health_checks INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`;
  await sql`SELECT create_hypertable('hc_new', by_range('timestamp', INTERVAL '7 days'))`;
  const t = performance.now();
  const res = await sql`INSERT INTO hc_new SELECT * FROM health_checks`;
  return { seconds: ms(t) / 1000, rows: res.count };
}
async function runVariant(name, sourceRows, deviceId) {
  const db = `homepot_bench_${name.replace('-', '_')}_${tag}`;
  const url = await createDb(db, SRC);
  const sql = postgres(url, { max: 1, ...quiet });
  const marker = `/bench-observer-${name}`;
  const r = { name, ok: true };
  try {
    const observer = startObserver(url, deviceId, marker);
    await sleep(200); // observer connected and writing before the variant starts
    const t = performance.now();
    let cli = null;
    try {
      if (name === 'insert-select') Object.assign(r, await insertSelect(sql));
      else cli = await runCli(name, url);
    } finally {
      r.wall = ms(t) / 1000;
      await sleep(200);
      Object.assign(r, { obs: await observer.stop() });
    }
    if (cli) {
      if (cli.code !== 0) {
        r.ok = false;
        log(`${name}: migrate-from-postgres exited ${cli.code}:\n${cli.err.trim() || cli.out.trim()}`);
        return r;
      }
      let report = null;
      try {
        report = JSON.parse(cli.out);
      } catch {
        log(`${name}: stdout is not JSON: ${cli.out.slice(0, 300)}`);
      }
      r.seconds = r.wall;
      r.rows = Number(report?.copied?.rows ?? sourceRows);
      r.toolCopySeconds = report?.copied?.seconds;
      const locks = Array.isArray(report?.locks) ? report.locks.filter((l) => typeof l?.ms === 'number') : [];
      r.toolLock = locks.length ? locks.reduce((a, b) => (b.ms > a.ms ? b : a)) : null;
      const [{ n }] = await sql`SELECT count(*)::int AS n FROM health_checks WHERE endpoint = ${marker}`;
      r.lost = r.obs.writes - n;
      const [{ total, hyper }] = await sql`SELECT (SELECT count(*) FROM health_checks)::bigint AS total,
        EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'health_checks') AS hyper`;
      if (!hyper) r.note = 'health_checks is not a hypertable afterwards';
      else if (Number(total) !== sourceRows + r.obs.writes)
        r.note = `health_checks has ${fmt(Number(total))} rows, expected ${fmt(sourceRows + r.obs.writes)}`;
    }
    log(
      `${name}: ${r.seconds.toFixed(1)} s, ${fmt(r.rows / r.seconds)} rows/s, longest write stall ${fmt(r.obs.maxMs)} ms, ` +
        `${r.obs.writes} observer writes${r.obs.failed ? `, ${r.obs.failed} failed (${r.obs.lastError})` : ''}${r.lost !== undefined ? `, lost ${r.lost}` : ''}${r.note ? `; ${r.note}` : ''}`,
    );
    return r;
  } catch (e) {
    log(`${name}: failed: ${e.message}`);
    return { ...r, ok: false };
  } finally {
    await sql.end({ timeout: 5 });
    await dropDb(db);
  }
}

// ---------- main ----------
let serverNum = 0;
try {
  const [{ v, num }] =
    await admin`SELECT current_setting('server_version') AS v, current_setting('server_version_num')::int AS num`;
  serverNum = num;
  const srcUrl = await createDb(SRC);
  const src = postgres(srcUrl, { max: 1, ...quiet });
  let sourceRows, bytes, ts;
  try {
    await src`CREATE EXTENSION IF NOT EXISTS timescaledb`;
    [ts] =
      await src`SELECT extversion AS version, current_setting('timescaledb.license', true) AS license FROM pg_extension WHERE extname = 'timescaledb'`;
    await applyHomepotSchema(src);
    await src`CREATE INDEX idx_health_checks_device_time ON health_checks (device_id, "timestamp" DESC)`;
    await src`INSERT INTO sites (site_id, name) SELECT 'SITE-' || s, 'Site ' || s FROM generate_series(1, ${sites}::int) s`;
    await src`INSERT INTO devices (device_id, name, device_type, site_id)
              SELECT 'dev-' || i, 'Device ' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-' || (1 + (i - 1) / ${perSite}::int))
              FROM generate_series(1, ${devices}::int) i`;
    const t0 = performance.now();
    const total = devices * days * 1440;
    for (let d = days; d > 0; d--) {
      await src`
        INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, endpoint, response_data, "timestamp")
        SELECT dv.id, random() > 0.03, (20 + random() * 60)::int, 200, '/health',
               json_build_object(
                 'system', json_build_object('cpu_percent', round((5 + random() * 60)::numeric, 1), 'memory_percent', round((30 + random() * 50)::numeric, 1),
                                             'disk_percent', round((40 + random() * 20)::numeric, 1), 'uptime_seconds', (random() * 1e6)::int),
                 'app_metrics', json_build_object('transactions_count', (random() * 8)::int, 'errors_count', (random() < 0.02)::int),
                 'network', json_build_object('latency_ms', round((5 + random() * 40)::numeric, 1))),
               t
        FROM devices dv,
             generate_series(date_trunc('minute', now()) - make_interval(days => ${d}::int) + INTERVAL '1 minute',
                             date_trunc('minute', now()) - make_interval(days => ${d - 1}::int), INTERVAL '1 minute') t`;
      const done = (days - d + 1) * devices * 1440;
      log(`loading: ${fmt(done)}/${fmt(total)} rows, ${fmt(done / (ms(t0) / 1000))} rows/s`);
    }
    log('VACUUM ANALYZE ...');
    await src`VACUUM ANALYZE`;
    const [row] =
      await src`SELECT count(*)::bigint AS rows, pg_total_relation_size('health_checks') AS bytes FROM health_checks`;
    sourceRows = Number(row.rows);
    bytes = Number(row.bytes);
  } finally {
    await src.end({ timeout: 5 });
  }
  // No connection may be open to a template while it is copied (TimescaleDB's scheduler would be one).
  await admin.unsafe(`ALTER DATABASE ${SRC} WITH ALLOW_CONNECTIONS false`);
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${SRC}`;
  const deviceId = 1; // devices were inserted into an empty table: ids start at 1

  const variants = ['insert-select', 'in-place', 'online'];
  const results = Object.fromEntries(variants.map((n) => [n, []]));
  for (let run = 0; run < runs; run++) {
    const order = variants.map((_, i) => variants[(i + run) % variants.length]);
    log(`run ${run + 1}/${runs}: ${order.join(', ')}`);
    for (const name of order) results[name].push(await runVariant(name, sourceRows, deviceId));
  }

  // ---------- report ----------
  const summary = {};
  for (const name of variants) {
    const ok = results[name].filter((r) => r.ok);
    const all = results[name].filter((r) => r.obs);
    summary[name] = {
      ok: ok.length,
      failed: results[name].length - ok.length,
      seconds: ok.length ? median(ok.map((r) => r.seconds)) : null,
      rowsPerS: ok.length ? median(ok.map((r) => r.rows / r.seconds)) : null,
      stall: all.length ? median(all.map((r) => r.obs.maxMs)) : null,
      stallMax: all.length ? Math.max(...all.map((r) => r.obs.maxMs)) : null,
      toolLock: ok
        .map((r) => r.toolLock)
        .filter(Boolean)
        .reduce((a, b) => (!a || b.ms > a.ms ? b : a), null),
      writes: all.reduce((s, r) => s + r.obs.writes, 0),
      failedWrites: all.reduce((s, r) => s + r.obs.failed, 0),
      lost: name === 'insert-select' ? null : ok.reduce((s, r) => s + (r.lost ?? 0), 0),
      toolCopy: ok.map((r) => r.toolCopySeconds).filter((x) => typeof x === 'number'),
      notes: ok.map((r) => r.note).filter(Boolean),
    };
  }
  const base = summary['insert-select'];
  const cell = (name) => {
    const s = summary[name];
    const status = s.ok ? '' : ` (failed${runs > 1 ? ` ${s.failed}/${runs}` : ''})`;
    const stall = s.stall === null ? '–' : `${fmt(s.stall)} ms${runs > 1 ? ` (max ${fmt(s.stallMax)})` : ''}`;
    const vs = s.seconds && base.seconds ? `${(s.seconds / base.seconds).toFixed(2)}×` : '–';
    const tool =
      name === 'insert-select'
        ? 'n/a (ACCESS SHARE)'
        : s.toolLock
          ? `${fmt(s.toolLock.ms)} ms${s.toolLock.mode ? ` ${s.toolLock.mode}` : ''}${s.toolLock.what ? ` (${s.toolLock.what})` : ''}`
          : '–';
    const lost = s.lost === null ? 'n/a' : s.ok ? String(s.lost) : '–';
    return (
      `| ${name}${status} | ${s.seconds ? s.seconds.toFixed(1) : '–'} | ${s.rowsPerS ? fmt(s.rowsPerS) : '–'} | ${vs} | ${stall} | ${tool} | ` +
      `${fmt(s.writes)}${s.failedWrites ? ` (+${s.failedWrites} failed)` : ''} | ${lost} |`
    );
  };
  const cpus = os.cpus();
  const on = summary.online;
  const lines = [
    `machine: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}`,
    `server: PostgreSQL ${v}${cluster ? ' (throwaway local cluster: shared_buffers 1GB, max_wal_size 4GB, checkpoint_timeout 15min, durability defaults)' : ''}; ` +
      `TimescaleDB ${ts?.version ?? 'not installed'}, license ${ts?.license ?? '?'}`,
    `data: ${devices} devices at ${sites} sites × ${days} days × 1/min = ${fmt(sourceRows)} rows, health_checks ${(bytes / 2 ** 20).toFixed(0)} MB (with indexes)`,
    '',
    "| variant | seconds | rows/s | vs insert-select | longest write stall (observer) | longest lock (tool's report) | observer writes | lost |",
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...variants.map(cell),
    '',
    `${runs > 1 ? `medians of ${runs} runs (order rotated); stall: median (max), writes and lost: totals over runs. ` : ''}` +
      'insert-select: the one INSERT … SELECT statement; in-place/online: wall time of the `migrate-from-postgres` process' +
      `${['in-place', 'online'].some((n) => summary[n].toolCopy.length) ? ` (tool's own copy seconds: ${['in-place', 'online'].map((n) => `${n} ${summary[n].toolCopy.map((x) => x.toFixed(1)).join('/') || '–'}`).join(', ')})` : ''}.`,
    ...['in-place', 'online'].flatMap((n) => summary[n].notes.map((x) => `check failed for ${n}: ${x}`)),
    on.seconds && base.seconds
      ? `online / insert-select = ${(on.seconds / base.seconds).toFixed(2)}× (target ≤ 1.3×); longest stall during online = ${fmt(on.stallMax)} ms (target < 1000 ms)`
      : `online / insert-select: not measured (${on.ok ? 'insert-select' : 'online'} failed); longest stall during online = ${on.stallMax === null ? '–' : `${fmt(on.stallMax)} ms`} (target < 1000 ms)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  await cleanup();
}
