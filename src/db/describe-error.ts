/**
 * What a person reads when the database says no: describeError turns anything
 * postgres.js throws (socket errors, its own codes, server errors with a
 * SQLSTATE) into one HomepotError with a redacted message and a hint they can
 * act on (the GRANT to ask for, the flag to raise, the setting to fix).
 * connection.ts uses it for a failed connect; the CLI for every other error.
 */
import { HomepotError, type ErrorKind } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { Endpoint } from './connection.js';

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
  const code = e.code ?? '';
  const about: About = {
    where: endpoint ? `${endpoint.host}:${endpoint.port}` : 'the server',
    db: endpoint?.database ?? 'the database',
    user: endpoint?.user ?? 'the user',
    make: (kind, message, hint) =>
      new HomepotError(kind, redact(message), {
        hint: redact(hint),
        cause: err,
        ...(isSqlstate(code) ? { sqlstate: code } : {}),
      }),
  };
  const known = connectFailure(code, e, endpoint, about) ?? serverRefusal(code, e, about);
  if (known) return known;
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
  return new HomepotError('internal', redact(message), {
    cause: err,
    hint: 'Run again with --debug for details, and report it if it persists.',
  });
}

/** What the messages name, and how they are made (redacted, with the SQLSTATE when there is one). */
interface About {
  where: string;
  db: string;
  user: string;
  make: (kind: ErrorKind, message: string, hint: string) => HomepotError;
}

/** The socket, DNS and authentication failures of connecting; null for anything else. */
function connectFailure(
  code: string,
  e: PgLikeError,
  endpoint: Endpoint | undefined,
  { where, db, user, make }: About,
): HomepotError | null {
  switch (code) {
    case 'ECONNREFUSED':
      return make(
        'connection-refused',
        `cannot connect to ${where}: connection refused`,
        'Is PostgreSQL running and listening there? Check the host and port in --database-url (or DATABASE_URL).',
      );
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return make(
        'connection-timeout',
        `cannot connect to ${where}: timed out`,
        'The host is unreachable or a firewall drops the traffic; check the host name, port and network, or raise --connect-timeout.',
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return make(
        'connection-timeout',
        `cannot connect to ${where}: host unreachable`,
        'Check the host name or address and the network route to it.',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(
        'host-not-found',
        `cannot connect: host "${e.hostname ?? endpoint?.host ?? '?'}" not found`,
        'Check the host name in the database URL.',
      );
    case 'ECONNRESET':
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DESTROYED':
      return make(
        'connection-refused',
        `the connection to ${where} was closed by the server`,
        'Check the server log; the server may require SSL (add ?sslmode=require) or may have restarted.',
      );
    case '28P01':
      return make(
        'authentication-failed',
        `password authentication failed for user "${user}" at ${where}`,
        'Check the user name and password in the database URL (or PGPASSWORD).',
      );
    case '28000':
      return make(
        'authentication-failed',
        `the server refused user "${user}" for database "${db}": ${e.message ?? ''}`,
        'Ask the DBA for a pg_hba.conf entry for this user, host and database, or use another user.',
      );
    case 'SASL_SIGNATURE_MISMATCH':
      return make(
        'authentication-failed',
        `authentication with ${where} failed (SCRAM signature mismatch)`,
        'Check the password and that you are talking to the intended server.',
      );
  }
  return null;
}

/** The server's refusals we can name a way out of; null for anything else. */
function serverRefusal(code: string, e: PgLikeError, { where, db, user, make }: About): HomepotError | null {
  switch (code) {
    case '3D000':
      return make(
        'unknown-database',
        `database "${db}" does not exist on ${where}`,
        `Create it (createdb ${quoteForShell(db)}) or fix the database name in the URL.`,
      );
    case '42501':
      return make(
        'permission-denied',
        (e.message ?? 'permission denied').replace(/^(?!permission denied)/, 'permission denied: '),
        privilegeHint(e.message ?? '', user, db) ??
          e.hint ??
          `Ask the owner or a superuser to grant "${user}" the privilege, or connect as the owner.`,
      );
    case '25006':
      return make(
        'read-only',
        `the server refused a change: this session is read-only (${e.message ?? ''})`,
        'Connect to the primary server, not a replica (or check default_transaction_read_only).',
      );
    case '55P03':
      return make(
        'sql-error',
        `could not get a lock in time: ${e.message ?? ''}`,
        'The table is busy; try again at a quieter time, or raise --lock-timeout.',
      );
    case '57014':
      return make(
        'sql-error',
        `the statement was cancelled: ${e.message ?? ''}`,
        'It ran past statement_timeout or was cancelled; try again, or raise the timeout.',
      );
  }
  if (code === '0A000' && /must be preloaded|shared_preload_libraries/i.test(e.message ?? '')) {
    return make(
      'timescaledb-not-preloaded',
      'TimescaleDB is installed on the server but not preloaded',
      "Add timescaledb to shared_preload_libraries in postgresql.conf (ALTER SYSTEM SET shared_preload_libraries = 'timescaledb') and restart PostgreSQL.",
    );
  }
  return null;
}

/** The GRANT a superuser or owner would run, for the privilege errors we can name. */
function privilegeHint(message: string, user: string, db: string): string | null {
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  if (/permission denied for database/i.test(message)) {
    return `A superuser or the database owner must run: GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(user)};`;
  }
  const table = /permission denied for (?:table|relation) (\S+)/i.exec(message)?.[1];
  if (table)
    return `The table owner or a superuser must run: GRANT SELECT ON ${table} TO ${ident(user)}; (or connect as the owner)`;
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
