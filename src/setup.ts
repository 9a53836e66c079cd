import { featureGap, hasFeature } from './db/features.js';
import { describeServerKind, detectCapabilities, hasColumnstoreApi, type Capabilities } from './db/capabilities.js';
import type { OrderItem } from './core/columns.js';
import type { Sql } from './db/connection.js';
import type { Interval } from './core/intervals.js';
import { preflight } from './steps/hypertable.js';
import { resolveTable } from './db/names.js';
import { applyOptions, applySteps, withChangeLock, type ApplyResult, type ChangeHooks, type Step } from './db/plan.js';
import { extensionStep, hypertableStep } from './setup/plan-hypertable.js';
import { indexSteps } from './setup/plan-indexes.js';
import { compressionSteps, retentionSteps } from './setup/plan-policies.js';

/**
 * `setup`: make the database look like the HOMEPOT design (README, "setup"),
 * or say what that would take. This module owns the options, the order of
 * the plan and running it; the steps are planned in src/setup/ (extension
 * and hypertable, indexes, compression and retention policies) from the
 * building blocks in src/steps/.
 */

/** What `setup` makes the database look like (README, "setup"). */
export interface SetupOptions {
  table: string;
  timeColumn: string;
  chunkInterval: Interval;
  /** false: leave compression alone (--no-compression). */
  compression: boolean;
  compressAfter: Interval;
  segmentBy: string[];
  orderBy: OrderItem[];
  /** null: no retention policy (--no-retention). */
  retention: Interval | null;
  /** Turn a missing feature into a failure: 'timescaledb' = any edition, 'community' = everything. */
  require: 'timescaledb' | 'community' | null;
  lockTimeout: Interval;
  dryRun: boolean;
}

export interface SetupResult extends ApplyResult {
  server: string;
  edition: Capabilities['timescaledb']['edition'];
  warnings: string[];
}

/**
 * The server as it will be once the extension step ran: before CREATE
 * EXTENSION the license may be unknown (embedded database), so plan for
 * Community then (the plan says so when it is not).
 */
function afterExtension(caps: Capabilities, extensionWillExist: boolean): Capabilities {
  const ts = caps.timescaledb;
  const installedVersion = ts.installedVersion ?? (extensionWillExist ? ts.availableVersion : null);
  if (!installedVersion) return caps;
  return { ...caps, timescaledb: { ...ts, installedVersion, edition: ts.edition ?? 'community' } };
}

/** Plan everything after the extension. */
async function tableSteps(
  sql: Sql,
  caps: Capabilities,
  opts: SetupOptions,
  extensionWillExist: boolean,
): Promise<{ steps: Step[]; warnings: string[] }> {
  const table = await resolveTable(sql, opts.table);
  const installed = Boolean(caps.timescaledb.installedVersion);
  const hasTimescale = installed || extensionWillExist;
  const hypertable = await hypertableStep(sql, table, opts, { installed, hasTimescale });
  const after = afterExtension(caps, extensionWillExist);
  const plan = {
    table,
    isHypertable: hypertable.isHypertable,
    community: hasFeature(after, 'community'),
    columnstore: hasColumnstoreApi(after.timescaledb.installedVersion),
    notCommunity: (hasTimescale ? featureGap(after, 'community') : featureGap(caps, 'timescaledb'))?.reason ?? '',
  };
  // In the plan's order: the steps read the database as they are planned.
  const indexes = await indexSteps(sql, table, opts);
  const compression = await compressionSteps(sql, opts, plan);
  const retention = await retentionSteps(sql, opts, plan);
  return {
    steps: [hypertable.step, ...indexes, ...compression, ...retention.steps],
    warnings: [...hypertable.warnings, ...retention.warnings],
  };
}

/**
 * Make the database match the HOMEPOT design, or (dryRun) say what that
 * would take. Takes the change lock so concurrent runs queue; plans after
 * taking it, so a run that waited sees the work already done.
 */
export async function runSetup(sql: Sql, opts: SetupOptions, hooks: ChangeHooks = {}): Promise<SetupResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      let caps = await detectCapabilities(conn);
      preflight(caps, opts);
      const ext = await extensionStep(conn, caps);
      const apply = (steps: Step[]) => applySteps(conn, steps, applyOptions(opts, hooks));
      const first = await apply([ext]);
      if (first.failedStep) return { ...first, server: '', edition: caps.timescaledb.edition, warnings: [] };
      if (first.changed) {
        caps = await detectCapabilities(conn);
        preflight(caps, opts);
      }
      const { steps, warnings } = await tableSteps(conn, caps, opts, ext.state === 'needed');
      const rest = await apply(steps);
      const all = [...first.steps, ...rest.steps];
      return {
        dryRun: opts.dryRun,
        changed: first.changed || rest.changed,
        steps: all,
        failedStep: rest.failedStep,
        server: describeServerKind(caps),
        edition: caps.timescaledb.edition,
        warnings: [...warnings, ...all.filter((s) => s.warning && s.outcome !== 'unchanged').map((s) => s.warning!)],
      };
    },
    hooks.onWait,
  );
}
