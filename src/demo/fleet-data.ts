/**
 * Synthetic HOMEPOT fleet data: sites, devices and one health check per device
 * per interval, generated deterministically from a seed and loaded fast.
 *
 * Used by `homepot-ts demo` (small fleet, a few days, embedded PGlite) and by the
 * benchmarks (e.g. 100 devices x 30 days x 1/min = 4.3 M rows on a real server).
 *
 * The module never prints; progress goes to the optional callback.
 */
import type { Writable } from 'node:stream';
import type { ParameterOrJSON, Sql, TransactionSql } from 'postgres';

/** A postgres.js client, or a transaction of one (then the whole load commits or rolls back together). */
export type FleetSql = Sql | TransactionSql;

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

export interface FleetSpec {
  /** Number of sites (SITE-001, SITE-002, ...). */
  sites: number;
  /** Devices per site (pos-terminal-001, router-001, ... numbered across the fleet). */
  devicesPerSite: number;
  /** How many days of health checks, ending at `end`. May be fractional. */
  days: number;
  /** Seconds between health checks of one device. Default 60. */
  intervalSeconds?: number;
  /**
   * Timestamp of the last check. Default: now, truncated to the interval. Checks run from
   * end - (round(days * 86400 / intervalSeconds) - 1) intervals up to end, inclusive.
   */
  end?: Date;
  /** PRNG seed (32-bit integer); the same spec and seed always give the same values. Default 42. */
  seed?: number;
  /**
   * Health-check rows per batch: the unit of progress and abort. Default 20 000 for COPY,
   * 5 000 otherwise (measured best). Batches are split into smaller statements where needed: 65 535 bind
   * parameters for 'insert', 48 KiB per statement on PGlite (see PGLITE_MAX_STATEMENT_BYTES).
   */
  batchRows?: number;
  /**
   * How rows reach the server. 'auto' (default) uses COPY FROM STDIN unless the
   * server is PGlite (whose wire-protocol server crashes on COPY FROM STDIN),
   * where it uses 'unnest'. The others exist for benchmarks and special cases.
   */
  method?: LoadMethod;
}

/** 'copy': COPY ... FROM STDIN text stream; 'unnest': INSERT ... SELECT FROM unnest(arrays),
 *  one parameter per column; 'insert': multi-row INSERT ... VALUES via postgres.js helper. */
export type LoadMethod = 'auto' | 'copy' | 'unnest' | 'insert';

export interface LoadProgress {
  rowsDone: number;
  rowsTotal: number;
  elapsedMs: number;
  rowsPerSecond: number;
  /** Estimated time left; null until a rate is known. */
  etaMs: number | null;
}

export interface LoadResult {
  sites: number;
  devices: number;
  healthChecks: number;
  /** First and last health-check timestamps. */
  from: Date;
  to: Date;
  /** Whole call, including sites and devices. */
  elapsedMs: number;
  /** Health checks per second over the whole call. */
  rowsPerSecond: number;
  /** The method actually used (never 'auto'). */
  method: Exclude<LoadMethod, 'auto'>;
}

export interface FleetPlan {
  sites: number;
  devices: number;
  /** Checks per device. */
  intervals: number;
  healthChecks: number;
  from: Date;
  to: Date;
  intervalSeconds: number;
}

/** Sizes and time range of a spec, without touching a database. Throws on an invalid spec. */
export function planFleet(spec: FleetSpec): FleetPlan {
  const intervalSeconds = spec.intervalSeconds ?? 60;
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('sites', spec.sites);
  positiveInt('devicesPerSite', spec.devicesPerSite);
  positiveInt('intervalSeconds', intervalSeconds);
  if (!(spec.days > 0) || !Number.isFinite(spec.days)) throw new RangeError(`days must be > 0, got ${spec.days}`);
  if (spec.batchRows !== undefined) positiveInt('batchRows', spec.batchRows);
  const intervals = Math.max(1, Math.round((spec.days * 86_400) / intervalSeconds));
  const stepMs = intervalSeconds * 1000;
  const endMs = spec.end ? spec.end.getTime() : Math.floor(Date.now() / stepMs) * stepMs;
  if (!Number.isFinite(endMs)) throw new RangeError('end is not a valid date');
  const devices = spec.sites * spec.devicesPerSite;
  return {
    sites: spec.sites,
    devices,
    intervals,
    healthChecks: devices * intervals,
    from: new Date(endMs - (intervals - 1) * stepMs),
    to: new Date(endMs),
    intervalSeconds,
  };
}

/**
 * Create the fleet's sites and devices (idempotent: ON CONFLICT DO NOTHING; names depend
 * only on sites and devicesPerSite) and append its health checks (not idempotent: a second
 * call adds them again, with new ids from health_checks_id_seq).
 *
 * Everything happens in one transaction (sql.begin, or the transaction passed in): on an
 * error, or when `signal` aborts (checked between batches), nothing of this call stays
 * and the promise rejects (with the signal's reason on abort). `onProgress` is called at
 * most every 100 ms while loading, and once after the commit with rowsDone = rowsTotal.
 */
export async function loadFleet(
  sql: FleetSql,
  spec: FleetSpec,
  onProgress?: (p: LoadProgress) => void,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const plan = planFleet(spec);
  const seed = (spec.seed ?? 42) >>> 0;
  const t0 = performance.now();
  signal?.throwIfAborted();

  const load = async (tx: FleetSql) => {
    const server = await detectServer(tx);
    const method = resolveMethod(spec.method ?? 'auto', server);
    const target: Target = { maxStatementBytes: server.pglite ? PGLITE_MAX_STATEMENT_BYTES : Infinity };
    const batchRows = spec.batchRows ?? (method === 'copy' ? 20_000 : 5_000);

    const layout = fleetLayout(spec.sites, spec.devicesPerSite);
    const deviceDbIds = await upsertFleet(tx, layout, target);

    const gen = new HealthCheckGenerator(layout, plan, seed, deviceDbIds);
    const timestamps = new Timestamps(plan.from.getTime(), plan.intervalSeconds * 1000);
    const loader = LOADERS[method](tx, timestamps, target);
    const total = plan.healthChecks;
    let done = 0;
    let lastReport = -Infinity;
    const report = (force: boolean) => {
      if (!onProgress) return;
      const now = performance.now();
      if (!force && now - lastReport < 100) return;
      lastReport = now;
      const elapsedMs = now - t0;
      const rowsPerSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
      onProgress({
        rowsDone: done,
        rowsTotal: total,
        elapsedMs,
        rowsPerSecond,
        etaMs: done >= total ? 0 : rowsPerSecond > 0 ? ((total - done) * 1000) / rowsPerSecond : null,
      });
    };

    // Depth-1 pipeline: build batch k+1 while the server takes batch k.
    let pending: Promise<void> | null = null;
    let pendingRows = 0;
    try {
      while (gen.remaining > 0) {
        signal?.throwIfAborted();
        const batch = gen.next(batchRows);
        if (pending) {
          await pending;
          done += pendingRows;
          report(false);
        }
        signal?.throwIfAborted();
        pending = loader.send(batch);
        pending.catch(() => {}); // handled when awaited; avoids an unhandled rejection meanwhile
        pendingRows = batch.n;
      }
      await pending;
      done += pendingRows;
      pending = null;
      await loader.finish();
    } catch (err) {
      // Let the in-flight batch settle and stop any COPY, so the connection can roll back.
      await pending?.catch(() => {});
      await loader.close(err);
      throw err;
    }
    return method;
  };

  // One transaction: an abort or error leaves nothing of this call behind, and every
  // statement runs on one connection (which the COPY error check below relies on).
  const method = isTransaction(sql) ? await load(sql) : await sql.begin<Exclude<LoadMethod, 'auto'>>(load);
  if (onProgress) {
    const elapsedMs = performance.now() - t0;
    const total = plan.healthChecks;
    onProgress({
      rowsDone: total,
      rowsTotal: total,
      elapsedMs,
      rowsPerSecond: elapsedMs > 0 ? (total * 1000) / elapsedMs : 0,
      etaMs: 0,
    });
  }

  const elapsedMs = performance.now() - t0;
  return {
    sites: plan.sites,
    devices: plan.devices,
    healthChecks: plan.healthChecks,
    from: plan.from,
    to: plan.to,
    elapsedMs,
    rowsPerSecond: elapsedMs > 0 ? (plan.healthChecks * 1000) / elapsedMs : 0,
    method,
  };
}

function isTransaction(sql: FleetSql): sql is TransactionSql {
  return typeof (sql as Sql).begin !== 'function';
}

// ---------------------------------------------------------------------------
// Sites and devices
// ---------------------------------------------------------------------------

interface SiteDef {
  siteId: string;
  name: string;
  location: string;
  tzHours: number;
}
interface DeviceDef {
  deviceId: string;
  name: string;
  type: DeviceType;
  site: number; // index into sites
  ip: string | null;
}

type DeviceType = 'pos_terminal' | 'payment_terminal' | 'kiosk' | 'router' | 'digital_signage' | 'inventory_scanner';

interface Profile {
  prefix: string;
  label: string;
  cpuBase: [number, number];
  cpuPeak: [number, number];
  /** Transactions per minute at peak load. */
  txPeak: [number, number];
  responseMs: [number, number];
}

const PROFILES: Record<DeviceType, Profile> = {
  pos_terminal: {
    prefix: 'pos-terminal',
    label: 'POS Terminal',
    cpuBase: [6, 14],
    cpuPeak: [30, 50],
    txPeak: [3, 8],
    responseMs: [25, 60],
  },
  payment_terminal: {
    prefix: 'payment-terminal',
    label: 'Payment Terminal',
    cpuBase: [3, 8],
    cpuPeak: [15, 30],
    txPeak: [4, 10],
    responseMs: [30, 80],
  },
  kiosk: {
    prefix: 'kiosk',
    label: 'Self-Service Kiosk',
    cpuBase: [10, 20],
    cpuPeak: [20, 40],
    txPeak: [1, 4],
    responseMs: [40, 90],
  },
  router: { prefix: 'router', label: 'Router', cpuBase: [2, 6], cpuPeak: [8, 20], txPeak: [0, 0], responseMs: [5, 15] },
  digital_signage: {
    prefix: 'signage',
    label: 'Digital Signage',
    cpuBase: [15, 30],
    cpuPeak: [3, 8],
    txPeak: [0, 0],
    responseMs: [30, 70],
  },
  inventory_scanner: {
    prefix: 'scanner',
    label: 'Inventory Scanner',
    cpuBase: [3, 8],
    cpuPeak: [10, 20],
    txPeak: [1, 3],
    responseMs: [20, 50],
  },
};

/**
 * What a site holds: a POS terminal and a router, then a mix that is rotated from site to
 * site so that even a fleet of small sites has every kind of device.
 */
const SITE_MIX: DeviceType[] = [
  'payment_terminal',
  'kiosk',
  'pos_terminal',
  'digital_signage',
  'inventory_scanner',
  'pos_terminal',
];
function slotType(site: number, slot: number): DeviceType {
  if (slot === 0) return 'pos_terminal';
  if (slot === 1) return 'router';
  return SITE_MIX[(slot - 2 + site) % SITE_MIX.length]!;
}

const CITIES: Array<[string, string, number]> = [
  ['London', 'UK', 0],
  ['Manchester', 'UK', 0],
  ['Birmingham', 'UK', 0],
  ['Leeds', 'UK', 0],
  ['Glasgow', 'UK', 0],
  ['Dublin', 'Ireland', 0],
  ['Paris', 'France', 1],
  ['Berlin', 'Germany', 1],
  ['Madrid', 'Spain', 1],
  ['Amsterdam', 'Netherlands', 1],
  ['Milan', 'Italy', 1],
  ['Athens', 'Greece', 2],
  ['Helsinki', 'Finland', 2],
  ['New York', 'USA', -5],
  ['Chicago', 'USA', -6],
  ['Toronto', 'Canada', -5],
];
const SITE_KINDS = ['Central', 'High Street', 'Retail Park', 'Station', 'Airport', 'Mall', 'Outlet', 'Express'];

const pad = (n: number) => String(n).padStart(3, '0');

/** Sites and devices depend only on the sizes (not on the seed), so ids are stable across calls. */
function fleetLayout(siteCount: number, devicesPerSite: number): { sites: SiteDef[]; devices: DeviceDef[] } {
  const sites: SiteDef[] = [];
  const devices: DeviceDef[] = [];
  const counters = new Map<DeviceType, number>();
  for (let s = 0; s < siteCount; s++) {
    const [city, country, tz] = CITIES[s % CITIES.length]!;
    const kind = SITE_KINDS[Math.floor(s / CITIES.length) % SITE_KINDS.length]!;
    const round = Math.floor(s / (CITIES.length * SITE_KINDS.length));
    sites.push({
      siteId: `SITE-${pad(s + 1)}`,
      name: `${city} ${kind}${round ? ` ${round + 1}` : ''}`,
      location: `${city}, ${country}`,
      tzHours: tz,
    });
    for (let slot = 0; slot < devicesPerSite; slot++) {
      const type = slotType(s, slot);
      const n = (counters.get(type) ?? 0) + 1;
      counters.set(type, n);
      const p = PROFILES[type];
      devices.push({
        deviceId: `${p.prefix}-${pad(n)}`,
        name: `${p.label} ${pad(n)}`,
        type,
        site: s,
        ip: s < 65_536 && slot < 240 ? `10.${s >> 8}.${s & 255}.${slot + 10}` : null,
      });
    }
  }
  return { sites, devices };
}

/**
 * Insert sites and devices if missing (ON CONFLICT DO NOTHING) and return devices.id for
 * each device in layout order. Chunked so that no statement exceeds the target's budget.
 */
async function upsertFleet(
  sql: FleetSql,
  layout: { sites: SiteDef[]; devices: DeviceDef[] },
  target: Target,
): Promise<number[]> {
  // ~100 bytes a device row, ~150 a site row.
  const chunk = Math.max(1, Math.min(5_000, Math.floor(target.maxStatementBytes / 200)));
  const siteDbId = new Map<string, number>();
  for (let i = 0; i < layout.sites.length; i += chunk) {
    const part = layout.sites.slice(i, i + chunk);
    const rows = part.map((s) => ({
      site_id: s.siteId,
      name: s.name,
      description: 'Synthetic HOMEPOT site (homepot-ts fleet data)',
      location: s.location,
    }));
    await sql`INSERT INTO sites ${sql(rows, 'site_id', 'name', 'description', 'location')}
              ON CONFLICT (site_id) DO NOTHING`;
    const found = await sql<{ id: number; site_id: string }[]>`
      SELECT id, site_id FROM sites WHERE site_id = ANY(${part.map((s) => s.siteId)}::varchar[])`;
    for (const r of found) siteDbId.set(r.site_id, r.id);
  }

  const deviceDbId = new Map<string, number>();
  for (let i = 0; i < layout.devices.length; i += chunk) {
    const part = layout.devices.slice(i, i + chunk);
    const rows = part.map((d) => ({
      device_id: d.deviceId,
      name: d.name,
      device_type: d.type,
      site_id: siteDbId.get(layout.sites[d.site]!.siteId)!,
      ip_address: d.ip,
    }));
    await sql`INSERT INTO devices ${sql(rows, 'device_id', 'name', 'device_type', 'site_id', 'ip_address')}
              ON CONFLICT (device_id) DO NOTHING`;
    const found = await sql<{ id: number; device_id: string }[]>`
      SELECT id, device_id FROM devices WHERE device_id = ANY(${part.map((d) => d.deviceId)}::varchar[])`;
    for (const r of found) deviceDbId.set(r.device_id, r.id);
  }
  return layout.devices.map((d) => {
    const id = deviceDbId.get(d.deviceId);
    if (id === undefined) throw new Error(`device ${d.deviceId} missing after insert`);
    return id;
  });
}

// ---------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------

type Rng = () => number;

/** mulberry32: small, fast, good enough for synthetic data. Returns [0, 1). */
function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix two 32-bit integers into one (murmur3-style finaliser). */
function hash2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const between = (r: Rng, [lo, hi]: [number, number]) => lo + (hi - lo) * r();
/** Roughly normal, mean 0, sd 1 (sum of three uniforms). */
const noise = (r: Rng) => (r() + r() + r() - 1.5) * 2;
const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const gauss = (x: number, mu: number, s: number) => Math.exp(-((x - mu) * (x - mu)) / (2 * s * s));

/** Share of peak activity by local hour: closed at night, lunch and after-work peaks. */
function dailyLoad(hour: number): number {
  return 0.04 + 0.25 * gauss(hour, 10, 1.5) + 0.55 * gauss(hour, 12.75, 1.7) + 0.7 * gauss(hour, 17.75, 2.1);
}

/** Poisson-ish count with mean lambda (Knuth for small lambda, normal approximation above). */
function poisson(r: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * noise(r)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = r();
  while (p > limit) {
    k++;
    p *= r();
  }
  return k;
}

// ---------------------------------------------------------------------------
// Health-check generation
// ---------------------------------------------------------------------------

const FAILURES: Array<[number, string]> = [
  [503, 'Service Unavailable: payment gateway timeout'],
  [503, 'Service Unavailable: upstream connection refused'],
  [503, 'Service Unavailable: health endpoint overloaded'],
  [500, 'Internal Server Error: database connection lost'],
  [500, 'Internal Server Error: out of memory'],
  [500, 'Internal Server Error: unhandled exception in transaction service'],
];

const ENDPOINT = '/health';

/** health_checks columns we set (id comes from its sequence). */
const HC_COLUMNS = [
  'device_id',
  'is_healthy',
  'response_time_ms',
  'status_code',
  'endpoint',
  'response_data',
  'error_message',
  'timestamp',
] as const;

/** One batch of health checks, column-wise in typed arrays (cheap to build, no GC churn). */
interface Batch {
  n: number;
  deviceId: Int32Array;
  healthy: Uint8Array;
  responseMs: Int32Array;
  status: Int16Array;
  /** Index into FAILURES, or -1. */
  failure: Int8Array;
  /** Time index: timestamp = from + step * interval. */
  step: Int32Array;
  /** Percentages and latency in tenths (123 = 12.3). */
  cpu10: Int32Array;
  mem10: Int32Array;
  disk10: Int32Array;
  latency10: Int32Array;
  uptime: Float64Array;
  tx: Int32Array;
  errors: Int32Array;
}

interface DeviceState {
  rng: Rng;
  site: number;
  cpuBase: number;
  cpuPeak: number;
  txPeak: number;
  responseMs: number;
  memBase: number;
  memLeakPerHour: number;
  diskFloor: number;
  disk: number;
  diskPerSecond: number;
  uptime: number;
  netBase: number;
  /** Multiplies the chance of an unhealthy spell (0.2 .. 5, log-uniform). */
  flakiness: number;
  spellLeft: number;
  failure: number;
}

/**
 * Produces rows time-major (all devices at t0, then t1, ...), like a live fleet
 * writes them, so a hypertable fills one chunk at a time. Each device has its own
 * PRNG stream, so the data does not depend on the batch size.
 */
class HealthCheckGenerator {
  private readonly states: DeviceState[];
  private readonly siteTz: number[];
  private readonly siteDayFactor: Map<number, number>[];
  private readonly siteLoad: Float64Array;
  private readonly stepMs: number;
  private readonly dt: number;
  private readonly pSpell: number;
  private readonly meanSpell: number;
  private readonly pReboot: number;
  private step = 0; // time index
  private dev = 0; // device index within the step
  remaining: number;

  constructor(
    layout: { sites: SiteDef[]; devices: DeviceDef[] },
    private readonly plan: FleetPlan,
    private readonly seed: number,
    private readonly dbIds: number[],
  ) {
    this.dt = plan.intervalSeconds;
    this.stepMs = plan.intervalSeconds * 1000;
    this.remaining = plan.healthChecks;
    this.siteTz = layout.sites.map((s) => s.tzHours);
    this.siteDayFactor = layout.sites.map(() => new Map<number, number>());
    this.siteLoad = new Float64Array(layout.sites.length);
    // Per interval: an unhealthy spell about every 2 days per device (times flakiness),
    // lasting ~10 minutes on average; a spontaneous reboot about every 10 days.
    this.pSpell = this.dt / (2 * 86_400);
    this.meanSpell = Math.max(1, 600 / this.dt);
    this.pReboot = this.dt / (10 * 86_400);
    this.states = layout.devices.map((d, i) => {
      const rng = mulberry32(hash2(seed, i));
      const p = PROFILES[d.type];
      const diskFloor = 15 + 45 * rng();
      return {
        rng,
        site: d.site,
        cpuBase: between(rng, p.cpuBase),
        cpuPeak: between(rng, p.cpuPeak),
        txPeak: between(rng, p.txPeak),
        responseMs: between(rng, p.responseMs),
        memBase: 30 + 25 * rng(),
        memLeakPerHour: 0.02 + 0.1 * rng(),
        diskFloor,
        disk: diskFloor + 20 * rng(),
        diskPerSecond: (0.1 + 0.7 * rng()) / 86_400, // 0.1 .. 0.8 % a day
        uptime: Math.floor(rng() * 20 * 86_400),
        netBase: 5 + 30 * rng(),
        flakiness: Math.exp((rng() * 2 - 1) * Math.log(5)),
        spellLeft: 0,
        failure: -1,
      };
    });
  }

  private beginStep(): void {
    const t = this.plan.from.getTime() + this.step * this.stepMs;
    for (let s = 0; s < this.siteLoad.length; s++) {
      const localHours = t / 3_600_000 + this.siteTz[s]!;
      const day = Math.floor(localHours / 24);
      const hour = localHours - day * 24;
      const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (4); 0 = Sunday
      const cache = this.siteDayFactor[s]!;
      let f = cache.get(day);
      if (f === undefined) {
        f = 0.85 + 0.3 * (hash2(hash2(this.seed, 0x5173 + s), day) / 4294967296);
        if (weekday === 6) f *= 1.2; // busy Saturdays
        if (weekday === 0) f *= 0.7; // quiet Sundays
        if (cache.size > 4) cache.clear();
        cache.set(day, f);
      }
      this.siteLoad[s] = dailyLoad(hour) * f;
    }
  }

  next(maxRows: number): Batch {
    const n = Math.min(maxRows, this.remaining);
    const b: Batch = {
      n,
      deviceId: new Int32Array(n),
      healthy: new Uint8Array(n),
      responseMs: new Int32Array(n),
      status: new Int16Array(n),
      failure: new Int8Array(n),
      step: new Int32Array(n),
      cpu10: new Int32Array(n),
      mem10: new Int32Array(n),
      disk10: new Int32Array(n),
      latency10: new Int32Array(n),
      uptime: new Float64Array(n),
      tx: new Int32Array(n),
      errors: new Int32Array(n),
    };
    const dt = this.dt;
    for (let i = 0; i < n; i++) {
      if (this.dev === 0) this.beginStep();
      const st = this.states[this.dev]!;
      const r = st.rng;
      const load = this.siteLoad[st.site]!;

      // Unhealthy spells and reboots.
      let reboot = false;
      if (st.spellLeft > 0) {
        st.spellLeft--;
        if (st.spellLeft === 0) {
          st.failure = -1;
          reboot = r() < 0.4; // often fixed by a reboot
        }
      } else if (r() < this.pSpell * st.flakiness * (0.5 + load)) {
        st.spellLeft = 1 + Math.floor(-Math.log(1 - r()) * this.meanSpell);
        st.failure = Math.floor(r() * FAILURES.length);
      }
      const sick = st.failure >= 0;
      if (!sick && r() < this.pReboot) reboot = true;
      st.uptime = reboot ? Math.floor(r() * dt) : st.uptime + dt;

      st.disk += st.diskPerSecond * dt * (0.5 + r());
      if (st.disk > 92) st.disk = st.diskFloor + 3 * r(); // log cleanup

      const cpu = clamp(
        st.cpuBase + st.cpuPeak * load * (0.85 + 0.3 * r()) + 2 * noise(r) + (sick ? 25 + 40 * r() : 0),
        0.5,
        100,
      );
      const mem = clamp(
        st.memBase +
          12 * load +
          Math.min(30, (st.memLeakPerHour * st.uptime) / 3600) +
          1.5 * noise(r) +
          (sick ? 10 : 0),
        1,
        99.5,
      );
      let tx = poisson(r, (st.txPeak * load * dt) / 60);
      let errors = tx > 0 && r() < 0.004 * tx ? 1 : 0;
      if (sick) {
        errors = tx > 0 ? Math.ceil(tx * 0.6) + Math.floor(4 * r()) : 1 + Math.floor(4 * r());
        tx = Math.floor(tx * 0.2);
      }
      const latency = st.netBase + 8 * load + 3 * Math.abs(noise(r)) + (sick ? 100 + 400 * r() : 0);
      let responseMs = st.responseMs * (1 + 0.8 * load) + 10 * Math.abs(noise(r));
      if (sick) responseMs = 1500 + 8500 * r();
      else if (r() < 0.003) responseMs *= 5; // occasional slow but healthy answer

      b.deviceId[i] = this.dbIds[this.dev]!;
      b.healthy[i] = sick ? 0 : 1;
      b.responseMs[i] = Math.round(responseMs);
      b.status[i] = sick ? FAILURES[st.failure]![0] : 200;
      b.failure[i] = st.failure;
      b.step[i] = this.step;
      b.cpu10[i] = Math.round(cpu * 10);
      b.mem10[i] = Math.round(mem * 10);
      b.disk10[i] = Math.round(clamp(st.disk, 0, 100) * 10);
      b.latency10[i] = Math.round(latency * 10);
      b.uptime[i] = st.uptime;
      b.tx[i] = tx;
      b.errors[i] = errors;

      if (++this.dev === this.states.length) {
        this.dev = 0;
        this.step++;
      }
    }
    this.remaining -= n;
    return b;
  }
}

// ---------------------------------------------------------------------------
// Serialisation: bytes written straight into a Buffer (string concatenation and
// postgres.js's array serialiser were the bottleneck, mostly garbage collection).
// ---------------------------------------------------------------------------

const ascii = (s: string) => Buffer.from(s, 'latin1');

class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  bytes(b: Buffer): void {
    // A plain loop beats Buffer#copy / set for the short pieces we write.
    const buf = this.buf;
    let p = this.pos;
    for (let k = 0; k < b.length; k++) buf[p++] = b[k]!;
    this.pos = p;
  }
  byte(c: number): void {
    this.buf[this.pos++] = c;
  }
  /** Non-negative integer. */
  uint(v: number): void {
    if (v < 10) {
      this.buf[this.pos++] = 48 + v;
      return;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let x = v; p > this.pos - digits; x = Math.floor(x / 10)) this.buf[--p] = 48 + (x % 10);
  }
  /** Non-negative tenths as a decimal ("123" -> 12.3, "120" -> 12), like JS prints the number. */
  tenths(v: number): void {
    this.uint(Math.floor(v / 10));
    const frac = v % 10;
    if (frac !== 0) {
      this.buf[this.pos++] = 46; // '.'
      this.buf[this.pos++] = 48 + frac;
    }
  }
  toString(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }
}

/** Upper bound of one serialised row (JSON ~230 bytes, error message, timestamp). */
const MAX_ROW_BYTES = 480;

const JSON_PARTS = [
  '{"system": {"cpu_percent": ',
  ', "memory_percent": ',
  ', "disk_percent": ',
  ', "uptime_seconds": ',
  '}, "app_metrics": {"transactions_count": ',
  ', "errors_count": ',
  '}, "network": {"latency_ms": ',
  '}}',
];
const JSON_PLAIN = JSON_PARTS.map(ascii);
/** The same inside a quoted array-literal element: every " becomes \". */
const JSON_QUOTED = JSON_PARTS.map((s) => ascii(s.replace(/"/g, '\\"')));

function writeJson(w: ByteWriter, parts: Buffer[], b: Batch, i: number): void {
  w.bytes(parts[0]!);
  w.tenths(b.cpu10[i]!);
  w.bytes(parts[1]!);
  w.tenths(b.mem10[i]!);
  w.bytes(parts[2]!);
  w.tenths(b.disk10[i]!);
  w.bytes(parts[3]!);
  w.uint(b.uptime[i]!);
  w.bytes(parts[4]!);
  w.uint(b.tx[i]!);
  w.bytes(parts[5]!);
  w.uint(b.errors[i]!);
  w.bytes(parts[6]!);
  w.tenths(b.latency10[i]!);
  w.bytes(parts[7]!);
}

/** ISO timestamps per time index, cached while a batch walks through its steps. */
class Timestamps {
  private step = -1;
  private cached: Buffer = Buffer.alloc(0);
  constructor(
    private readonly fromMs: number,
    private readonly stepMs: number,
  ) {}
  get(step: number): Buffer {
    if (step !== this.step) {
      this.step = step;
      this.cached = ascii(new Date(this.fromMs + step * this.stepMs).toISOString());
    }
    return this.cached;
  }
  iso(step: number): string {
    return new Date(this.fromMs + step * this.stepMs).toISOString();
  }
}

const FAILURE_TEXT = FAILURES.map(([, m]) => ascii(m));
const FAILURE_QUOTED = FAILURES.map(([, m]) => ascii(`"${m}"`));

// ---------------------------------------------------------------------------
// Loaders
// ---------------------------------------------------------------------------

interface ServerInfo {
  pglite: boolean;
}

async function detectServer(sql: FleetSql): Promise<ServerInfo> {
  // PGlite reports "... compiled by emcc (Emscripten gcc/clang-like replacement ...)".
  const [row] = await sql<{ v: string }[]>`SELECT version() AS v`;
  return { pglite: /emscripten|emcc/i.test(row?.v ?? '') };
}

function resolveMethod(method: LoadMethod, server: ServerInfo): Exclude<LoadMethod, 'auto'> {
  if (server.pglite && method === 'copy') {
    // Not a catchable error there: the embedded server's WASM backend aborts and takes
    // the whole database down.
    throw new Error(
      'COPY FROM STDIN is not supported by the embedded PGlite server (it crashes it); use method "unnest"',
    );
  }
  return method === 'auto' ? (server.pglite ? 'unnest' : 'copy') : method;
}

/**
 * @electric-sql/pglite-socket 0.0.20 hands every TCP read (at most 64 KiB) to PGlite as if
 * it were whole protocol messages; a message split across reads desynchronises the
 * connection ("protocol synchronization was lost"). Keep each statement well below that.
 */
const PGLITE_MAX_STATEMENT_BYTES = 48 * 1024;

interface Target {
  /** Upper bound for the parameters of one statement. */
  maxStatementBytes: number;
}

type Sender = (sql: FleetSql, b: Batch, ts: Timestamps, target: Target) => Promise<void>;

const COLUMN_LIST = HC_COLUMNS.map((c) => `"${c}"`).join(', ');
const TAB = 9,
  NL = 10,
  COMMA = 44;
const T_ENDPOINT = ascii(`\t${ENDPOINT}\t`);
const NULL_COPY = ascii('\\N');
const NULL_ARRAY = ascii('NULL');

function copyText(b: Batch, ts: Timestamps): Buffer {
  const w = new ByteWriter(b.n * MAX_ROW_BYTES);
  for (let i = 0; i < b.n; i++) {
    w.ensure(MAX_ROW_BYTES);
    w.uint(b.deviceId[i]!);
    w.byte(TAB);
    w.byte(b.healthy[i] ? 116 : 102);
    w.byte(TAB); // t / f
    w.uint(b.responseMs[i]!);
    w.byte(TAB);
    w.uint(b.status[i]!);
    w.bytes(T_ENDPOINT);
    writeJson(w, JSON_PLAIN, b, i);
    w.byte(TAB);
    const f = b.failure[i]!;
    w.bytes(f >= 0 ? FAILURE_TEXT[f]! : NULL_COPY);
    w.byte(TAB);
    w.bytes(ts.get(b.step[i]!));
    w.byte(NL);
  }
  return w.buf.subarray(0, w.pos);
}

/** PostgreSQL array literal, e.g. {1,2,3}, built by `element` for rows lo..hi-1. */
function arrayLiteral(
  lo: number,
  hi: number,
  bytesPerRow: number,
  element: (w: ByteWriter, i: number) => void,
): string {
  const w = new ByteWriter((hi - lo) * bytesPerRow + 2);
  w.byte(123); // {
  for (let i = lo; i < hi; i++) {
    w.ensure(bytesPerRow + 2);
    if (i > lo) w.byte(COMMA);
    element(w, i);
  }
  w.ensure(1);
  w.byte(125); // }
  return w.toString();
}

/** unnest parameters for rows lo..hi-1: one array literal per column. */
function unnestParams(b: Batch, ts: Timestamps, lo: number, hi: number): string[] {
  const ints = (a: ArrayLike<number>) => arrayLiteral(lo, hi, 12, (w, i) => w.uint(a[i]!));
  return [
    ints(b.deviceId),
    arrayLiteral(lo, hi, 1, (w, i) => w.byte(b.healthy[i] ? 116 : 102)),
    ints(b.responseMs),
    ints(b.status),
    arrayLiteral(lo, hi, 460, (w, i) => {
      w.byte(34);
      writeJson(w, JSON_QUOTED, b, i);
      w.byte(34);
    }),
    arrayLiteral(lo, hi, 80, (w, i) => {
      const f = b.failure[i]!;
      w.bytes(f >= 0 ? FAILURE_QUOTED[f]! : NULL_ARRAY);
    }),
    arrayLiteral(lo, hi, 26, (w, i) => w.bytes(ts.get(b.step[i]!))),
  ];
}

const UNNEST_INSERT = `INSERT INTO health_checks (${COLUMN_LIST})
  SELECT d, h, r, s, '${ENDPOINT}', j, e, t
  FROM unnest($1::text::int4[], $2::text::bool[], $3::text::int4[], $4::text::int4[],
              $5::text::json[], $6::text::text[], $7::text::timestamptz[]) AS u(d, h, r, s, j, e, t)`;

const SENDERS: Record<'unnest' | 'insert', Sender> = {
  async unnest(sql, b, ts, target) {
    // One text parameter per column, already in array-literal form: the server's array_in
    // parses it, and postgres.js only copies a string (its own array serialiser is slow).
    // Statements are split to respect target.maxStatementBytes; the rows per statement
    // adapt to the measured size (~270 bytes a row).
    const budget = target.maxStatementBytes;
    let perStatement = budget === Infinity ? b.n : Math.max(1, Math.floor(budget / 300));
    for (let lo = 0; lo < b.n;) {
      let hi = Math.min(b.n, lo + perStatement);
      let params = unnestParams(b, ts, lo, hi);
      let bytes = params.reduce((sum, p) => sum + p.length, 0);
      while (bytes > budget && hi - lo > 1) {
        hi = lo + ((hi - lo) >> 1);
        params = unnestParams(b, ts, lo, hi);
        bytes = params.reduce((sum, p) => sum + p.length, 0);
      }
      await sql.unsafe(UNNEST_INSERT, params);
      if (budget !== Infinity) perStatement = Math.max(1, Math.floor((0.9 * budget) / (bytes / (hi - lo))));
      lo = hi;
    }
  },

  async insert(sql, b, ts, target) {
    // 65 535 bind parameters at most; on PGlite also the statement budget (~300 bytes a row).
    const perStatement = Math.max(
      1,
      Math.min(Math.floor(65_535 / HC_COLUMNS.length), Math.floor(target.maxStatementBytes / 320)),
    );
    for (let lo = 0; lo < b.n; lo += perStatement) {
      const hi = Math.min(b.n, lo + perStatement);
      const rows: Array<Record<(typeof HC_COLUMNS)[number], ParameterOrJSON<never>>> = [];
      for (let i = lo; i < hi; i++) {
        const f = b.failure[i]!;
        rows.push({
          device_id: b.deviceId[i]!,
          is_healthy: b.healthy[i] === 1,
          response_time_ms: b.responseMs[i]!,
          status_code: b.status[i]!,
          endpoint: ENDPOINT,
          response_data: {
            system: {
              cpu_percent: b.cpu10[i]! / 10,
              memory_percent: b.mem10[i]! / 10,
              disk_percent: b.disk10[i]! / 10,
              uptime_seconds: b.uptime[i],
            },
            app_metrics: { transactions_count: b.tx[i], errors_count: b.errors[i] },
            network: { latency_ms: b.latency10[i]! / 10 },
          },
          error_message: f >= 0 ? FAILURES[f]![1] : null,
          timestamp: ts.iso(b.step[i]!),
        });
      }
      await sql`INSERT INTO health_checks ${sql(rows, ...HC_COLUMNS)}`;
    }
  },
};

interface Loader {
  /** Hand a batch over; resolves when the server (for COPY: the socket) has taken it. */
  send(b: Batch): Promise<void>;
  /** Complete the load; rejects if the server refused it. */
  finish(): Promise<void>;
  /** Give up after an error or abort (stops a COPY in progress). */
  close(reason: unknown): Promise<void>;
}

const COPY_SQL = `COPY health_checks (${COLUMN_LIST}) FROM STDIN`;

/**
 * One COPY for the whole load. (One COPY per batch costs ~40 ms each: postgres.js writes
 * CopyDone separately after the data and leaves Nagle on, which meets delayed ACK.)
 */
function copyLoader(sql: FleetSql, ts: Timestamps): Loader {
  let stream: Writable | null = null;
  let failure: Error | null = null;
  let finished = false;
  return {
    async send(b) {
      if (!stream) {
        stream = await sql.unsafe(COPY_SQL).writable();
        stream.on('error', (err: Error) => void (failure ??= err));
        stream.on('finish', () => void (finished = true));
      }
      const s = stream;
      const data = copyText(b, ts);
      await new Promise<void>((resolve, reject) => s.write(data, (err) => (err ? reject(failure ?? err) : resolve())));
    },
    async finish() {
      if (!stream) return;
      stream.end();
      // postgres.js 3 loses an error the server reports after CopyDone (no 'error', no
      // 'finish', the promise never settles), so wait for a follow-up query on the same
      // connection instead; in the failed transaction it fails too.
      await sql`SELECT 1`.catch(() => {});
      await new Promise((resolve) => setImmediate(resolve));
      if (failure) throw failure;
      if (!finished) {
        throw new Error(
          'COPY into health_checks failed; postgres.js did not pass on the server\'s error (method "unnest" would show it)',
        );
      }
    },
    close(reason) {
      if (stream && !finished && !stream.destroyed) {
        stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      }
      return Promise.resolve();
    },
  };
}

function statementLoader(send: Sender): (sql: FleetSql, ts: Timestamps, target: Target) => Loader {
  return (sql, ts, target) => ({
    send: (b) => send(sql, b, ts, target),
    finish: async () => {},
    close: async () => {},
  });
}

const LOADERS: Record<Exclude<LoadMethod, 'auto'>, (sql: FleetSql, ts: Timestamps, target: Target) => Loader> = {
  copy: copyLoader,
  unnest: statementLoader(SENDERS.unnest),
  insert: statementLoader(SENDERS.insert),
};
