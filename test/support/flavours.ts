/**
 * Shared vocabulary of the test-database harness: flavours, sources, what
 * globalSetup hands to the test files (via vitest `provide`/`inject`), and the
 * environment knobs. No side effects; imported by both sides.
 */

export const FLAVOURS = ['timescale', 'apache', 'postgres', 'postgres-bare'] as const;

/**
 * - `timescale`: TimescaleDB Community edition (license `timescale`: compression,
 *   policies, continuous aggregates).
 * - `apache`: TimescaleDB Apache-2 edition (preloaded, license `apache`).
 * - `postgres`: PostgreSQL without timescaledb preloaded (its files may or may
 *   not be installed; see `info.timescaledb.available`).
 * - `postgres-bare`: timescaledb not available at all.
 */
export type Flavour = (typeof FLAVOURS)[number];

/** Where a flavour's databases come from, in the order they are tried. */
export type Source = 'env' | 'container' | 'local-cluster' | 'embedded';

export interface ServerFacts {
  /** e.g. "15.18" (PGlite reports its bundled PostgreSQL version). */
  serverVersion: string;
  timescaledb: {
    /** listed in pg_available_extensions */
    available: boolean;
    /** default_version from pg_available_extensions, when available */
    version: string | null;
    /** timescaledb is in shared_preload_libraries (or built into PGlite) */
    preloaded: boolean;
    /** current_setting('timescaledb.license'), when the library is loaded */
    license: string | null;
  };
}

export interface PasswordRole {
  user: string;
  password: string;
}

/** A flavour that can be served. Serialisable: it crosses the process boundary. */
export interface AvailableFlavour {
  flavour: Flavour;
  available: true;
  source: Source;
  /** One-line human description, e.g. "local-cluster (PG 15.18, TimescaleDB 2.19.3, license apache)". */
  description: string;
  /** Read from the shared server at setup. Absent for `embedded` (each file's instance is read at creation). */
  facts?: ServerFacts;
  /**
   * Shared-server sources (env, container, local-cluster): admin URL on which
   * per-file databases are created and dropped. Absent for `embedded`.
   */
  adminUrl?: string;
  /** Non-superuser role that must authenticate with a password (container, local-cluster). */
  passwordRole?: PasswordRole;
  /** Embedded sources: start PGlite with or without timescaledb. */
  embeddedTimescaledb?: boolean;
}

export interface UnavailableFlavour {
  flavour: Flavour;
  available: false;
  /** Why each source could not serve it. */
  reason: string;
  /** How to provide it. */
  hint: string;
}

export type FlavourInfo = AvailableFlavour | UnavailableFlavour;

export interface ProvidedDatabases {
  flavours: Record<Flavour, FlavourInfo>;
  /** CI mode: an unavailable flavour makes its tests fail instead of skipping. */
  strict: boolean;
  /** Unique per vitest run; prefix of every per-file database name. */
  runId: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    homepotDatabases: ProvidedDatabases;
  }
}

export const ENV_URL_VARS: Record<Flavour, string> = {
  timescale: 'TEST_DATABASE_URL_TIMESCALE',
  apache: 'TEST_DATABASE_URL_APACHE',
  postgres: 'TEST_DATABASE_URL_POSTGRES',
  'postgres-bare': 'TEST_DATABASE_URL_POSTGRES_BARE',
};

export const PASSWORD_ROLE_NAME = 'homepot_pw';

function flag(name: string): boolean {
  const v = (process.env[name] ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no';
}

/** Environment knobs (read in the vitest main process by globalSetup). */
export const knobs = {
  /** CI=true: unavailable flavours fail instead of skip. */
  get strict(): boolean {
    return flag('CI');
  },
  /** HOMEPOT_TS_TEST_NO_ENV=1: ignore TEST_DATABASE_URL_* */
  get noEnv(): boolean {
    return flag('HOMEPOT_TS_TEST_NO_ENV');
  },
  /** HOMEPOT_TS_TEST_NO_CONTAINERS=1: never try Docker */
  get noContainers(): boolean {
    return flag('HOMEPOT_TS_TEST_NO_CONTAINERS');
  },
  /** HOMEPOT_TS_TEST_NO_LOCAL=1: never start throwaway local clusters */
  get noLocal(): boolean {
    return flag('HOMEPOT_TS_TEST_NO_LOCAL');
  },
  /** HOMEPOT_TS_TEST_NO_EMBEDDED=1: never use embedded PGlite */
  get noEmbedded(): boolean {
    return flag('HOMEPOT_TS_TEST_NO_EMBEDDED');
  },
  /** HOMEPOT_TS_TEST_PG_BINDIR: PostgreSQL binaries for local clusters (default: `pg_config --bindir`). */
  get pgBindir(): string | undefined {
    return process.env.HOMEPOT_TS_TEST_PG_BINDIR || undefined;
  },
  /**
   * HOMEPOT_TS_TEST_COMMUNITY_BINDIR: binaries of a PostgreSQL whose pkglibdir has TimescaleDB's
   * Community module (timescaledb-tsl-*.so); serves `timescale` from a local cluster (decisive when set).
   */
  get communityBindir(): string | undefined {
    return process.env.HOMEPOT_TS_TEST_COMMUNITY_BINDIR || undefined;
  },
  /**
   * HOMEPOT_TS_TEST_BARE_BINDIR: binaries of a PostgreSQL without any timescaledb file; serves
   * `postgres-bare` from a local cluster. Default: the copy scripts/provision-test-servers.sh makes
   * (used when it exists, else embedded); decisive when set.
   */
  get bareBindir(): string {
    return process.env.HOMEPOT_TS_TEST_BARE_BINDIR || BARE_BINDIR;
  },
  get bareBindirSet(): boolean {
    return Boolean(process.env.HOMEPOT_TS_TEST_BARE_BINDIR);
  },
};

/** Where scripts/provision-test-servers.sh copies PostgreSQL 15 without timescaledb. */
export const BARE_BINDIR = '/opt/homepot-ts-test/pg15-bare/usr/lib/postgresql/15/bin';

export function howToProvide(flavour: Flavour): string {
  const env = ENV_URL_VARS[flavour];
  switch (flavour) {
    case 'timescale':
      return `set ${env}=postgres://admin@host/postgres, or HOMEPOT_TS_TEST_COMMUNITY_BINDIR to the bindir of a PostgreSQL with TimescaleDB's Community module, or start a Docker engine (timescale/timescaledb:latest-pg17), or fix the embedded PGlite (src/embedded.ts)`;
    case 'apache':
      return `set ${env}=postgres://admin@host/postgres, or run scripts/provision-test-servers.sh as root (installs timescaledb.so for the local PostgreSQL 15)`;
    case 'postgres':
      return `set ${env}=postgres://admin@host/postgres, or start a Docker engine (postgres:17), or install PostgreSQL server binaries (initdb, pg_ctl)`;
    case 'postgres-bare':
      return `set ${env}=postgres://admin@host/postgres, or run scripts/provision-test-servers.sh as root (copies PostgreSQL 15 without timescaledb to ${BARE_BINDIR}; or set HOMEPOT_TS_TEST_BARE_BINDIR), or fix the embedded PGlite (src/embedded.ts)`;
  }
}

/** Human summary for the one-line report. */
export function describeFacts(source: Source, facts: ServerFacts): string {
  const ts = facts.timescaledb;
  let tsPart: string;
  if (!ts.available) tsPart = 'timescaledb not installed';
  else if (!ts.preloaded) tsPart = `timescaledb ${ts.version ?? '?'} installed, not preloaded`;
  else tsPart = `TimescaleDB ${ts.version ?? '?'}, license ${ts.license ?? '?'}`;
  return `${source} (PG ${facts.serverVersion}, ${tsPart})`;
}
