import net from 'node:net';
import postgres from 'postgres';
import { HomepotError } from './errors.js';
import type { Logger } from './logger.js';
import { redact, registerSecret } from './redact.js';
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
export const TIME_OUTPUT = { DateStyle: 'ISO, MDY', IntervalStyle: 'postgres' } as const;

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
 * The socket postgres.js would make, with Nagle's algorithm off. postgres.js
 * leaves it on, and a small write after a COPY or a batch then waits for the
 * server's delayed ACK: about 45 ms of every 90 ms batch of 500 rows measured
 * here. The socket is handed over unconnected, as postgres.js's own is: it
 * buffers the startup message until connected, and its connect_timeout and
 * error handling apply unchanged.
 */
function noDelaySocket(o: { host: string[]; port: number[]; path: string | false }): net.Socket {
  const socket = new net.Socket();
  socket.setNoDelay(true);
  if (typeof o.path === 'string' && o.path !== '') socket.connect(o.path);
  else socket.connect(o.port[0] ?? 5432, o.host[0] ?? 'localhost');
  return socket;
}

/**
 * Open a postgres.js pool for a URL (or PG* variables when url is undefined)
 * and check it with one round trip, so connection problems surface here, as
 * one clear error, before any command work starts.
 */
export async function connectUrl(url: string | undefined, opts: ConnectOptions): Promise<Connection> {
  const options: postgres.Options<{}> = {
    max: opts.max ?? 4,
    connect_timeout: opts.connectTimeout ?? 10,
    idle_timeout: 5,
    // Notices go to our logger (debug level for chatter, warn for WARNING),
    // never to stdout. Passing `false` would not silence them.
    onnotice: (n) => {
      const line = `${n.severity ?? 'NOTICE'}: ${n.message}`;
      if (n.severity === 'WARNING') opts.logger.warn(`server: ${n.message}`);
      else opts.logger.debug(line);
    },
    connection: { application_name: APPLICATION_NAME, ...TIME_OUTPUT, ...(opts.searchPath ? { search_path: opts.searchPath } : {}), ...opts.startup },
    // Not in postgres.js's types, but a documented option (a socket factory).
    ...({ socket: noDelaySocket } as object),
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
  const close = async () => {
    if (closed) return;
    closed = true;
    await sql.end({ timeout: 5 });
  };
  try {
    await sql`SELECT 1`;
  } catch (err) {
    await close().catch(() => {});
    throw describeError(err, endpoint);
  }
  opts.logger.debug(`connected to ${describeEndpoint(endpoint)}`);
  return { sql, endpoint, close };
}

/** Connect to whatever the target says; starts the embedded server when asked. */
export async function connectTarget(target: Target, opts: ConnectOptions & { onEmbeddedStart?: () => void }): Promise<Connection> {
  if (target.kind === 'embedded') {
    opts.onEmbeddedStart?.();
    const { startEmbedded } = await import('./embedded.js');
    const server = await startEmbedded({ dir: target.dir, onLog: (line) => opts.logger.debug(`embedded: ${line}`) });
    try {
      // PGlite ignores startup parameters (embedded.ts sets its session's path); no other role lives there.
      const conn = await connectUrl(server.url, { ...opts, max: 1, searchPath: TARGET_SEARCH_PATH });
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

interface PgLikeError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  severity?: string;
  errno?: string | number;
  address?: string;
  port?: number;
  hostname?: string;
}

/**
 * Turn anything thrown by postgres.js (socket errors, its own codes, server
 * errors) into one HomepotError a person can act on. The message is redacted.
 */
export function describeError(err: unknown, endpoint?: Endpoint): HomepotError {
  if (err instanceof HomepotError) return err;
  const e = (err ?? {}) as PgLikeError;
  const where = endpoint ? `${endpoint.host}:${endpoint.port}` : 'the server';
  const db = endpoint?.database ?? 'the database';
  const user = endpoint?.user ?? 'the user';
  const code = e.code ?? '';
  const make = (kind: ConstructorParameters<typeof HomepotError>[0], message: string, hint: string) =>
    new HomepotError(kind, redact(message), { hint: redact(hint), cause: err, ...(isSqlstate(code) ? { sqlstate: code } : {}) });

  switch (code) {
    case 'ECONNREFUSED':
      return make('connection-refused', `cannot connect to ${where}: connection refused`,
        'Is PostgreSQL running and listening there? Check the host and port in --database-url (or DATABASE_URL).');
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return make('connection-timeout', `cannot connect to ${where}: timed out`,
        'The host is unreachable or a firewall drops the traffic; check the host name, port and network, or raise --connect-timeout.');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return make('connection-timeout', `cannot connect to ${where}: host unreachable`,
        'Check the host name or address and the network route to it.');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make('host-not-found', `cannot connect: host "${e.hostname ?? endpoint?.host ?? '?'}" not found`,
        'Check the host name in the database URL.');
    case 'ECONNRESET':
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DESTROYED':
      return make('connection-refused', `the connection to ${where} was closed by the server`,
        'Check the server log; the server may require SSL (add ?sslmode=require) or may have restarted.');
    case '28P01':
      return make('authentication-failed', `password authentication failed for user "${user}" at ${where}`,
        'Check the user name and password in the database URL (or PGPASSWORD).');
    case '28000':
      return make('authentication-failed', `the server refused user "${user}" for database "${db}": ${e.message ?? ''}`,
        'Ask the DBA for a pg_hba.conf entry for this user, host and database, or use another user.');
    case 'SASL_SIGNATURE_MISMATCH':
      return make('authentication-failed', `authentication with ${where} failed (SCRAM signature mismatch)`,
        'Check the password and that you are talking to the intended server.');
    case '3D000':
      return make('unknown-database', `database "${db}" does not exist on ${where}`,
        `Create it (createdb ${quoteForShell(db)}) or fix the database name in the URL.`);
    case '42501':
      return make('permission-denied', (e.message ?? 'permission denied').replace(/^(?!permission denied)/, 'permission denied: '),
        privilegeHint(e.message ?? '', user, db) ?? e.hint ?? `Ask the owner or a superuser to grant "${user}" the privilege, or connect as the owner.`);
    case '25006':
      return make('read-only', `the server refused a change: this session is read-only (${e.message ?? ''})`,
        'Connect to the primary server, not a replica (or check default_transaction_read_only).');
    case '55P03':
      return make('sql-error', `could not get a lock in time: ${e.message ?? ''}`,
        'The table is busy; try again at a quieter time, or raise --lock-timeout.');
    case '57014':
      return make('sql-error', `the statement was cancelled: ${e.message ?? ''}`,
        'It ran past statement_timeout or was cancelled; try again, or raise the timeout.');
  }
  if (code === '0A000' && /must be preloaded|shared_preload_libraries/i.test(e.message ?? '')) {
    return make('timescaledb-not-preloaded', 'TimescaleDB is installed on the server but not preloaded',
      "Add timescaledb to shared_preload_libraries in postgresql.conf (ALTER SYSTEM SET shared_preload_libraries = 'timescaledb') and restart PostgreSQL.");
  }
  if (isSqlstate(code)) {
    const parts = [e.message ?? 'server error'];
    if (e.detail) parts.push(e.detail);
    return new HomepotError('sql-error', redact(`${parts.join(': ')} (SQLSTATE ${code})`), {
      ...(e.hint ? { hint: redact(e.hint) } : {}),
      sqlstate: code,
      cause: err,
    });
  }
  const message = (err as Error)?.message ?? String(err);
  return new HomepotError('internal', redact(message), { cause: err, hint: 'Run again with --debug for details, and report it if it persists.' });
}

/** The GRANT a superuser or owner would run, for the privilege errors we can name. */
function privilegeHint(message: string, user: string, db: string): string | null {
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  if (/permission denied for database/i.test(message)) {
    return `A superuser or the database owner must run: GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(user)};`;
  }
  const table = /permission denied for (?:table|relation) (\S+)/i.exec(message)?.[1];
  if (table) return `The table owner or a superuser must run: GRANT SELECT ON ${table} TO ${ident(user)}; (or connect as the owner)`;
  const schema = /permission denied for schema (\S+)/i.exec(message)?.[1];
  if (schema) return `The schema owner or a superuser must run: GRANT USAGE ON SCHEMA ${schema} TO ${ident(user)};`;
  return null;
}

function isSqlstate(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code);
}

function quoteForShell(s: string): string {
  return /^[\w.-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
