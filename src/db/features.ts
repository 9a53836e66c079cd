import { HomepotError, type ErrorKind } from '../core/errors.js';
import type { Capabilities, Edition } from './capabilities.js';

/**
 * The one gatekeeper: what a server offers, and every user-facing message
 * about a missing extension or edition. Features ask here; nothing else
 * compares editions or words these messages.
 *
 * - 'timescaledb': hypertables, chunks, drop_chunks, chunk intervals (any edition);
 * - 'community': compression, retention/compression/refresh policies,
 *   continuous aggregates, run_job/alter_job (timescaledb.license = timescale).
 */
export type Feature = 'timescaledb' | 'community';

/** What to do to get the Community edition: the one copy of this hint. */
export const COMMUNITY_HINT =
  "Install TimescaleDB's Community build (packages from Timescale, not the distribution's) and set timescaledb.license = 'timescale'.";

const INSTALL_HINT =
  'Install the timescaledb package for this PostgreSQL version, preload it, restart, then run homepot-ts setup.';

const PRELOAD_HINT =
  "Add timescaledb to shared_preload_libraries (ALTER SYSTEM SET shared_preload_libraries = 'timescaledb'), restart PostgreSQL, then run homepot-ts setup.";

/** Why a feature is missing: a reason that reads after a subject ("compression set needs ..."), and the fix. */
export interface FeatureGap {
  kind: ErrorKind;
  /** e.g. "needs the TimescaleDB Community edition (timescaledb.license = timescale); this server runs the Apache-2 edition". */
  reason: string;
  hint: string;
}

/** What each edition offers, in a few words (status's "edition" line); null when unknown. */
export function editionSummary(edition: Edition | null): { text: string; complete: boolean } | null {
  if (edition === 'community') return { text: 'Community (license timescale): all features', complete: true };
  if (edition === 'apache')
    return { text: 'Apache-2 (license apache): no compression, policies or continuous aggregates', complete: false };
  return null;
}

/** The edition as people read it. */
export function editionLabel(edition: Edition | null): string {
  return edition === 'community' ? 'Community edition' : edition === 'apache' ? 'Apache-2 edition' : 'unknown edition';
}

/** Why TimescaleDB itself cannot be used here (not installed, not preloaded, not enabled), or null. */
function timescaledbGap(caps: Capabilities): FeatureGap | null {
  const t = caps.timescaledb;
  if (t.installedVersion) return null;
  if (!t.availableVersion) {
    return {
      kind: 'timescaledb-not-installed',
      reason: 'needs TimescaleDB, which is not installed on this server',
      hint: INSTALL_HINT,
    };
  }
  if (t.preloaded === false) {
    return {
      kind: 'timescaledb-not-preloaded',
      reason: 'needs TimescaleDB; it is installed on the server but not preloaded',
      hint: PRELOAD_HINT,
    };
  }
  return {
    kind: 'timescaledb-not-installed',
    reason: `needs TimescaleDB; it is available but not enabled in database "${caps.server.database}"`,
    hint: 'Run homepot-ts setup (or CREATE EXTENSION timescaledb) in this database.',
  };
}

/** Why `feature` cannot be used on this server, or null when it can. */
export function featureGap(caps: Capabilities, feature: Feature): FeatureGap | null {
  const missing = timescaledbGap(caps);
  if (feature === 'timescaledb') return missing;
  const t = caps.timescaledb;
  if (missing) {
    return {
      ...missing,
      reason: t.availableVersion
        ? `needs the TimescaleDB Community edition; TimescaleDB ${t.availableVersion} is on the server but not enabled in database "${caps.server.database}"`
        : 'needs the TimescaleDB Community edition; TimescaleDB is not installed on this server',
    };
  }
  if (t.edition === 'community') return null;
  return {
    kind: 'timescaledb-edition',
    reason:
      t.edition === 'apache'
        ? 'needs the TimescaleDB Community edition (timescaledb.license = timescale); this server runs the Apache-2 edition'
        : 'needs the TimescaleDB Community edition; timescaledb.license could not be read (is the library loaded?)',
    hint: COMMUNITY_HINT,
  };
}

/** The server offers `feature`. */
export function hasFeature(caps: Capabilities, feature: Feature): boolean {
  return featureGap(caps, feature) === null;
}

/**
 * Refuse, before anything runs, a command that needs `feature`: one line
 * "<what> <reason>" with the fix as its hint (exit 5). `hint` replaces the
 * fix where the command knows a better one (e.g. a cron line instead of a policy).
 */
export function requireFeature(caps: Capabilities, feature: Feature, what: string, hint?: string): void {
  const gap = featureGap(caps, feature);
  if (gap) throw new HomepotError(gap.kind, `${what} ${gap.reason}`, { hint: hint ?? gap.hint });
}

/** status's one-line verdict on the server kind, or null when everything is there. */
export function serverKindWarning(caps: Capabilities): string | null {
  const t = caps.timescaledb;
  if (t.installedVersion) {
    return t.edition === 'apache'
      ? 'TimescaleDB Apache-2 edition (timescaledb.license = apache): hypertables and chunks work; compression, retention/compression policies and continuous aggregates need the Community edition (timescaledb.license = timescale).'
      : null;
  }
  if (!t.availableVersion) {
    return 'TimescaleDB is not installed on this server: HOMEPOT runs on plain PostgreSQL (no hypertables, compression or continuous aggregates). To enable it, install the timescaledb package for this PostgreSQL version, add it to shared_preload_libraries, restart, and run homepot-ts setup.';
  }
  if (t.preloaded === false) {
    return `TimescaleDB ${t.availableVersion} is installed on the server but not preloaded: add timescaledb to shared_preload_libraries (ALTER SYSTEM SET shared_preload_libraries = 'timescaledb'), restart PostgreSQL, then run homepot-ts setup.`;
  }
  if (t.preloaded === null) {
    return `TimescaleDB ${t.availableVersion} is available but not enabled in database "${caps.server.database}", and role "${caps.server.role}" may not read shared_preload_libraries to tell whether it is preloaded: ask a superuser to run CREATE EXTENSION timescaledb (after preloading it, if needed).`;
  }
  return `TimescaleDB ${t.availableVersion} is available but not enabled in database "${caps.server.database}": run homepot-ts setup (or CREATE EXTENSION timescaledb).`;
}

/**
 * What setup-like commands (which create the extension when it is missing)
 * refuse before changing anything: a library that is not preloaded, a role
 * that may not create the extension, and --require naming what is not here.
 */
export function requireExtensionFor(
  caps: Capabilities,
  require: 'timescaledb' | 'community' | null | undefined,
  command: string,
): void {
  const ts = caps.timescaledb;
  if (ts.availableVersion && !ts.installedVersion && ts.preloaded === false) {
    throw new HomepotError(
      'timescaledb-not-preloaded',
      `TimescaleDB ${ts.availableVersion} is installed on the server but not preloaded, so the extension cannot be created`,
      {
        hint: `Set shared_preload_libraries = 'timescaledb' in postgresql.conf (or ALTER SYSTEM SET shared_preload_libraries = 'timescaledb'), restart PostgreSQL, and run ${command} again.`,
      },
    );
  }
  if (ts.availableVersion && !ts.installedVersion && !caps.role.canCreateExtension) {
    throw new HomepotError(
      'permission-denied',
      `role "${caps.server.role}" may not create the timescaledb extension (it needs superuser: timescaledb is not a trusted extension)`,
      {
        hint: `A superuser must run: CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE; in database "${caps.server.database}", then run ${command} again.`,
      },
    );
  }
  if (require && !ts.availableVersion && !ts.installedVersion) {
    throw new HomepotError(
      'timescaledb-not-installed',
      command === 'setup'
        ? `--require ${require}: TimescaleDB is not installed on this server`
        : `TimescaleDB is not installed on this server: ${command} needs it`,
      {
        hint: `Install the timescaledb package for this PostgreSQL version, preload it, restart, and run ${command} again.`,
      },
    );
  }
  if (require === 'community' && ts.edition === 'apache') {
    throw new HomepotError(
      'timescaledb-edition',
      '--require community: this server runs the TimescaleDB Apache-2 edition (timescaledb.license = apache)',
      {
        hint: COMMUNITY_HINT,
      },
    );
  }
}

/** run_job and alter_job fail with 0A000 under the Apache license (measured on 2.19.3): say so before trying. */
export function requireJobControl(caps: Capabilities, what: string, fn: 'run_job' | 'alter_job'): void {
  if (caps.timescaledb.edition === 'community') return;
  throw new HomepotError(
    'timescaledb-edition',
    `${what} needs the TimescaleDB Community edition: ${fn}() is not available under ${caps.timescaledb.edition === 'apache' ? 'the Apache-2 license this server runs' : 'an unknown timescaledb.license'}`,
    { hint: COMMUNITY_HINT },
  );
}

/** timescaledb_information.job_errors exists from TimescaleDB 2.15: say so before reading it. */
export function requireJobErrorHistory(caps: Capabilities, what: string): void {
  requireFeature(caps, 'timescaledb', what);
  if (caps.features.jobErrors) return;
  throw new HomepotError(
    'timescaledb-edition',
    `this TimescaleDB (${caps.timescaledb.installedVersion}) has no job error history`,
    {
      hint: 'timescaledb_information.job_errors needs TimescaleDB 2.15 or later; see the server log for job failures.',
    },
  );
}
