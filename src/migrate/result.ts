import { describeServerKind, type Capabilities } from '../db/capabilities.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import type { ChangeHooks } from '../db/plan.js';
import type { ResolvedTable } from '../db/names.js';
import type { Verification } from './verify.js';
import { quoteIfNeeded } from '../core/columns.js';

/**
 * What migrate-from-postgres is asked and what it reports, for every strategy
 * (in place, online, --source): the options and their defaults, the hooks, the
 * result and its parts, and the small helpers each strategy uses to fill it
 * (an empty result, the follow-up commands, rounding, the interrupted error).
 */

export type Strategy = 'in-place' | 'online';

export interface MigrateOptions {
  table: string;
  timeColumn: string;
  chunkInterval: Interval;
  /** 'auto': in-place up to onlineAbove bytes (and for empty tables), online above. */
  strategy: Strategy | 'auto';
  onlineAbove: number;
  /** Rows per copy batch (online), converted to a block range. */
  batchRows: number;
  lockTimeout: Interval;
  dryRun: boolean;
  /** Drop the old table once the migration is verified (online). */
  dropOld: boolean;
  /** Connections copying (and verifying) at once, online; 1 on the embedded database. */
  jobs: number;
}

export const MIGRATE_DEFAULTS = {
  /** 100 MB: about 2 s of blocked writes for an in-place conversion at the rate measured here (47 MB/s, bench/README.md). */
  onlineAbove: 100 * 1024 * 1024,
  batchRows: 50_000,
  /** Two connections copy and verify at once: the copy is CPU-bound on the server, and 2 cores is the smallest machine we plan for. */
  jobs: 2,
  /** Verification windows (same database): one hour of rows each. */
  windowSeconds: 3600,
  /** How many times the final step retries when the table stays busy past --lock-timeout. */
  finalAttempts: 3,
};

/**
 * Rates measured on this project's benchmark machine (bench/README.md), for
 * the --dry-run estimate only.
 */
export const RATE = { inPlaceRowsPerSecond: 129_000, onlineRowsPerSecond: 270_000 };

export interface LockHeld {
  what: string;
  mode: 'SHARE ROW EXCLUSIVE' | 'ACCESS EXCLUSIVE';
  ms: number;
}

export interface MigrateProgress {
  phase: 'copy' | 'replay';
  done: number;
  total: number;
  elapsedMs: number;
}

export interface MigrateHooks extends ChangeHooks {
  onProgress?: (p: MigrateProgress) => void;
  /** A new phase starts (for a spinner / log line). */
  onPhase?: (text: string) => void;
}

export interface PlannedStep {
  id: string;
  title: string;
  statements: string[];
}

/** What matching one referenced table (--source) did in this run. */
export interface ReferencedSync {
  table: string;
  naturalKey: string[];
  rows: number;
  inserted: number;
  updated: number;
  /** Rows changed here (and not on the source since the last copy): kept. */
  keptHere: number;
  /** Rows copied earlier that the source no longer has: kept here. */
  goneFromSource: number;
  /** The source's key values differ from this server's for some rows: references are translated. */
  translated: boolean;
}

/** What the window reconciliation of a --source run did in this run. */
export interface CatchUp {
  windows: number;
  /** The source's rows in those windows, re-read from the source and compared by key. */
  rows: number;
  inserted: number;
  updated: number;
  deleted: number;
  /** The integer key column by which copied rows are known, or null: then nothing is ever deleted here. */
  keyColumn: string | null;
}

export interface MigrateResult {
  command: 'migrate-from-postgres';
  table: string;
  strategy: Strategy | 'remote';
  /** Why this strategy (auto choice, flag, or a migration in progress). */
  strategyReason: string;
  dryRun: boolean;
  changed: boolean;
  /** migrated | already-hypertable | already-migrated | planned | copied (remote, more to catch up) */
  outcome: 'migrated' | 'already-hypertable' | 'already-migrated' | 'planned' | 'copied';
  resumed: boolean;
  server: string;
  edition: Capabilities['timescaledb']['edition'];
  estimate: { rows: number; bytes: number; seconds: number; lock: string };
  plan: PlannedStep[];
  copied: { rows: number; batches: number; seconds: number; rowsPerSecond: number };
  /** Same-server online migrations: the captured writes replayed (absent for --source, which captures nothing). */
  replayed?: number;
  locks: LockHeld[];
  verification: Verification | null;
  oldTable: string | null;
  droppedOld: boolean;
  /** --drop-old refused (the swap is done): the objects bound to the old table by OID that keep it. */
  keptBy: string[];
  /** Seconds spent per phase (online: prepare, copy, foreignKeys, analyze, replay, verify, finalStep). */
  timings: Record<string, number>;
  /** --source: what reconciling the windows that differed did in this run (rows inserted, updated, deleted here). */
  caughtUp?: CatchUp;
  /** --source: how each referenced table (sites, devices) was matched by its natural key in this run. */
  referenced?: ReferencedSync[];
  /** --setup: each setup and create-aggregates step's outcome, once the table is a hypertable. */
  setup?: { steps: { id: string; outcome: string }[]; aggregates: { id: string; outcome: string }[] };
  warnings: string[];
  nextSteps: string[];
}

/** A result with nothing done yet, on the server `caps` describes. */
export function emptyResult(table: string, caps: Capabilities): MigrateResult {
  return {
    command: 'migrate-from-postgres',
    table,
    strategy: 'online',
    strategyReason: '',
    dryRun: false,
    changed: false,
    outcome: 'migrated',
    resumed: false,
    server: describeServerKind(caps),
    edition: caps.timescaledb.edition,
    estimate: { rows: 0, bytes: 0, seconds: 0, lock: '' },
    plan: [],
    copied: { rows: 0, batches: 0, seconds: 0, rowsPerSecond: 0 },
    replayed: 0,
    locks: [],
    verification: null,
    oldTable: null,
    droppedOld: false,
    keptBy: [],
    timings: {},
    warnings: [],
    nextSteps: [],
  };
}

/**
 * The commands to run after a migration (printed, and run with --setup):
 * --table as one shell word that --table reads back as the same table
 * (`app.health_checks`, `'"HealthChecks"'`), left out for public.health_checks.
 */
export function followUp(table: { schema: string; name: string }): string[] {
  const qualified =
    table.schema === 'public'
      ? quoteIfNeeded(table.name)
      : `${quoteIfNeeded(table.schema)}.${quoteIfNeeded(table.name)}`;
  const t = qualified === 'health_checks' ? '' : ` --table ${shellWord(qualified)}`;
  return [`homepot-ts setup${t}`, 'homepot-ts create-aggregates', 'homepot-ts status'];
}

/** `text` as one POSIX shell word: as is when plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_.,:@%+=/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function secondsSince(t0: number): number {
  return round1((performance.now() - t0) / 1000);
}

/** The copy figures of a run: rows, batches and the rate over `seconds`. */
export function copiedFigures(rows: number, batches: number, seconds: number): MigrateResult['copied'] {
  return { rows, batches, seconds: round1(seconds), rowsPerSecond: Math.round(rows / Math.max(seconds, 0.001)) };
}

/**
 * The run stopped between batches (SIGINT / SIGTERM): an online migration
 * still captures writes and continues on the next run; a --source copy
 * continues from the last batch it committed.
 */
export function interrupted(table: ResolvedTable, kind: 'online' | 'remote'): HomepotError {
  if (kind === 'remote') {
    return new HomepotError('interrupted', `interrupted: the copy of ${table.display} stopped between batches`, {
      hint: 'Run the same command again to continue where it stopped.',
    });
  }
  return new HomepotError('interrupted', `interrupted: the migration of ${table.display} stopped between batches`, {
    hint: `Writes are still captured; run migrate-from-postgres again to continue where it stopped (or migrate-from-postgres abort to undo it).`,
  });
}
