import net from 'node:net';

/**
 * The sockets a pool's connections use, and what we learned from each
 * attempt: which host:port, whether what answered speaks PostgreSQL, and how
 * it failed. postgres.js alone cannot tell a PostgreSQL server from an HTTP
 * port: it reads "HTTP/1.1 400" as protocol messages, the peer hangs up, and
 * while the first query waits it reconnects at once, hundreds of times a
 * second, restarting connect_timeout on every attempt. connection.ts races
 * the first query against this probe's verdict and an overall deadline.
 */
export interface Attempt {
  host: string;
  port: number;
  /** The TCP (or unix socket) connection was made. */
  connected: boolean;
  /** The first bytes looked like PostgreSQL's answer to a startup or SSL request. */
  postgres: boolean | undefined;
  /** The start of what answered, when it was not PostgreSQL (printable, one line). */
  answered?: string;
  /** Why the attempt failed: a socket error code, or 'closed' when the peer hung up first. */
  failure?: string;
}

export interface ConnectProbe {
  /** The socket factory for postgres.js's `socket` option. */
  socket: (o: SocketOptions) => net.Socket;
  attempts: Attempt[];
  /** Resolves once every host has failed at least once (never resolves otherwise). */
  allFailed: Promise<void>;
  /** Drop every socket this probe made (ends the reconnect loop's last one too). */
  destroy(): void;
}

interface SocketOptions {
  host: string[];
  port: number[];
  path: string | false;
  ssl?: unknown;
  sslnegotiation?: string | null;
}

/**
 * Make the sockets postgres.js would make, with two differences:
 *
 * - Nagle's algorithm off. postgres.js leaves it on, and a small write after a
 *   COPY or a batch then waits for the server's delayed ACK: about 45 ms of
 *   every 90 ms batch of 500 rows measured here. The socket is handed over
 *   unconnected, as postgres.js's own is: it buffers the startup message until
 *   connected, and its error handling applies unchanged.
 * - Every host of a multi-host URL in turn. Given a socket factory,
 *   postgres.js no longer steps through the hosts itself.
 */
export function connectProbe(): ConnectProbe {
  const attempts: Attempt[] = [];
  const sockets = new Set<net.Socket>();
  let next = 0;
  let hostCount = 1;
  let settle: () => void = () => {};
  const allFailed = new Promise<void>((resolve) => (settle = resolve));
  const failed = (a: Attempt, why: string) => {
    if (a.failure !== undefined || a.postgres === true) return;
    a.failure = why;
    const hosts = new Set(attempts.filter((x) => x.failure !== undefined).map((x) => `${x.host}:${x.port}`));
    if (hosts.size >= hostCount) settle();
  };

  let destroyed = false;
  const socket = (o: SocketOptions): net.Socket => {
    const s = new net.Socket();
    // A reconnect scheduled before destroy(): a socket that closes once postgres.js listens to it
    // (a socket closed already would leave its timers running, and the process alive).
    if (destroyed) {
      setImmediate(() => s.destroy());
      return s;
    }
    s.setNoDelay(true);
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    let a: Attempt;
    if (typeof o.path === 'string' && o.path !== '') {
      a = { host: o.path, port: 0, connected: false, postgres: undefined };
      s.connect(o.path);
    } else {
      hostCount = Math.max(1, o.host.length);
      const i = next++ % hostCount;
      const host = o.host[i] ?? 'localhost';
      const port = o.port[i] ?? o.port[0] ?? 5432;
      a = { host, port, connected: false, postgres: undefined };
      // postgres.js names the host in TLS (SNI) and in its errors from these.
      Object.assign(s, { host, port });
      s.connect(port, host);
    }
    attempts.push(a);
    const sslRequest = Boolean(o.ssl) && o.sslnegotiation !== 'direct';
    const direct = Boolean(o.ssl) && o.sslnegotiation === 'direct';
    s.once('connect', () => (a.connected = true));
    s.once('data', (chunk: Buffer) => {
      a.postgres = direct || looksLikePostgres(chunk, sslRequest);
      if (!a.postgres) {
        a.answered = preview(chunk);
        failed(a, 'not-postgres');
        s.destroy();
      }
    });
    s.once('error', (err: NodeJS.ErrnoException) => failed(a, err.code ?? err.message));
    s.once('close', () => failed(a, 'closed'));
    return s;
  };

  return {
    socket,
    attempts,
    allFailed,
    destroy: () => {
      destroyed = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}

/**
 * What a PostgreSQL server sends first: to an SSLRequest one byte, S or N
 * (E from servers older than 7.x); to a StartupMessage an Authentication
 * request (R), an ErrorResponse (E) or NegotiateProtocolVersion (v), each a
 * type byte and a sane int32 length.
 */
function looksLikePostgres(chunk: Buffer, afterSslRequest: boolean): boolean {
  const type = chunk[0];
  if (afterSslRequest && chunk.length === 1) return type === 0x53 /* S */ || type === 0x4e; /* N */
  if (type !== 0x52 /* R */ && type !== 0x45 /* E */ && type !== 0x76 /* v */ && type !== 0x4e /* N */) return false;
  if (chunk.length < 5) return true; // a short first read: the type byte is all we can judge
  const length = chunk.readInt32BE(1);
  return length >= 4 && length <= 1_000_000;
}

/** The first line of what answered, printable, at most 60 characters. */
function preview(chunk: Buffer): string {
  const line = chunk.subarray(0, 200).toString('latin1').split(/\r?\n/)[0] ?? '';
  const printable = line.replace(/[^\x20-\x7e]/g, '.');
  return printable.length > 60 ? `${printable.slice(0, 57)}...` : printable;
}

/** One line on what each host did, for the error when none of them worked. */
export function describeAttempts(attempts: Attempt[]): string {
  const seen = new Map<string, Attempt>();
  for (const a of attempts) {
    const key = attemptWhere(a);
    const prev = seen.get(key);
    // Keep the most telling attempt per host: an answer beats a hang-up.
    if (!prev || (a.answered && !prev.answered)) seen.set(key, a);
  }
  return [...seen].map(([where, a]) => `${where} (${attemptOutcome(a)})`).join(', ');
}

/** host:port, or the unix socket path. */
export function attemptWhere(a: Attempt): string {
  return a.port ? `${a.host}:${a.port}` : a.host;
}

export function attemptOutcome(a: Attempt): string {
  if (a.answered !== undefined) return `not a PostgreSQL server: it answered "${a.answered}"`;
  switch (a.failure) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'closed':
      return a.connected ? 'closed the connection without answering' : 'could not connect';
    case undefined:
      return a.connected ? 'accepted the connection but did not answer' : 'no answer';
    default:
      return a.failure;
  }
}
