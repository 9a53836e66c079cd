/**
 * Real databases for tests (never mocks). Each test file gets a fresh database
 * of the flavour it asks for:
 *
 * ```ts
 * import { expect, it } from 'vitest';
 * import { describeWithDatabase } from './support/databases.js';
 *
 * describeWithDatabase('apache', 'status on the Apache edition', (db) => {
 *   it('reports the license', async () => {
 *     const [row] = await db().sql()`select current_setting('timescaledb.license') as license`;
 *     expect(row?.license).toBe('apache');
 *     // db().url: superuser URL of this file's database, for the CLI under test
 *   });
 * });
 * ```
 *
 * Flavours: 'timescale' (Community), 'apache', 'postgres' (timescaledb not
 * preloaded; maybe installed), 'postgres-bare' (no timescaledb at all).
 * Sources and their order: see global-setup.ts; the run prints which served what.
 *
 * When a flavour cannot be provided: with CI=true its tests FAIL (each test
 * throws the reason from beforeEach); otherwise they are SKIPPED (describeWithDatabase uses
 * describe.skipIf; useDatabase skips each test with ctx.skip) and a loud line
 * says how to provide it.
 *
 * Embedded flavours (`singleConnection: true`) allow ONE connection at a time:
 * `db().sql()` is a max-1 client that releases its connection after 0.2 s idle,
 * so CLI code under test can connect in between. Don't hold `sql.reserve()` or a
 * transaction open while other code connects.
 */
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, inject } from 'vitest';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-source.js';
import type { AvailableFlavour, Flavour, FlavourInfo, ProvidedDatabases, ServerFacts, Source } from './flavours.js';
import { client, quoteIdent, readFacts, withClient, withDatabase, type Sql } from './pg.js';
import { findPostgres, runAsForRoot, startReplica, type Replica } from './local-cluster.js';

export type { Flavour, Replica, Source, Sql };
export { FLAVOURS } from './flavours.js';

export interface TestDatabase {
  flavour: Flavour;
  source: Source;
  /** Database name (per-file on shared servers; the single embedded database otherwise). */
  name: string;
  /** Superuser URL of this database. */
  url: string;
  /** URL for a non-superuser role that really authenticates with a password (container, local-cluster). */
  passwordUrl?: string;
  /** That role's password, to assert it never shows up in output. */
  password?: string;
  /** true for embedded PGlite: one connection at a time, so clients must use max 1. */
  singleConnection: boolean;
  /** What this server is, read from it when the database was created (embedded: timescaledb counts as preloaded; license is null until CREATE EXTENSION). */
  facts: ServerFacts;
  /** What globalSetup decided for the flavour (source, description, ...), with this server's facts. */
  info: AvailableFlavour & { facts: ServerFacts };
  /** Shared postgres.js client for this database (closed by dropAndClose / afterAll). */
  sql(): Sql;
  /** An extra client (tracked and closed with the database). Forced to max 1 when singleConnection. */
  connect(options?: postgres.Options<Record<string, never>>): Sql;
  /** Close every client opened through sql()/connect() (e.g. before handing the URL to other code). */
  closeClients(): Promise<void>;
  /** Close clients, then drop the database (or stop the embedded server). Idempotent. */
  dropAndClose(): Promise<void>;
}

function provided(): ProvidedDatabases {
  const p = inject('homepotDatabases');
  if (!p)
    throw new Error(
      '[databases] nothing provided: run vitest with vitest.config.ts (globalSetup test/support/global-setup.ts)',
    );
  return p;
}

/** What globalSetup decided for a flavour (available or not, and why). */
export function flavourInfo(flavour: Flavour): FlavourInfo {
  const info = provided().flavours[flavour];
  if (!info) throw new Error(`[databases] unknown flavour ${JSON.stringify(flavour)}`);
  return info;
}

function unavailableMessage(info: FlavourInfo): string {
  if (info.available) return '';
  return `${info.flavour} database unavailable: ${info.reason}. To provide it: ${info.hint}`;
}

const warned = new Set<Flavour>();
function warnSkipping(info: FlavourInfo): void {
  if (warned.has(info.flavour)) return;
  warned.add(info.flavour);
  console.warn(`[databases] !!! SKIPPING ${info.flavour} tests: ${unavailableMessage(info)}`);
}

let counter = 0;
function databaseName(runId: string, label: string | undefined): string {
  const slug = (label ?? 'db')
    .toLowerCase()
    .replace(/\.test\.[cm]?[jt]s$/, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const suffix = `${process.pid.toString(36)}${(counter++).toString(36)}${randomBytes(2).toString('hex')}`;
  const prefix = `hpt_${runId}_`;
  const room = 63 - prefix.length - suffix.length - 1;
  return `${prefix}${slug.slice(0, Math.max(0, room))}_${suffix}`;
}

/**
 * Low-level: create a fresh database of the flavour now (throws if the flavour is
 * unavailable). You own it: call dropAndClose() (e.g. in afterAll).
 * Embedded flavours start a new in-memory PGlite instance per call.
 */
export async function createTestDatabase(flavour: Flavour, options: { label?: string } = {}): Promise<TestDatabase> {
  const { runId } = provided();
  const info = flavourInfo(flavour);
  if (!info.available) throw new Error(`[databases] ${unavailableMessage(info)}`);

  let name: string;
  let url: string;
  let passwordUrl: string | undefined;
  let embedded: EmbeddedServer | undefined;
  const singleConnection = info.source === 'embedded';

  if (info.source === 'embedded') {
    embedded = await startEmbeddedServer(info.embeddedTimescaledb ?? true);
    name = embedded.database;
    url = embedded.url;
  } else {
    const adminUrl = info.adminUrl;
    if (!adminUrl) throw new Error(`[databases] ${flavour}: no admin URL for source ${info.source}`);
    name = databaseName(runId, options.label);
    // template0: nobody is ever connected to it, so concurrent creates never trip over each other.
    await withClient(adminUrl, (sql) => sql.unsafe(`create database ${quoteIdent(name)} template template0`));
    url = withDatabase(adminUrl, name);
    if (info.passwordRole) {
      passwordUrl = withDatabase(adminUrl, name, info.passwordRole);
      const role = quoteIdent(info.passwordRole.user);
      await withClient(url, async (sql) => {
        await sql.unsafe(`grant connect, temporary on database ${quoteIdent(name)} to ${role}`);
        await sql.unsafe(`grant usage, create on schema public to ${role}`);
      });
    }
  }

  const clients = new Set<Sql>();
  let shared: Sql | undefined;
  const open = (options: postgres.Options<Record<string, never>> = {}): Sql => {
    const sql = client(url, {
      max: singleConnection ? 1 : 4,
      // Embedded: give the single connection back quickly so other code can connect.
      ...(singleConnection ? { idle_timeout: 0.2 } : {}),
      ...options,
      ...(singleConnection ? { max: 1 } : {}),
    });
    clients.add(sql);
    return sql;
  };
  const closeClients = async () => {
    const all = [...clients];
    clients.clear();
    shared = undefined;
    await Promise.allSettled(all.map((c) => c.end({ timeout: 5 })));
  };
  let dropping: Promise<void> | undefined;
  const dropAndClose = () =>
    (dropping ??= (async () => {
      await closeClients();
      if (embedded) {
        await embedded.stop();
      } else if (info.adminUrl) {
        const adminUrl = info.adminUrl;
        await withClient(adminUrl, (sql) => sql.unsafe(`drop database if exists ${quoteIdent(name)} with (force)`));
      }
    })());

  let facts: ServerFacts;
  try {
    facts = await withClient(url, readFacts);
  } catch (err) {
    await dropAndClose().catch(() => {});
    throw err;
  }
  if (embedded?.timescaledb) facts.timescaledb.preloaded = true; // compiled into PGlite

  return {
    flavour,
    source: info.source,
    name,
    url,
    passwordUrl,
    password: passwordUrl ? info.passwordRole?.password : undefined,
    singleConnection,
    facts,
    info: { ...info, facts },
    sql: () => (shared ??= open()),
    connect: (options) => open(options),
    closeClients,
    dropAndClose,
  };
}

/**
 * Inside a describe (or at the top of a file): a fresh database of this flavour
 * for the tests of that block, created in beforeAll and dropped in afterAll.
 * Returns a getter; call it inside tests/hooks, not at collection time.
 *
 * If the flavour is unavailable: CI=true -> every test fails with the reason;
 * otherwise every test of the block is skipped via ctx.skip(). Your own
 * beforeAll hooks still run in that case; prefer describeWithDatabase, which
 * skips the whole block.
 */
export function useDatabase(flavour: Flavour): () => TestDatabase {
  const info = flavourInfo(flavour);
  if (!info.available) {
    const message = unavailableMessage(info);
    if (provided().strict) {
      // Fail every test (not just the suite) so the counts say "failed", not "skipped".
      beforeEach(() => {
        throw new Error(`[databases] CI=true and the ${message}`);
      });
    } else {
      warnSkipping(info);
      beforeEach((ctx) => ctx.skip(`${flavour} database unavailable (see [databases] line)`));
    }
    return () => {
      throw new Error(`[databases] ${message}`);
    };
  }

  let db: TestDatabase | undefined;
  // eslint-disable-next-line no-empty-pattern -- vitest reads the hook's context argument by destructuring
  beforeAll(async ({}, suite) => {
    const file = suite?.file?.filepath;
    db = await createTestDatabase(flavour, { label: file ? basename(file) : undefined });
  });
  afterAll(async () => {
    await db?.dropAndClose();
  });
  return () => {
    if (!db)
      throw new Error(
        `[databases] the ${flavour} database is not ready: use the getter inside tests or hooks, not at collection time`,
      );
    return db;
  };
}

/**
 * `describe` whose tests get a fresh database of the flavour: the block is
 * skipped (describe.skipIf) when the flavour is unavailable outside CI, and
 * fails in CI.
 */
export function describeWithDatabase(flavour: Flavour, name: string, fn: (db: () => TestDatabase) => void): void {
  const info = flavourInfo(flavour);
  const skip = !info.available && !provided().strict;
  if (skip) warnSkipping(info);
  describe.skipIf(skip)(`${name} [${flavour}]`, () => {
    fn(useDatabase(flavour));
  });
}

/**
 * A streaming replica of a local-cluster test database's server (pg_basebackup -R; see
 * startReplica in local-cluster.ts): `replica.urlFor(db.url)` reads the same database from
 * the standby. Only a local cluster can be copied: other sources throw. Stop it in afterAll.
 */
export async function startReplicaOf(db: TestDatabase): Promise<Replica> {
  if (db.source !== 'local-cluster')
    throw new Error(`[databases] a replica is made from a local cluster; ${db.flavour} is served by ${db.source}`);
  const pg = findPostgres();
  const as = runAsForRoot();
  if ('reason' in pg) throw new Error(`[databases] replica: ${pg.reason}`);
  if (as && 'reason' in as) throw new Error(`[databases] replica: ${as.reason}`);
  return startReplica(db.url, pg, as);
}
