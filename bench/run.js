#!/usr/bin/env node
// Benchmark: HOMEPOT's dashboard queries on raw health_checks vs the
// aggregates, and the time create-aggregates takes. Not a test: numbers for
// bench/README.md. `npm run bench -- --help` for the flags.
//
// Each pair (raw, aggregate) runs side by side in one run, alternating, after
// one warm-up each; the table shows medians and the ratio.
import { parseArgs } from 'node:util';
import os from 'node:os';
import postgres from 'postgres';
import { startEmbedded, applyHomepotSchema, runCreateAggregates, resolveAggregateOptions } from '../dist/index.js';

const { values: flags } = parseArgs({
  options: {
    devices: { type: 'string', default: '100' },
    days: { type: 'string', default: '30' },
    'devices-per-site': { type: 'string', default: '10' },
    runs: { type: 'string', default: '7' },
    'database-url': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout
    .write(`npm run bench -- [--devices 100] [--days 30] [--devices-per-site 10] [--runs 7] [--database-url postgres://...]
Loads devices x days x 1 check/minute of HOMEPOT-shaped health checks into a fresh embedded
TimescaleDB (default) or into the database at --database-url (which must have no HOMEPOT tables
yet: the benchmark creates them, and drops them again at the end, with the extension when it
created it).
`);
  process.exit(0);
}
const devices = Number(flags.devices);
const days = Number(flags.days);
const perSite = Math.min(Number(flags['devices-per-site']), devices);
const sites = Math.ceil(devices / perSite);
const runs = Number(flags.runs);

const log = (s) => process.stderr.write(s + '\n');
const ms = (t0) => performance.now() - t0;

let embedded = null;
let url = flags['database-url'];
if (!url) {
  log('starting the embedded TimescaleDB (in memory)');
  embedded = await startEmbedded({ dir: null });
  url = embedded.url;
}
const sql = postgres(url, { max: 1, onnotice: () => {}, idle_timeout: 0 });

/** What the benchmark creates in a database it is given, and drops again at the end. */
const AGGREGATES = ['device_metrics_hourly', 'device_metrics_daily', 'site_metrics_hourly'];
const TABLES = ['health_checks', 'devices', 'sites'];
/** Set once the database is known to hold none of them: from then on they are ours to drop. */
let ours = null;

try {
  const taken = await sql`SELECT relname FROM pg_class
    WHERE relname = ANY(${[...TABLES, ...AGGREGATES]}) AND relnamespace = 'public'::regnamespace`;
  if (taken.length > 0 && !embedded)
    throw new Error(
      `${taken.map((r) => r.relname).join(', ')} already exist in this database: give the benchmark an empty database`,
    );
  const [{ had }] = await sql`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS had`;
  if (!embedded) ours = { extension: !had };
  const [{ v: server }] = await sql`SELECT version() AS v`;
  await applyHomepotSchema(sql);
  const [{ ts }] = await sql`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS ts`;
  if (ts) {
    await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`;
    await sql`SELECT create_hypertable('health_checks', by_range('timestamp', INTERVAL '7 days'))`;
  }
  await sql`CREATE INDEX IF NOT EXISTS idx_health_checks_device_time ON health_checks (device_id, "timestamp" DESC)`;
  await sql`CREATE INDEX IF NOT EXISTS idx_devices_site ON devices (site_id)`;

  // Sites, devices, then one day of checks per statement (generated on the server: the same
  // JSON shape HOMEPOT stores; the fleet loader's COPY path does not work on PGlite).
  await sql`INSERT INTO sites (site_id, name) SELECT 'SITE-' || s, 'Site ' || s FROM generate_series(1, ${sites}::int) s`;
  await sql`INSERT INTO devices (device_id, name, device_type, site_id)
            SELECT 'dev-' || i, 'Device ' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-' || (1 + (i - 1) / ${perSite}::int))
            FROM generate_series(1, ${devices}::int) i`;
  const t0 = performance.now();
  const total = devices * days * 1440;
  for (let d = days; d > 0; d--) {
    await sql`
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
    log(
      `loading: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows, ${Math.round(done / (ms(t0) / 1000)).toLocaleString('en-US')} rows/s`,
    );
  }
  await sql`ANALYZE sites, devices, health_checks`;
  const [{ rows, bytes }] = await sql`SELECT count(*)::bigint AS rows,
    ${ts ? sql`hypertable_size('health_checks')` : sql`pg_total_relation_size('health_checks')`} AS bytes FROM health_checks`;
  const loadMs = ms(t0);

  log('create-aggregates ...');
  const t1 = performance.now();
  const created = await runCreateAggregates(sql, resolveAggregateOptions({ window: undefined }, {}), {
    onProgress: (p) => p.done > 0 && log(`  ${p.aggregate}: ${p.done}/${p.total}`),
  });
  const createMs = ms(t1);
  await sql`ANALYZE`;

  const [{ dev, site }] = await sql`SELECT (SELECT min(id) FROM devices) AS dev, (SELECT min(id) FROM sites) AS site`;
  const hour = ts ? sql`time_bucket('1 hour', "timestamp")` : sql`date_trunc('hour', "timestamp", 'UTC')`;
  const day = ts ? sql`time_bucket('1 day', "timestamp")` : sql`date_trunc('day', "timestamp", 'UTC')`;
  const hhour = ts ? sql`time_bucket('1 hour', h."timestamp")` : sql`date_trunc('hour', h."timestamp", 'UTC')`;
  const pairs = [
    {
      name: 'one device, hourly, 24 h',
      raw: () => sql`SELECT ${hour} AS hour, count(*), avg((response_data->'system'->>'cpu_percent')::float8) AS avg_cpu,
                       max((response_data->'system'->>'cpu_percent')::float8) AS max_cpu, avg((response_data->'system'->>'memory_percent')::float8),
                       sum((response_data->'app_metrics'->>'transactions_count')::bigint), avg(response_time_ms::float8)
                     FROM health_checks WHERE device_id = ${dev} AND "timestamp" >= now() - INTERVAL '24 hours' GROUP BY 1 ORDER BY 1`,
      agg: () =>
        sql`SELECT * FROM device_metrics_hourly WHERE device_id = ${dev} AND hour >= now() - INTERVAL '24 hours' ORDER BY hour`,
    },
    {
      name: 'fleet, daily, 30 days',
      raw: () => sql`SELECT ${day} AS day, count(DISTINCT device_id), count(*), avg((response_data->'system'->>'cpu_percent')::float8),
                       sum((response_data->'app_metrics'->>'transactions_count')::bigint), sum(CASE WHEN is_healthy THEN 0 ELSE 1 END)
                     FROM health_checks WHERE "timestamp" >= now() - INTERVAL '30 days' GROUP BY 1 ORDER BY 1`,
      agg: () => sql`SELECT day, count(*), sum(check_count), avg(avg_cpu), sum(total_transactions), sum(unhealthy_count)
                     FROM device_metrics_daily WHERE day >= now() - INTERVAL '30 days' GROUP BY 1 ORDER BY 1`,
    },
    {
      name: 'one site, hourly, 7 days',
      raw: () => sql`SELECT ${hhour} AS hour, count(DISTINCT h.device_id), avg((h.response_data->'system'->>'cpu_percent')::float8),
                       sum((h.response_data->'app_metrics'->>'transactions_count')::bigint)
                     FROM health_checks h JOIN devices d ON d.id = h.device_id
                     WHERE d.site_id = ${site} AND h."timestamp" >= now() - INTERVAL '7 days' GROUP BY 1 ORDER BY 1`,
      agg: () => sql`SELECT hour, device_count, avg_cpu, total_transactions FROM site_metrics_hourly
                     WHERE site_id = ${site} AND hour >= now() - INTERVAL '7 days' ORDER BY hour`,
    },
  ];
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const results = [];
  for (const p of pairs) {
    await p.raw();
    await p.agg();
    const raw = [];
    const agg = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await p.raw();
      raw.push(ms(t));
      t = performance.now();
      await p.agg();
      agg.push(ms(t));
    }
    results.push({ name: p.name, raw: median(raw), agg: median(agg) });
    log(`${p.name}: raw ${median(raw).toFixed(1)} ms, aggregate ${median(agg).toFixed(1)} ms`);
  }

  const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const lines = [
    `machine: ${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}`,
    `server: ${embedded ? 'embedded PGlite, ' : ''}${server.split(',')[0]}; aggregates as ${created.kind === 'continuous' ? 'continuous aggregates' : 'aggregate tables'}`,
    `data: ${devices} devices at ${sites} sites x ${days} days x 1/min = ${Number(rows).toLocaleString('en-US')} rows, ${(Number(bytes) / 2 ** 20).toFixed(0)} MB; loaded in ${(loadMs / 1000).toFixed(0)} s`,
    `create-aggregates (create + materialize all history): ${(createMs / 1000).toFixed(1)} s`,
    '',
    '| query | raw health_checks (ms) | aggregate (ms) | raw / aggregate |',
    '|---|---:|---:|---:|',
    ...results.map((r) => `| ${r.name} | ${f(r.raw)} | ${f(r.agg)} | ${(r.raw / r.agg).toFixed(0)}x |`),
    '',
    `medians of ${runs} runs each, raw and aggregate alternating, after one warm-up each.`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  if (ours) await dropOurs(ours.extension).catch((err) => log(`cleanup failed: ${err.message}`));
  await sql.end({ timeout: 5 });
  await embedded?.stop();
}

/**
 * Drop what the benchmark created, in dependency order and without CASCADE (which could reach
 * objects that are not ours; TimescaleDB also refuses to drop a hypertable along with other
 * objects): the aggregates (continuous aggregates and materialized views with DROP
 * MATERIALIZED VIEW, aggregate tables with DROP TABLE), then health_checks, devices, sites,
 * then the extension when the benchmark created it.
 */
async function dropOurs(extension) {
  const [{ ts }] = await sql`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS ts`;
  for (const name of AGGREGATES) {
    const [rel] =
      await sql`SELECT relkind FROM pg_class WHERE relname = ${name} AND relnamespace = 'public'::regnamespace`;
    if (!rel) continue;
    const [cagg] = ts
      ? await sql`SELECT 1 FROM timescaledb_information.continuous_aggregates
                  WHERE view_schema = 'public' AND view_name = ${name}`
      : [];
    if (cagg || rel.relkind === 'm') await sql`DROP MATERIALIZED VIEW public.${sql(name)}`;
    else if (rel.relkind === 'r') await sql`DROP TABLE public.${sql(name)}`;
  }
  for (const name of TABLES) await sql`DROP TABLE IF EXISTS public.${sql(name)}`;
  if (extension) await sql`DROP EXTENSION IF EXISTS timescaledb`;
}
