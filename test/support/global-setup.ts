/**
 * vitest globalSetup: decides once per run which source serves each database
 * flavour, starts the shared servers (containers / throwaway local clusters),
 * prints one summary line, and hands everything to the test files through
 * `provide('homepotDatabases', ...)`. The returned teardown stops the servers;
 * a process 'exit' / signal handler does the same if the run dies first, and
 * clusters of runs that were SIGKILLed are reaped at the next start.
 *
 * Sources per flavour, first that works wins:
 *   timescale     : env TEST_DATABASE_URL_TIMESCALE
 *                   > local cluster from HOMEPOT_TS_TEST_COMMUNITY_BINDIR (a Community build)
 *                   > container timescale/timescaledb:latest-pg17
 *                   > local cluster from the machine's PostgreSQL (only if its TSL module is installed)
 *                   > embedded PGlite
 *   apache        : env TEST_DATABASE_URL_APACHE > local cluster (needs timescaledb.so)
 *   postgres      : env TEST_DATABASE_URL_POSTGRES > container postgres:17 > local cluster
 *   postgres-bare : env TEST_DATABASE_URL_POSTGRES_BARE
 *                   > local cluster from the bare copy of PostgreSQL (HOMEPOT_TS_TEST_BARE_BINDIR,
 *                     default: the tree scripts/provision-test-servers.sh makes; no timescaledb files)
 *                   > embedded PGlite without timescaledb
 * A set env var (URL or bindir) is decisive: if that server cannot be used or is
 * not the flavour it claims, the flavour is unavailable (no silent fallback).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { dockerAvailable, IMAGES, startContainer } from './containers.js';
import { embeddedLoadError, embeddedTimescaleVersion } from './embedded-source.js';
import {
  describeFacts,
  ENV_URL_VARS,
  FLAVOURS,
  howToProvide,
  knobs,
  type AvailableFlavour,
  type Flavour,
  type FlavourInfo,
  type ProvidedDatabases,
} from './flavours.js';
import {
  findPostgres,
  installationAt,
  reapStaleClusters,
  runAsForRoot,
  startLocalCluster,
  type LocalCluster,
  type PgInstallation,
  type RunAs,
} from './local-cluster.js';
import { errorText, flavourMismatch, quoteIdent, readFacts, redactUrl, withClient } from './pg.js';

interface Resource {
  stop(): Promise<void>;
  stopSync?(): void;
}

/** `decisive`: an explicit setting failed, do not fall back to the next source. */
type Attempt = AvailableFlavour | { failed: string; decisive?: boolean };

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const resources: Resource[] = [];
  const envServers: string[] = [];

  // Safety net: if the run dies before teardown, stop local clusters synchronously.
  const syncStop = () => {
    for (const r of resources) r.stopSync?.();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    syncStop();
    // If nobody else handles this signal, behave as if we had not been here.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  process.once('exit', syncStop);
  for (const s of signals) process.once(s, onSignal);

  const docker = memo(async () =>
    knobs.noContainers
      ? ({ ok: false, reason: 'disabled by HOMEPOT_TS_TEST_NO_CONTAINERS' } as const)
      : dockerAvailable(),
  );
  const machinePostgres = memo(() => Promise.resolve(findPostgres()));
  const localPrereqs = memo(async (): Promise<{ as: RunAs | null } | { reason: string }> => {
    if (knobs.noLocal) return { reason: 'disabled by HOMEPOT_TS_TEST_NO_LOCAL' };
    const as = runAsForRoot();
    if (as && 'reason' in as) return as;
    // Any pg_ctl of the same major version stops a cluster another tree started.
    const candidates = [knobs.communityBindir, knobs.bareBindir].filter((b): b is string => Boolean(b));
    const pg = [await machinePostgres(), ...candidates.map(installationAt)].find((p) => !('reason' in p));
    const reaped = pg && !('reason' in pg) ? await reapStaleClusters(pg, as).catch(() => 0) : 0;
    if (reaped) console.log(`[databases] removed ${reaped} local cluster(s) left behind by an earlier run`);
    return { as };
  });

  async function fromEnv(flavour: Flavour): Promise<Attempt | null> {
    const name = ENV_URL_VARS[flavour];
    const url = process.env[name];
    if (!url || knobs.noEnv) return null;
    try {
      return await withClient(url, async (sql) => {
        const facts = await readFacts(sql);
        const mismatch = flavourMismatch(flavour, facts);
        if (mismatch) return { failed: `${name} (${redactUrl(url)}) is not a ${flavour} server: ${mismatch}` };
        const [role] = await sql<
          { ok: boolean }[]
        >`select rolsuper or rolcreatedb as ok from pg_roles where rolname = current_user`;
        if (!role?.ok) return { failed: `${name}: the role cannot CREATE DATABASE (needs superuser or CREATEDB)` };
        envServers.push(url);
        return {
          flavour,
          available: true,
          source: 'env',
          description: describeFacts('env', facts),
          facts,
          adminUrl: url,
        } as const;
      });
    } catch (err) {
      return { failed: `${name} (${redactUrl(url)}): ${errorText(err)}` };
    }
  }

  async function fromContainer(flavour: Flavour, image: string): Promise<Attempt> {
    const d = await docker();
    if (!d.ok) return { failed: `container: ${d.reason}` };
    try {
      const c = await startContainer(image);
      resources.push(c);
      const facts = await withClient(c.adminUrl, readFacts);
      const mismatch = flavourMismatch(flavour, facts);
      if (mismatch) return { failed: `container ${image}: ${mismatch}` };
      const description = describeFacts('container', facts).replace('container (', `container (${image}, `);
      return {
        flavour,
        available: true,
        source: 'container',
        description,
        facts,
        adminUrl: c.adminUrl,
        passwordRole: c.passwordRole,
      };
    } catch (err) {
      return { failed: `container ${image}: ${errorText(err)}` };
    }
  }

  /** A local cluster from the installation `install` finds (default: the machine's PostgreSQL). */
  async function fromLocalCluster(
    flavour: Flavour,
    needs: (pg: PgInstallation) => string | null,
    settings: Record<string, string>,
    install: () => PgInstallation | { reason: string } = () => findPostgres(),
  ): Promise<Attempt> {
    const pre = await localPrereqs();
    if ('reason' in pre) return { failed: `local-cluster: ${pre.reason}` };
    const pg = install();
    if ('reason' in pg) return { failed: `local-cluster: ${pg.reason}` };
    const missing = needs(pg);
    if (missing) return { failed: `local-cluster: ${missing}` };
    let cluster: LocalCluster;
    try {
      cluster = await startLocalCluster({ name: flavour, pg, as: pre.as, settings });
    } catch (err) {
      return { failed: `local-cluster: ${errorText(err)}` };
    }
    resources.push(cluster);
    try {
      const facts = await withClient(cluster.adminUrl, readFacts);
      const mismatch = flavourMismatch(flavour, facts);
      if (mismatch) {
        await cluster.stop();
        return { failed: `local-cluster: ${mismatch}` };
      }
      return {
        flavour,
        available: true,
        source: 'local-cluster',
        description: describeFacts('local-cluster', facts),
        facts,
        adminUrl: cluster.adminUrl,
        passwordRole: cluster.passwordRole,
      };
    } catch (err) {
      await cluster.stop();
      return { failed: `local-cluster: ${errorText(err)}` };
    }
  }

  async function fromEmbedded(flavour: Flavour, timescaledb: boolean): Promise<Attempt> {
    if (knobs.noEmbedded) return { failed: 'embedded: disabled by HOMEPOT_TS_TEST_NO_EMBEDDED' };
    const loadError = await embeddedLoadError();
    if (loadError) return { failed: `embedded: ${loadError}` };
    // Not started here (seconds of WASM start-up): each test file starts its own
    // in-memory instance and reads what it is then.
    const version = timescaledb ? await embeddedTimescaleVersion() : null;
    return {
      flavour,
      available: true,
      source: 'embedded',
      description: timescaledb
        ? `embedded (PGlite TimescaleDB ${version ?? '?'}, one in-memory instance per file)`
        : 'embedded without timescaledb (one in-memory instance per file)',
      embeddedTimescaledb: timescaledb,
    };
  }

  const timescaleLib = (pg: PgInstallation) =>
    existsSync(join(pg.pkglibdir, 'timescaledb.so')) ? null : `${join(pg.pkglibdir, 'timescaledb.so')} not found`;
  const tslLib = (pg: PgInstallation) => {
    const missing = timescaleLib(pg);
    if (missing) return missing;
    const tsl = readdirSync(pg.pkglibdir).some((f) => /^timescaledb-tsl-.*\.so$/.test(f));
    return tsl ? null : `no TSL module (timescaledb-tsl-*.so) in ${pg.pkglibdir}: Apache-only build`;
  };
  // Really bare: no timescaledb file where this server looks for extensions and libraries
  // (checked again on the running server: pg_available_extensions, flavourMismatch).
  const noTimescaledb = (pg: PgInstallation) => {
    const found = [join(pg.sharedir, 'extension'), pg.pkglibdir].flatMap((dir) =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.startsWith('timescaledb'))
            .map((f) => join(dir, f))
        : [],
    );
    return found.length ? `${pg.bindir} is not bare: ${found.slice(0, 3).join(', ')}` : null;
  };
  const timescaleSettings = (license: 'apache' | 'timescale') => ({
    shared_preload_libraries: "'timescaledb'",
    'timescaledb.license': `'${license}'`,
    'timescaledb.telemetry_level': 'off',
    max_worker_processes: '32',
    'timescaledb.max_background_workers': '16',
  });

  /** HOMEPOT_TS_TEST_COMMUNITY_BINDIR: a PostgreSQL whose pkglibdir has the TSL module. Decisive when set. */
  async function fromCommunityBindir(): Promise<Attempt | null> {
    const bindir = knobs.communityBindir;
    if (!bindir) return null;
    const result = await fromLocalCluster('timescale', tslLib, timescaleSettings('timescale'), () =>
      installationAt(bindir),
    );
    if (!('failed' in result)) return result;
    return { failed: `HOMEPOT_TS_TEST_COMMUNITY_BINDIR=${bindir}: ${result.failed}`, decisive: true };
  }

  /** The bare copy of PostgreSQL; decisive only when HOMEPOT_TS_TEST_BARE_BINDIR is set. */
  async function fromBareTree(): Promise<Attempt | null> {
    const bindir = knobs.bareBindir;
    if (!existsSync(bindir) && !knobs.bareBindirSet) return { failed: `local-cluster: no ${bindir}` };
    const result = await fromLocalCluster('postgres-bare', noTimescaledb, {}, () => installationAt(bindir));
    if (!('failed' in result) || !knobs.bareBindirSet) return result;
    return { failed: `HOMEPOT_TS_TEST_BARE_BINDIR=${bindir}: ${result.failed}`, decisive: true };
  }

  const plans: Record<Flavour, Array<() => Promise<Attempt | null>>> = {
    timescale: [
      () => fromEnv('timescale'),
      () => fromCommunityBindir(),
      () => fromContainer('timescale', IMAGES.timescale),
      () => fromLocalCluster('timescale', tslLib, timescaleSettings('timescale')),
      () => fromEmbedded('timescale', true),
    ],
    apache: [
      () => fromEnv('apache'),
      () => Promise.resolve({ failed: 'container: no official Apache-edition image' }),
      () => fromLocalCluster('apache', timescaleLib, timescaleSettings('apache')),
    ],
    postgres: [
      () => fromEnv('postgres'),
      () => fromContainer('postgres', IMAGES.postgres),
      () => fromLocalCluster('postgres', () => null, {}),
    ],
    'postgres-bare': [() => fromEnv('postgres-bare'), () => fromBareTree(), () => fromEmbedded('postgres-bare', false)],
  };

  async function resolve(flavour: Flavour): Promise<FlavourInfo> {
    const reasons: string[] = [];
    for (const [i, attempt] of plans[flavour].entries()) {
      const result = await attempt();
      if (result === null) continue; // env var not set
      if ('available' in result) return result;
      reasons.push(result.failed);
      // A set env var is decisive.
      if (i === 0) {
        const hint = `fix ${ENV_URL_VARS[flavour]}, or unset it to use the other sources (${howToProvide(flavour)})`;
        return { flavour, available: false, reason: result.failed, hint };
      }
      if (result.decisive) return { flavour, available: false, reason: result.failed, hint: howToProvide(flavour) };
    }
    return { flavour, available: false, reason: reasons.join('; '), hint: howToProvide(flavour) };
  }

  let infos: FlavourInfo[];
  try {
    infos = await Promise.all(FLAVOURS.map(resolve));
  } catch (err) {
    await Promise.allSettled(resources.map((r) => r.stop()));
    throw err;
  }
  const flavours = Object.fromEntries(infos.map((i) => [i.flavour, i])) as Record<Flavour, FlavourInfo>;
  const provided: ProvidedDatabases = { flavours, strict: knobs.strict, runId };
  project.provide('homepotDatabases', provided);

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const summary = infos.map((i) => `${i.flavour}: ${i.available ? i.description : 'UNAVAILABLE'}`).join(' | ');
  console.log(`[databases] ${summary}  (setup ${seconds} s)`);
  for (const i of infos) {
    if (i.available) continue;
    const consequence = provided.strict ? 'its tests will FAIL (CI=true)' : 'its tests will be SKIPPED';
    console.log(
      `[databases] !!! ${i.flavour} UNAVAILABLE, ${consequence}: ${i.reason}\n[databases]     to provide it: ${i.hint}`,
    );
  }

  return async function teardown() {
    // Per-file databases are dropped by the files; drop leftovers of crashed files.
    for (const url of envServers) {
      await withClient(url, async (sql) => {
        const rows = await sql<
          { datname: string }[]
        >`select datname from pg_database where datname like ${`hpt_${runId}_%`}`;
        for (const { datname } of rows) await sql.unsafe(`drop database if exists ${quoteIdent(datname)} with (force)`);
      }).catch(() => {});
    }
    await Promise.allSettled(resources.map((r) => r.stop()));
    process.off('exit', syncStop);
    for (const s of signals) process.off(s, onSignal);
  };
}
