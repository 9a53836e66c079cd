/**
 * How rows reach the server: sites and devices by upsertFleet, health checks by a Loader per
 * method (COPY FROM STDIN for the whole load, or INSERT statements in batches: unnest arrays
 * or a multi-row VALUES), each statement kept within what the server takes (PGlite's socket
 * server: PGLITE_MAX_STATEMENT_BYTES). detectServer and resolveMethod pick the method.
 */
import type { Writable } from 'node:stream';
import type { ParameterOrJSON } from 'postgres';
import { copyText, unnestParams, type Timestamps } from './fleet-encode.js';
import { ENDPOINT, FAILURES, HC_COLUMNS, type Batch } from './fleet-generator.js';
import type { DeviceDef, SiteDef } from './fleet-layout.js';
import type { FleetSql, LoadMethod } from './fleet-plan.js';

interface ServerInfo {
  pglite: boolean;
}

export async function detectServer(sql: FleetSql): Promise<ServerInfo> {
  // PGlite reports "... compiled by emcc (Emscripten gcc/clang-like replacement ...)".
  const [row] = await sql<{ v: string }[]>`SELECT version() AS v`;
  return { pglite: /emscripten|emcc/i.test(row?.v ?? '') };
}

export function resolveMethod(method: LoadMethod, server: ServerInfo): Exclude<LoadMethod, 'auto'> {
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
export const PGLITE_MAX_STATEMENT_BYTES = 48 * 1024;

export interface ServerLimits {
  /** Upper bound for the parameters of one statement. */
  maxStatementBytes: number;
}

type Sender = (sql: FleetSql, b: Batch, ts: Timestamps, limits: ServerLimits) => Promise<void>;

const COLUMN_LIST = HC_COLUMNS.map((c) => `"${c}"`).join(', ');

/**
 * Insert sites and devices if missing (ON CONFLICT DO NOTHING) and return devices.id for
 * each device in layout order. Chunked so that no statement exceeds the server's limit.
 */
export async function upsertFleet(
  sql: FleetSql,
  layout: { sites: SiteDef[]; devices: DeviceDef[] },
  limits: ServerLimits,
): Promise<number[]> {
  // ~100 bytes a device row, ~150 a site row.
  const chunk = Math.max(1, Math.min(5_000, Math.floor(limits.maxStatementBytes / 200)));
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

const UNNEST_INSERT = `INSERT INTO health_checks (${COLUMN_LIST})
  SELECT d, h, r, s, '${ENDPOINT}', j, e, t
  FROM unnest($1::text::int4[], $2::text::bool[], $3::text::int4[], $4::text::int4[],
              $5::text::json[], $6::text::text[], $7::text::timestamptz[]) AS u(d, h, r, s, j, e, t)`;

const SENDERS: Record<'unnest' | 'insert', Sender> = {
  async unnest(sql, b, ts, limits) {
    // One text parameter per column, already in array-literal form: the server's array_in
    // parses it, and postgres.js only copies a string (its own array serialiser is slow).
    // Statements are split to respect limits.maxStatementBytes; the rows per statement
    // adapt to the measured size (~270 bytes a row).
    const budget = limits.maxStatementBytes;
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

  async insert(sql, b, ts, limits) {
    // 65 535 bind parameters at most; on PGlite also the statement budget (~300 bytes a row).
    const perStatement = Math.max(
      1,
      Math.min(Math.floor(65_535 / HC_COLUMNS.length), Math.floor(limits.maxStatementBytes / 320)),
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

export interface Loader {
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

function statementLoader(send: Sender): (sql: FleetSql, ts: Timestamps, limits: ServerLimits) => Loader {
  return (sql, ts, limits) => ({
    send: (b) => send(sql, b, ts, limits),
    finish: async () => {},
    close: async () => {},
  });
}

export const LOADERS: Record<
  Exclude<LoadMethod, 'auto'>,
  (sql: FleetSql, ts: Timestamps, limits: ServerLimits) => Loader
> = {
  copy: copyLoader,
  unnest: statementLoader(SENDERS.unnest),
  insert: statementLoader(SENDERS.insert),
};
