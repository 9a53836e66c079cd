/** Small PostgreSQL helpers shared by globalSetup and the per-file harness. */
import { connect, createServer } from 'node:net';
import postgres from 'postgres';
import type { Flavour, ServerFacts } from './flavours.js';

export type Sql = postgres.Sql<Record<string, unknown>>;

/** A postgres.js client that does not print NOTICEs (TimescaleDB is chatty). */
export function client(url: string, options: postgres.Options<Record<string, never>> = {}): Sql {
  return postgres(url, {
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
    ...options,
  });
}

/** Run fn with a short-lived single connection. */
export async function withClient<T>(url: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = client(url);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Replace the database in a postgres URL (keeps user, password, host, query). */
export function withDatabase(url: string, database: string, credentials?: { user: string; password: string }): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  if (credentials) {
    u.username = encodeURIComponent(credentials.user);
    u.password = encodeURIComponent(credentials.password);
  }
  return u.toString();
}

/** Strip the password from a URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** A free TCP port on 127.0.0.1 (racy by nature; callers retry on EADDRINUSE). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a port'))));
    });
  });
}

/** What the server actually is, read over SQL. */
export async function readFacts(sql: Sql): Promise<ServerFacts> {
  const [row] = await sql<
    {
      server_version: string;
      preload: string;
      license: string | null;
      ts_version: string | null;
      ts_available: boolean;
    }[]
  >`
    select current_setting('server_version') as server_version,
           coalesce(current_setting('shared_preload_libraries', true), '') as preload,
           current_setting('timescaledb.license', true) as license,
           (select default_version from pg_available_extensions where name = 'timescaledb') as ts_version,
           exists (select 1 from pg_available_extensions where name = 'timescaledb') as ts_available`;
  if (!row) throw new Error('no row from facts query');
  return {
    serverVersion: row.server_version.split(' ')[0] ?? row.server_version,
    timescaledb: {
      available: row.ts_available,
      version: row.ts_version,
      preloaded: /(^|[\s,])"?timescaledb"?($|[\s,])/.test(row.preload),
      license: row.license || null,
    },
  };
}

/** Does this server fit the flavour? Returns the mismatch, or null. */
export function flavourMismatch(flavour: Flavour, facts: ServerFacts, embedded = false): string | null {
  const ts = facts.timescaledb;
  const preloaded = ts.preloaded || embedded;
  switch (flavour) {
    case 'timescale':
      if (!ts.available) return 'timescaledb is not available (pg_available_extensions)';
      if (!preloaded) return 'timescaledb is not in shared_preload_libraries';
      if (ts.license !== 'timescale') return `timescaledb.license is ${ts.license ?? 'unset'}, want timescale`;
      return null;
    case 'apache':
      if (!ts.available) return 'timescaledb is not available (pg_available_extensions)';
      if (!preloaded) return 'timescaledb is not in shared_preload_libraries';
      if (ts.license !== 'apache') return `timescaledb.license is ${ts.license ?? 'unset'}, want apache`;
      return null;
    case 'postgres':
      if (preloaded) return 'timescaledb is preloaded, want plain PostgreSQL';
      return null;
    case 'postgres-bare':
      if (ts.available) return 'timescaledb is available (pg_available_extensions), want none';
      return null;
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code && typeof code === 'string' ? `${err.message} [${code}]` : err.message;
  }
  return String(err);
}

export interface RawServerError {
  severity: string;
  code: string;
  message: string;
}

/**
 * Run one statement over a bare wire-protocol connection and return the
 * ErrorResponse the server sent (null if it succeeded). For errors that
 * postgres.js cannot show: a FATAL (e.g. timescaledb's "must be preloaded")
 * closes the connection before ReadyForQuery, and postgres.js then reports
 * only CONNECTION_CLOSED. Trust authentication only: resolves 'unsupported-auth'
 * when the server asks for a password.
 */
export function rawServerError(url: string, statement: string): Promise<RawServerError | null | 'unsupported-auth'> {
  const u = new URL(url);
  const user = decodeURIComponent(u.username || 'postgres');
  const database = decodeURIComponent(u.pathname.slice(1) || user);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname, port: Number(u.port || 5432) });
    socket.setTimeout(15_000, () => socket.destroy(new Error('raw query timed out')));
    let buf = Buffer.alloc(0);
    let sent = false;
    let error: RawServerError | null = null;
    const finish = (value: RawServerError | null | 'unsupported-auth') => {
      socket.destroy();
      resolve(value);
    };
    socket.on('connect', () => {
      const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8');
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([head, params]));
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0] ?? 0);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) break;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'R' && body.readInt32BE(0) !== 0) return finish('unsupported-auth');
        if (type === 'E') {
          const fields: Record<string, string> = {};
          let i = 0;
          while (i < body.length && body[i] !== 0) {
            const end = body.indexOf(0, i + 1);
            fields[String.fromCharCode(body[i] ?? 0)] = body.toString('utf8', i + 1, end);
            i = end + 1;
          }
          error = { severity: fields.V ?? fields.S ?? '', code: fields.C ?? '', message: fields.M ?? '' };
          if (!sent) return finish(error); // failed before the statement ran
        }
        if (type === 'Z') {
          if (sent) return finish(error);
          sent = true;
          const q = Buffer.from(`${statement}\0`, 'utf8');
          const head = Buffer.alloc(5);
          head.write('Q', 0, 'latin1');
          head.writeInt32BE(4 + q.length, 1);
          socket.write(Buffer.concat([head, q]));
        }
      }
    });
    socket.on('close', () => resolve(error));
    socket.on('error', (err) => (error ? resolve(error) : reject(err)));
  });
}
