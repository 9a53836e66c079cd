/**
 * Throwaway PostgreSQL clusters built from the server binaries on this machine
 * (initdb + pg_ctl), one per flavour, for the duration of one vitest run.
 *
 * - Lives in a temp dir `homepot-ts-pg-<name>-XXXXXX` (data dir, unix socket,
 *   server.log, owner.json with the vitest pid for stale-cluster cleanup).
 * - Listens on 127.0.0.1:<free port>. pg_hba: `trust` for everyone except the
 *   role `homepot_pw`, which must authenticate with scram-sha-256.
 * - PostgreSQL refuses to run as root: as root the binaries are spawned with
 *   uid/gid of the `postgres` OS user and the temp dir is chowned to it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knobs, PASSWORD_ROLE_NAME, type PasswordRole } from './flavours.js';
import { freePort, quoteIdent, quoteLiteral, withClient } from './pg.js';

const DIR_PREFIX = 'homepot-ts-pg-';

export interface PgInstallation {
  bindir: string;
  pkglibdir: string;
  sharedir: string;
  version: string;
}

export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

export interface LocalCluster {
  name: string;
  dir: string;
  port: number;
  adminUrl: string;
  passwordRole: PasswordRole;
  stop(): Promise<void>;
  /** Synchronous stop for process 'exit' handlers. Idempotent. */
  stopSync(): void;
}

/**
 * The installation whose binaries are in `bindir` (initdb, pg_ctl, pg_config),
 * or why not. Its pkglibdir and sharedir come from its own pg_config, which
 * answers relative to where the binaries are (a copied tree reports its copies).
 */
export function installationAt(bindir: string): PgInstallation | { reason: string } {
  for (const tool of ['initdb', 'pg_ctl', 'pg_config'])
    if (!existsSync(join(bindir, tool))) return { reason: `no ${tool} in ${bindir}` };
  try {
    const run = (arg: string) =>
      execFileSync(join(bindir, 'pg_config'), [arg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { bindir, pkglibdir: run('--pkglibdir'), sharedir: run('--sharedir'), version: run('--version') };
  } catch (err) {
    return { reason: `${join(bindir, 'pg_config')} failed: ${String(err)}` };
  }
}

/** Locate the machine's initdb/pg_ctl. Returns a reason when not installed. */
export function findPostgres(): PgInstallation | { reason: string } {
  const candidates: string[] = [];
  if (knobs.pgBindir) candidates.push(knobs.pgBindir);
  else {
    try {
      candidates.push(
        execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
      );
    } catch {
      /* no pg_config on PATH */
    }
    try {
      const versions = readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a));
      for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
    } catch {
      /* not Debian-style */
    }
  }
  for (const bindir of candidates) {
    const pg = installationAt(bindir);
    if (!('reason' in pg)) return pg;
  }
  return {
    reason: candidates.length
      ? `no initdb/pg_ctl/pg_config in ${candidates.join(', ')}`
      : 'no PostgreSQL server binaries (pg_config not on PATH, no /usr/lib/postgresql/*/bin)',
  };
}

/** When running as root: the OS user to run PostgreSQL as. */
export function runAsForRoot(): RunAs | null | { reason: string } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    const parts = line?.split(':');
    if (!parts || parts.length < 4)
      return { reason: "running as root and there is no 'postgres' OS user to run PostgreSQL as" };
    return { name: 'postgres', uid: Number(parts[2]), gid: Number(parts[3]) };
  } catch (err) {
    return { reason: `running as root and cannot read /etc/passwd: ${String(err)}` };
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  env.LANG = 'C';
  return env;
}

interface RunResult {
  code: number | null;
  output: string;
}

function run(cmd: string, args: string[], cwd: string, as: RunAs | null): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(as ? { uid: as.uid, gid: as.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function runSyncQuiet(cmd: string, args: string[], cwd: string, as: RunAs | null): void {
  spawnSync(cmd, args, {
    cwd,
    env: cleanEnv(),
    stdio: 'ignore',
    timeout: 15_000,
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  });
}

function makeTempDir(name: string, as: RunAs | null): string {
  const bases = [tmpdir(), '/tmp'];
  for (const base of bases) {
    const dir = mkdtempSync(join(base, `${DIR_PREFIX}${name}-`));
    if (!as) return dir;
    chownSync(dir, as.uid, as.gid);
    // The postgres user must be able to reach the dir (TMPDIR under /root would not do).
    const probe = spawnSync('test', ['-w', dir], { uid: as.uid, gid: as.gid });
    if (probe.status === 0) return dir;
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`no temp dir writable by the ${as?.name} OS user`);
}

function writeOwned(path: string, content: string, as: RunAs | null): void {
  writeFileSync(path, content);
  if (as) chownSync(path, as.uid, as.gid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stop and remove clusters left behind by vitest runs that died without
 * teardown (SIGKILL, OOM). Only touches dirs whose owner process is gone.
 */
export async function reapStaleClusters(pg: PgInstallation, as: RunAs | null): Promise<number> {
  let reaped = 0;
  for (const base of new Set([tmpdir(), '/tmp'])) {
    let entries: string[];
    try {
      entries = await readdir(base);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.startsWith(DIR_PREFIX)) continue;
      const dir = join(base, entry);
      let owner: number | null = null;
      try {
        owner = (JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as { pid: number }).pid;
      } catch {
        continue; // being created right now, or not ours
      }
      if (owner === null || pidAlive(owner)) continue;
      if (existsSync(join(dir, 'data', 'postmaster.pid'))) {
        runSyncQuiet(
          join(pg.bindir, 'pg_ctl'),
          ['-D', join(dir, 'data'), 'stop', '-m', 'immediate', '-w', '-t', '10'],
          dir,
          as,
        );
      }
      rmSync(dir, { recursive: true, force: true });
      reaped++;
    }
  }
  return reaped;
}

export interface ClusterOptions {
  name: string;
  pg: PgInstallation;
  as: RunAs | null;
  /** Extra postgresql.conf settings (values are written verbatim). */
  settings?: Record<string, string>;
}

/** initdb + start + password role. Throws with the server log on failure. */
export async function startLocalCluster(opts: ClusterOptions): Promise<LocalCluster> {
  const { name, pg, as } = opts;
  const dir = makeTempDir(name, as);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pgCtl = join(pg.bindir, 'pg_ctl');
  writeOwned(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, started: new Date().toISOString() }), as);

  let running = false;
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    if (running) runSyncQuiet(pgCtl, ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '10'], dir, as);
    rmSync(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (running) await run(pgCtl, ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '10'], dir, as);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const init = await run(
      join(pg.bindir, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      dir,
      as,
    );
    if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code}):\n${init.output.trim()}`);

    writeOwned(
      join(dataDir, 'pg_hba.conf'),
      [
        '# homepot-ts test cluster',
        'local all all trust',
        `host all ${PASSWORD_ROLE_NAME} 127.0.0.1/32 scram-sha-256`,
        'host all all 127.0.0.1/32 trust',
        // pg_basebackup and streaming for a test replica (startReplica); "all" does not cover replication.
        'host replication postgres 127.0.0.1/32 trust',
        '',
      ].join('\n'),
      as,
    );
    const conf = join(dataDir, 'postgresql.conf');
    writeOwned(conf, `${readFileSync(conf, 'utf8')}\ninclude 'homepot-ts.conf'\n`, as);

    let port = 0;
    let lastError = '';
    for (let attempt = 0; attempt < 5 && !running; attempt++) {
      port = await freePort();
      const settings: Record<string, string> = {
        listen_addresses: "'127.0.0.1'",
        port: String(port),
        unix_socket_directories: quoteLiteral(dir),
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        password_encryption: "'scram-sha-256'",
        max_connections: '200',
        logging_collector: 'off',
        log_min_messages: 'warning',
        ...opts.settings,
      };
      writeOwned(
        join(dataDir, 'homepot-ts.conf'),
        Object.entries(settings)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n') + '\n',
        as,
      );
      const start = await run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start'], dir, as);
      if (start.code === 0) {
        running = true;
        break;
      }
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      lastError = `pg_ctl start failed (exit ${start.code}):\n${start.output.trim()}\n${log.trim().split('\n').slice(-15).join('\n')}`;
      if (!/could not bind|Address already in use/i.test(log + start.output)) break;
    }
    if (!running) throw new Error(lastError);

    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const passwordRole: PasswordRole = { user: PASSWORD_ROLE_NAME, password: `pw_${randomBytes(12).toString('hex')}` };
    await withClient(adminUrl, (sql) =>
      sql.unsafe(`create role ${quoteIdent(passwordRole.user)} login password ${quoteLiteral(passwordRole.password)}`),
    );
    return { name, dir, port, adminUrl, passwordRole, stop, stopSync };
  } catch (err) {
    stopSync();
    throw err;
  }
}

export interface Replica {
  port: number;
  /** `url` with the replica's port: the same database, read from the standby. */
  urlFor(url: string): string;
  /** Wait until the replica has replayed everything the primary had written when called. */
  caughtUp(primaryUrl: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A streaming replica (hot standby) of the local cluster at `primaryUrl`:
 * `pg_basebackup -R` into a new data dir, started on a free port with the
 * same installation and settings. Stop it in afterAll.
 */
export async function startReplica(primaryUrl: string, pg: PgInstallation, as: RunAs | null): Promise<Replica> {
  const primary = new URL(primaryUrl);
  const dir = makeTempDir('replica', as);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pgCtl = join(pg.bindir, 'pg_ctl');
  writeOwned(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, started: new Date().toISOString() }), as);
  let running = false;
  const stop = async () => {
    if (running) await run(pgCtl, ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '10'], dir, as);
    running = false;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const base = await run(
      join(pg.bindir, 'pg_basebackup'),
      [
        '-h',
        primary.hostname,
        '-p',
        primary.port,
        '-U',
        'postgres',
        '-D',
        dataDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
      ],
      dir,
      as,
    );
    if (base.code !== 0) throw new Error(`pg_basebackup failed (exit ${base.code}):\n${base.output.trim()}`);
    const port = await freePort();
    // The copied homepot-ts.conf names the primary's port and socket dir: this one's own.
    const conf = join(dataDir, 'homepot-ts.conf');
    const copied = readFileSync(conf, 'utf8')
      .split('\n')
      .filter((l) => !/^(port|unix_socket_directories)\s*=/.test(l));
    writeOwned(
      conf,
      [...copied, `port = ${port}`, `unix_socket_directories = ${quoteLiteral(dir)}`, ''].join('\n'),
      as,
    );
    const start = await run(pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start'], dir, as);
    if (start.code !== 0) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      throw new Error(`replica start failed (exit ${start.code}):\n${start.output.trim()}\n${log.trim()}`);
    }
    running = true;
    const urlFor = (url: string) => {
      const u = new URL(url);
      u.port = String(port);
      return u.toString();
    };
    const caughtUp = async (fromUrl: string) => {
      const [p] = await withClient(fromUrl, (sql) => sql`SELECT pg_current_wal_lsn()::text AS lsn`);
      const lsn = p?.lsn as string;
      for (let i = 0; i < 600; i++) {
        const [r] = await withClient(
          urlFor(fromUrl),
          (sql) => sql`SELECT pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn AS ok`,
        );
        if (r?.ok) return;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`the replica did not replay up to ${lsn} within 60 s`);
    };
    return { port, urlFor, caughtUp, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
