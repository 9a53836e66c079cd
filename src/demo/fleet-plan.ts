/**
 * The fleet a spec describes, before any database is touched: the public types of the fleet
 * data (FleetSpec, LoadMethod, LoadProgress, LoadResult, FleetPlan) and planFleet, which
 * checks a spec and works out its sizes and time range.
 */
import type { Sql, TransactionSql } from 'postgres';

/** A postgres.js client, or a transaction of one (then the whole load commits or rolls back together). */
export type FleetSql = Sql | TransactionSql;

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
