/**
 * The health checks of a fleet, generated deterministically: HealthCheckGenerator produces
 * them time-major in column-wise batches (Batch) from the plan, the layout and the seed; the
 * failures it plays, the endpoint and the health_checks columns set live here too.
 */
import { PROFILES, type DeviceDef, type SiteDef } from './fleet-layout.js';
import type { FleetPlan } from './fleet-plan.js';
import { between, clamp, dailyLoad, hash2, mulberry32, noise, poisson, type Rng } from './fleet-random.js';

export const FAILURES: Array<[number, string]> = [
  [503, 'Service Unavailable: payment gateway timeout'],
  [503, 'Service Unavailable: upstream connection refused'],
  [503, 'Service Unavailable: health endpoint overloaded'],
  [500, 'Internal Server Error: database connection lost'],
  [500, 'Internal Server Error: out of memory'],
  [500, 'Internal Server Error: unhandled exception in transaction service'],
];

export const ENDPOINT = '/health';

/** health_checks columns we set (id comes from its sequence). */
export const HC_COLUMNS = [
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
export interface Batch {
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
export class HealthCheckGenerator {
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
    for (let i = 0; i < n; i++) {
      if (this.dev === 0) this.beginStep();
      this.write(b, i);
      if (++this.dev === this.states.length) {
        this.dev = 0;
        this.step++;
      }
    }
    this.remaining -= n;
    return b;
  }

  /** The current device's check at the current step, as row i of b (draws from its PRNG in a fixed order). */
  private write(b: Batch, i: number): void {
    const dt = this.dt;
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
      st.memBase + 12 * load + Math.min(30, (st.memLeakPerHour * st.uptime) / 3600) + 1.5 * noise(r) + (sick ? 10 : 0),
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
  }
}
