import { featureGap, hasFeature, requireExtensionFor } from './db/features.js';
import { quoteIfNeeded } from './core/columns.js';
import { HomepotError } from './core/errors.js';
import { describeServerKind, detectCapabilities, hasColumnstoreApi, type Capabilities } from './db/capabilities.js';
import type { OrderItem } from './core/columns.js';
import type { Sql } from './db/connection.js';
import type { Interval } from './core/intervals.js';
import { preflight } from './steps/hypertable.js';
import { resolveTable } from './db/names.js';
import {
  applyOptions,
  applySteps,
  refusePlan,
  withChangeLock,
  type ApplyResult,
  type ChangeHooks,
  type Step,
} from './db/plan.js';
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

/**
 * Plan one group of steps; a blocker homepot-ts finds (a HomepotError: unknown
 * column, a key without the time column, ...) becomes a placeholder step that
 * carries it, so the plan is still shown and nothing is applied.
 */
async function planGroup<T>(
  refused: Refusals,
  placeholder: { id: string; title: string },
  plan: () => Promise<T>,
): Promise<T | null> {
  try {
    return await plan();
  } catch (err) {
    if (!(err instanceof HomepotError)) throw err;
    refused.steps.push({ ...placeholder, state: 'needed', statements: [] });
    refused.first ??= { id: placeholder.id, error: err };
    return null;
  }
}

interface Refusals {
  /** Placeholder steps for the groups that could not be planned. */
  steps: Step[];
  first: { id: string; error: HomepotError } | null;
}

/** Plan everything after the extension; blockers are collected in `refused`, not thrown. */
async function tableSteps(
  sql: Sql,
  caps: Capabilities,
  opts: SetupOptions,
  extensionWillExist: boolean,
  refused: Refusals,
): Promise<{ steps: Step[]; warnings: string[] }> {
  const htTitle = `${opts.table} as a hypertable on ${quoteIfNeeded(opts.timeColumn)}`;
  const table = await planGroup(refused, { id: 'hypertable', title: htTitle }, () => resolveTable(sql, opts.table));
  if (!table) return { steps: refused.steps, warnings: [] };
  const installed = Boolean(caps.timescaledb.installedVersion);
  const hasTimescale = installed || extensionWillExist;
  const hypertable = await planGroup(refused, { id: 'hypertable', title: htTitle }, () =>
    hypertableStep(sql, table, opts, { installed, hasTimescale }),
  );
  const after = afterExtension(caps, extensionWillExist);
  const plan = {
    table,
    isHypertable: hypertable?.isHypertable ?? false,
    community: hasFeature(after, 'community'),
    columnstore: hasColumnstoreApi(after.timescaledb.installedVersion),
    notCommunity: (hasTimescale ? featureGap(after, 'community') : featureGap(caps, 'timescaledb'))?.reason ?? '',
  };
  // In the plan's order: the steps read the database as they are planned.
  const indexes = await planGroup(refused, { id: 'indexes', title: 'indexes' }, () => indexSteps(sql, table, opts));
  const compression = await planGroup(refused, { id: 'compression', title: 'compression settings' }, () =>
    compressionSteps(sql, opts, plan),
  );
  const retention = await planGroup(refused, { id: 'retention-policy', title: 'retention policy' }, () =>
    retentionSteps(sql, opts, plan),
  );
  const at = (id: string) => refused.steps.filter((s) => s.id === id);
  return {
    steps: [
      ...(hypertable ? [hypertable.step] : at('hypertable')),
      ...(indexes ?? at('indexes')),
      ...(compression ?? at('compression')),
      ...(retention?.steps ?? at('retention-policy')),
    ],
    warnings: [...(hypertable?.warnings ?? []), ...(retention?.warnings ?? [])],
  };
}

/** A server-level refusal (read-only, --require, not preloaded): blamed on the first step not in place. */
function preflightRefusal(caps: Capabilities, opts: SetupOptions): HomepotError | null {
  try {
    if (opts.dryRun) {
      // Planning is read-only: a dry run (or --check) also works on a replica.
      requireExtensionFor(caps, opts.require, 'setup');
    } else preflight(caps, opts);
    return null;
  } catch (err) {
    if (err instanceof HomepotError) return err;
    throw err;
  }
}

/** The whole plan, read before anything changes; a refusal means nothing may be applied. */
async function planSetup(
  conn: Sql,
  caps: Capabilities,
  opts: SetupOptions,
): Promise<{ ext: Step; steps: Step[]; warnings: string[]; refusal: { id: string; error: HomepotError } | null }> {
  const server = preflightRefusal(caps, opts);
  const ext = await extensionStep(conn, caps);
  const refused: Refusals = { steps: [], first: null };
  let planned: { steps: Step[]; warnings: string[] };
  try {
    planned = await tableSteps(conn, caps, opts, ext.state === 'needed', refused);
  } catch (err) {
    // The server's refusal comes first (a role that may not create the extension may
    // not read the table either): the plan then ends where reading it failed.
    if (!server) throw err;
    planned = { steps: refused.steps, warnings: [] };
  }
  const { steps, warnings } = planned;
  if (server) {
    const blamed = [ext, ...steps].find((s) => s.state !== 'in-place') ?? ext;
    return { ext, steps, warnings, refusal: { id: blamed.id, error: server } };
  }
  return { ext, steps, warnings, refusal: refused.first };
}

/**
 * Make the database match the HOMEPOT design, or (dryRun) say what that
 * would take. Takes the change lock so concurrent runs queue; plans after
 * taking it, so a run that waited sees the work already done. Everything is
 * planned (and every blocker found) before the first change, the extension
 * included; a dry run takes no lock and also works on a replica.
 */
export async function runSetup(sql: Sql, opts: SetupOptions, hooks: ChangeHooks = {}): Promise<SetupResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      let caps = await detectCapabilities(conn);
      const planned = await planSetup(conn, caps, opts);
      const result = (r: ApplyResult, warnings: string[]): SetupResult => ({
        ...r,
        server: describeServerKind(caps),
        edition: caps.timescaledb.edition,
        warnings: [
          ...warnings,
          ...r.steps.filter((s) => s.warning && s.outcome !== 'unchanged').map((s) => s.warning!),
        ],
      });
      if (planned.refusal) {
        const all = [planned.ext, ...planned.steps];
        return result(refusePlan(all, planned.refusal.id, planned.refusal.error, opts.dryRun), planned.warnings);
      }
      const apply = (steps: Step[]) => applySteps(conn, steps, applyOptions(opts, hooks));
      const first = await apply([planned.ext]);
      if (first.failedStep) return result(first, []);
      let { steps, warnings } = planned;
      if (first.changed) {
        // Planned again with the extension there: its edition is known now.
        caps = await detectCapabilities(conn);
        preflight(caps, opts);
        const again: Refusals = { steps: [], first: null };
        ({ steps, warnings } = await tableSteps(conn, caps, opts, false, again));
        if (again.first) {
          const refused = refusePlan(steps, again.first.id, again.first.error, opts.dryRun);
          return result({ ...refused, changed: true, steps: [...first.steps, ...refused.steps] }, warnings);
        }
      }
      const rest = await apply(steps);
      return result(
        {
          dryRun: opts.dryRun,
          changed: first.changed || rest.changed,
          steps: [...first.steps, ...rest.steps],
          failedStep: rest.failedStep,
        },
        warnings,
      );
    },
    hooks.onWait,
    { planOnly: opts.dryRun },
  );
}
