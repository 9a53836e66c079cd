/**
 * Connections to the target and to a --source server: connectUrl opens a postgres.js pool
 * with our session settings (application_name, DateStyle, search_path) and proves it with
 * one round trip, racing connect-probe.ts's verdict and a deadline; connectTarget starts the
 * embedded server first when the target is one. An interrupted run cancels its own sessions
 * (cancelSessions, through interrupt.ts). What a failure means to a person is describeError's
 * (describe-error.ts).
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { attemptOutcome, attemptWhere, connectProbe, describeAttempts, type ConnectProbe } from './connect-probe.js';
import { HomepotError } from '../core/errors.js';
import { describeError } from './describe-error.js';
import { trackPool } from './interrupt.js';
import type { Logger } from '../core/logger.js';
import { redact, registerSecret } from '../core/redact.js';
import { showValue } from '../core/show.js';
import type { Target } from './target.js';

export type Sql = postgres.Sql;

/** What we tell people about the server we talk to; never the password. */
export interface Endpoint {
  host: string;
  port: number;
  database: string;
  user: string;
  embedded: boolean;
}

export interface Connection {
  sql: Sql;
  endpoint: Endpoint;
  /** Closes the pool (and the embedded server, if we started one). Idempotent. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Seconds; default 10. */
  connectTimeout?: number;
  logger: Logger;
  /** Max connections; 1 for the embedded database. */
  max?: number;
  /** More startup parameters (e.g. search_path for a --source server's sessions): they win over database and role settings. */
  startup?: Record<string, string>;
  /** search_path sent at connect time (a startup parameter); unset: the server's. */
  searchPath?: string;
  /** false: nothing to cancel on the server when interrupted (the embedded server runs in this process). */
  cancelOnSignal?: boolean;
}

export const APPLICATION_NAME = 'homepot-ts';

/**
 * How the server prints times and intervals to us, whatever the database or
 * role sets (startup parameters win over ALTER DATABASE / ALTER ROLE ... SET).
 * postgres.js turns a timestamptz into a Date with `new Date(text)`, which
 * reads only ISO output right: under DateStyle 'Postgres' the server prints
 * 'Wed Nov 05 08:00:00 2025 CST' for Asia/Shanghai and "CST" reads as US
 * Central, 14 hours off. Interval text we show is kept in the 'postgres'
 * style ("7 days", not "P7D"). TimeZone stays the database's: ISO output
 * carries the offset, and it is what naive timestamps mean there. Our own
 * templates do not rely on this (they read times as numbers or ISO text and
 * write them as UTC literals); it covers every Date postgres.js parses.
 */
const TIME_OUTPUT = { DateStyle: 'ISO, MDY', IntervalStyle: 'postgres' } as const;

/**
 * The search_path of every session on the target, sent as a startup
 * parameter: it wins over ALTER DATABASE / ALTER ROLE ... SET search_path,
 * which other roles may have chosen (a database owner, or a role we log in
 * as), so nothing they put in a schema of their own can shadow a function or
 * table we name unqualified. Names are looked up in pg_catalog, public,
 * pg_temp, in that order: pg_catalog is searched first because it is not
 * listed (listing it first would make it the schema that CREATE EXTENSION
 * and unqualified CREATEs target), and pg_temp is listed last so a temporary
 * table cannot shadow one of ours. Objects we create go to public.
 */
export const TARGET_SEARCH_PATH = 'public, pg_temp';

/**
 * Every session of this run carries this application_name, so that an
 * interrupted run can find and cancel exactly its own statements (see
 * cancelSessions). The random part keeps others from guessing it.
 */
const RUN_APPLICATION_NAME = `${APPLICATION_NAME} ${process.pid}-${randomBytes(6).toString('hex')}`;

/**
 * Open a postgres.js pool for a URL (or PG* variables when url is undefined)
 * and check it with one round trip, so connection problems surface here, as
 * one clear error, before any command work starts. --connect-timeout bounds
 * all of it: every host, the TLS and startup handshake, the first query.
 */
export async function connectUrl(url: string | undefined, opts: ConnectOptions): Promise<Connection> {
  const probe = connectProbe();
  const connectTimeout = opts.connectTimeout ?? 10;
  const options: postgres.Options<Record<string, never>> = {
    max: opts.max ?? 4,
    connect_timeout: connectTimeout,
    idle_timeout: 5,
    // Notices go to our logger (debug level for chatter, warn for WARNING),
    // never to stdout. Passing `false` would not silence them.
    onnotice: (n) => {
      const line = `${n.severity ?? 'NOTICE'}: ${n.message}`;
      if (n.severity === 'WARNING') opts.logger.warn(`server: ${n.message}`);
      else opts.logger.debug(line);
    },
    connection: {
      application_name: RUN_APPLICATION_NAME,
      ...TIME_OUTPUT,
      ...(opts.searchPath ? { search_path: opts.searchPath } : {}),
      ...opts.startup,
    },
    // Not in postgres.js's types, but a documented option (a socket factory).
    ...({ socket: probe.socket } as object),
  };
  let sql: Sql;
  try {
    sql = url === undefined ? postgres(options) : postgres(url, options);
  } catch (err) {
    throw new HomepotError('config', `cannot use the database URL: ${redact((err as Error).message)}`, {
      hint: 'Use the form postgresql://user:password@host:5432/database.',
    });
  }
  const o = sql.options;
  registerSecret(typeof o.pass === 'string' ? o.pass : null);
  const endpoint: Endpoint = {
    // `path` is the unix socket path, or false for TCP.
    host: typeof o.path === 'string' && o.path !== '' ? o.path : String(o.host?.[0] ?? 'localhost'),
    port: Number(o.port?.[0] ?? 5432),
    database: o.database,
    user: o.user,
    embedded: false,
  };
  let closed = false;
  const untrack = trackPool({
    cancel: () => (opts.cancelOnSignal === false ? Promise.resolve() : cancelSessions(url, options)),
    end: (seconds) => sql.end({ timeout: seconds }),
  });
  const close = async () => {
    if (closed) return;
    closed = true;
    untrack();
    await sql.end({ timeout: 5 });
  };
  try {
    await firstQuery(sql, probe, connectTimeout);
  } catch (err) {
    // End the pool first (no reconnect after it), then drop any socket still connecting.
    closed = true;
    untrack();
    await Promise.race([sql.end({ timeout: 0 }).catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    probe.destroy();
    throw describeError(err, endpoint);
  }
  opts.logger.debug(`connected to ${describeEndpoint(endpoint)}`);
  return { sql, endpoint, close };
}

/**
 * `SELECT 1`, or an error as soon as we know it cannot work: every host has
 * failed (postgres.js alone would keep reconnecting, resetting its
 * connect_timeout each time), one answered but is not PostgreSQL, or the
 * whole attempt ran past the timeout.
 */
async function firstQuery(sql: Sql, probe: ConnectProbe, seconds: number): Promise<void> {
  const query = sql`SELECT 1`.execute();
  query.catch(() => {}); // when the probe's verdict wins, nobody else awaits it
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unreachable(probe, `timed out after ${seconds} s`)), seconds * 1000);
  });
  const verdict = probe.allFailed.then(() => {
    const hosts = new Set(probe.attempts.map(attemptWhere));
    const telling = probe.attempts.some((a) => a.failure === 'not-postgres' || a.failure === 'closed');
    // One host refused or did not resolve: postgres.js reports that itself, with its own error code.
    if (hosts.size === 1 && !telling) return new Promise<never>(() => {});
    throw unreachable(probe, null);
  });
  try {
    await Promise.race([query, deadline, verdict]);
  } finally {
    clearTimeout(timer);
  }
}

const TIMEOUT_HINT =
  'The host is unreachable, a firewall drops the traffic, or what listens there is not PostgreSQL; check the host name, port and network, or raise --connect-timeout.';

/** Why no host of the URL could be used, from what each attempt saw. */
function unreachable(probe: ConnectProbe, timedOut: string | null): HomepotError {
  const attempts = probe.attempts;
  const hosts = new Set(attempts.map(attemptWhere));
  const hint =
    'Check the host and port in the database URL: PostgreSQL listens on 5432 unless configured otherwise; a proxy or load balancer in front must pass the PostgreSQL protocol through.';
  const single =
    hosts.size <= 1 ? (attempts.find((a) => a.answered !== undefined) ?? attempts[attempts.length - 1]) : undefined;
  if (single?.answered !== undefined) {
    return new HomepotError(
      'not-postgresql',
      redact(`not a PostgreSQL server at ${attemptWhere(single)} (it answered "${single.answered}")`),
      { hint },
    );
  }
  if (single) {
    const why = timedOut ? `${timedOut} (${attemptOutcome(single)})` : attemptOutcome(single);
    return new HomepotError(
      timedOut ? 'connection-timeout' : 'connection-refused',
      redact(`cannot connect to ${attemptWhere(single)}: ${why}`),
      {
        hint: timedOut ? TIMEOUT_HINT : hint,
      },
    );
  }
  if (attempts.length === 0) {
    return new HomepotError('connection-timeout', `cannot connect: ${timedOut ?? 'no attempt was made'}`, {
      hint: TIMEOUT_HINT,
    });
  }
  return new HomepotError(
    timedOut ? 'connection-timeout' : 'connection-refused',
    redact(`cannot connect to any host of the URL${timedOut ? ` (${timedOut})` : ''}: ${describeAttempts(attempts)}`),
    { hint },
  );
}

/**
 * Cancel the statements this run's sessions run on the server behind `url`:
 * one short extra connection as the same user (a role may cancel its own
 * sessions) sends pg_cancel_backend to each session carrying this run's
 * application_name. postgres.js could cancel a query object itself, but we do
 * not hold every query object (transactions, reserved connections), and this
 * works the same through TLS and for the --source server. Never throws: an
 * interrupted run reports the interruption, not a failed cancel.
 */
async function cancelSessions(
  url: string | undefined,
  options: postgres.Options<Record<string, never>>,
): Promise<void> {
  const own = {
    ...options,
    ...({ socket: connectProbe().socket } as object),
    max: 1,
    connect_timeout: Math.min(Number(options.connect_timeout ?? 3), 3),
    onnotice: () => {},
    connection: { ...options.connection, application_name: `${APPLICATION_NAME} cancel` },
  };
  let canceller: Sql | undefined;
  try {
    canceller = url === undefined ? postgres(own) : postgres(url, own);
    await canceller`
      SELECT pg_catalog.count(pg_catalog.pg_cancel_backend(a.pid))
      FROM pg_catalog.pg_stat_activity a
      WHERE a.application_name = ${RUN_APPLICATION_NAME}
        AND a.usename = pg_catalog.session_user()
        AND a.state <> 'idle'
        AND a.pid <> pg_catalog.pg_backend_pid()`;
  } catch {
    // the server is gone or refuses us: closing the pool is all that is left
  } finally {
    await canceller?.end({ timeout: 0 }).catch(() => {});
  }
}

/** Connect to whatever the target says; starts the embedded server when asked. */
export async function connectTarget(target: Target, opts: ConnectOptions): Promise<Connection> {
  if (target.kind === 'embedded') {
    const { startEmbedded, EmbeddedDirError } = await import('./embedded.js');
    // The loopback port is open to every local user while we run: only this process knows the password.
    const password = randomBytes(24).toString('base64url');
    registerSecret(password);
    const server = await startEmbedded({
      dir: target.dir,
      password,
      onLog: (line) => opts.logger.debug(`embedded: ${line}`),
    }).catch((err: unknown) => {
      if (!(err instanceof EmbeddedDirError)) throw err;
      throw new HomepotError('usage', `the embedded database directory ${showValue(err.dir)} ${err.problem}`, {
        hint: 'Give --embedded (or config embedded) a directory that is empty, new or an earlier embedded database.',
        cause: err,
      });
    });
    try {
      // PGlite ignores startup parameters (embedded.ts sets its session's path); no other role lives there.
      const conn = await connectUrl(server.url, {
        ...opts,
        max: 1,
        searchPath: TARGET_SEARCH_PATH,
        cancelOnSignal: false,
      });
      const endpoint = { ...conn.endpoint, embedded: true, host: target.dir ?? 'memory' };
      return {
        sql: conn.sql,
        endpoint,
        close: async () => {
          await conn.close();
          await server.stop();
        },
      };
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  return connectUrl(target.kind === 'url' ? target.url : undefined, { ...opts, searchPath: TARGET_SEARCH_PATH });
}

export function describeEndpoint(e: Endpoint): string {
  if (e.embedded) return `embedded database (${e.host})`;
  return `${e.host}:${e.port}/${e.database} as ${e.user}`;
}
