import { describeServerKind, detectCapabilities, type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import {
  applyOptions,
  applySteps,
  refusePlan,
  withChangeLock,
  type ApplyResult,
  type Step,
  type StepResult,
} from '../db/plan.js';
import { preflight } from '../steps/hypertable.js';
import {
  AGGREGATE_NAMES,
  AGGREGATES,
  aggregateKind,
  checkPolicy,
  type AggregateKind,
  type AggregateOptions,
} from './definitions.js';
import { retentionWarnings } from './inspect.js';
import { nothingMaterialized, refreshAggregate, type MaterializeProgress, type MaterializeResult } from './refresh.js';
import { planAggregate, type AggregatePlan } from './create-plan.js';

/**
 * create-aggregates: plan each aggregate against what is there (create it,
 * leave it, or drop and rebuild it with --recreate; its unique index or its
 * real-time setting and refresh policy), apply the plan step by step under
 * the change lock, then materialize the history of what it created. Also
 * the refresh-policy step (compare-and-alter) that `aggregates policy` uses.
 */

export interface CreateAggregatesResult extends ApplyResult {
  server: string;
  kind: AggregateKind;
  materialized: MaterializeResult[];
  warnings: string[];
}

async function requireHealthChecks(sql: Sql, caps: Capabilities, kind: AggregateKind): Promise<void> {
  const hc = caps.role.tables.find((t) => t.name === 'health_checks');
  if (!hc?.exists) {
    throw new HomepotError('unknown-table', 'table health_checks does not exist: the aggregates are built on it', {
      hint: "Point --database-url at HOMEPOT's database (or run HOMEPOT once to create its tables).",
    });
  }
  if (!caps.role.tables.find((t) => t.name === 'devices')?.exists) {
    throw new HomepotError('unknown-table', 'table devices does not exist: site_metrics_hourly joins it', {
      hint: "Point --database-url at HOMEPOT's database.",
    });
  }
  if (kind === 'continuous') {
    const [row] = await sql<{ ok: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'health_checks') AS ok`;
    if (!row?.ok) {
      throw new HomepotError('not-a-hypertable', 'health_checks is not a hypertable: continuous aggregates need one', {
        hint: 'Run homepot-ts setup first, then create-aggregates.',
      });
    }
  }
}

export interface CreateHooks {
  onWait?: () => void;
  onStep?: (s: Step) => void;
  onProgress?: (p: MaterializeProgress) => void;
  signal?: AbortSignal;
}

interface AppliedPlans {
  results: StepResult[];
  failedStep: string | null;
  changed: boolean;
  /** Refresh-policy steps left for after the history is materialized (applyDeferred). */
  deferred: Step[];
  /** Every step id in plan order, to put the results back in it. */
  order: string[];
}

/** Every aggregate's plan, read before anything changes; a blocker found while planning refuses them all. */
async function planAll(
  conn: Sql,
  caps: Capabilities,
  opts: AggregateOptions,
  serverRefusal: HomepotError | null,
): Promise<{ plans: AggregatePlan[]; refusal: { id: string; error: HomepotError } | null }> {
  const plans: AggregatePlan[] = [];
  let refusal: { id: string; error: HomepotError } | null = null;
  for (const def of AGGREGATES) {
    try {
      plans.push(await planAggregate(conn, caps, def, opts));
    } catch (err) {
      if (!(err instanceof HomepotError)) throw err;
      const id = `aggregate:${def.name}`;
      plans.push({ steps: [{ id, title: def.name, state: 'needed', statements: [] }], blocked: new Set() });
      refusal ??= { id, error: err };
    }
  }
  if (serverRefusal && !refusal) {
    const steps = plans.flatMap((p) => p.steps);
    const blamed = steps.find((s) => s.state !== 'in-place') ?? steps[0]!;
    refusal = { id: blamed.id, error: serverRefusal };
  }
  return { plans, refusal };
}

/**
 * Apply each aggregate's planned steps in turn; after a failure (or for a
 * blocked step) the rest are skipped. With `deferPolicies`, refresh-policy
 * steps are left for applyDeferred.
 */
async function applyPlans(
  conn: Sql,
  plans: AggregatePlan[],
  opts: AggregateOptions,
  hooks: CreateHooks,
  deferPolicies: boolean,
): Promise<AppliedPlans> {
  const out: AppliedPlans = { results: [], failedStep: null, changed: false, deferred: [], order: [] };
  for (const plan of plans) {
    for (const step of plan.steps) {
      out.order.push(step.id);
      if (out.failedStep !== null || plan.blocked.has(step.id)) {
        out.results.push({
          id: step.id,
          title: step.title,
          state: step.state,
          outcome: 'skipped',
          statements: step.statements,
          ...(step.current !== undefined ? { current: step.current } : {}),
          ...(step.wanted !== undefined ? { wanted: step.wanted } : {}),
          reason: out.failedStep !== null ? `not run: step ${out.failedStep} failed` : step.reason!,
        });
        continue;
      }
      if (deferPolicies && step.id.startsWith('policy:')) {
        out.deferred.push(step);
        continue;
      }
      const r = await applySteps(conn, [step], applyOptions(opts, hooks));
      out.results.push(...r.steps);
      out.changed ||= r.changed;
      if (r.failedStep) out.failedStep = r.failedStep;
    }
  }
  return out;
}

/**
 * Apply the refresh-policy steps left for after materializing. A policy's job
 * starts as soon as it is added; added before the history was materialized,
 * it refreshed the same aggregate as our windows, and on a server with a job
 * scheduler the first create-aggregates failed about every other time with
 * "could not refresh continuous aggregate ... due to a concurrent refresh"
 * (55P03). Results go back into plan order.
 */
async function applyDeferred(
  conn: Sql,
  applied: AppliedPlans,
  opts: AggregateOptions,
  hooks: CreateHooks,
): Promise<Omit<AppliedPlans, 'deferred' | 'order'>> {
  const r = await applySteps(conn, applied.deferred, applyOptions(opts, hooks));
  const at = (id: string) => applied.order.indexOf(id);
  return {
    results: [...applied.results, ...r.steps].sort((a, b) => at(a.id) - at(b.id)),
    failedStep: applied.failedStep ?? r.failedStep,
    changed: applied.changed || r.changed,
  };
}

/** Materialize the history of each aggregate the plan created or found empty, oldest first. */
async function materializeHistory(
  conn: Sql,
  caps: Capabilities,
  kind: AggregateKind,
  results: StepResult[],
  opts: AggregateOptions,
  hooks: CreateHooks,
): Promise<MaterializeResult[]> {
  const materialized: MaterializeResult[] = [];
  for (const def of AGGREGATES) {
    if (hooks.signal?.aborted) break;
    const step = results.find((s) => s.id === `aggregate:${def.name}`);
    if (step?.outcome === 'skipped' && !opts.dryRun) continue; // left alone (different, no --recreate)
    if (opts.dryRun && step && step.state !== 'in-place') {
      materialized.push(nothingMaterialized(def.name, kind, 'created by this run: materialized after it, in windows'));
      continue;
    }
    materialized.push(
      await refreshAggregate(conn, caps, def.name, {
        continueFromWatermark: true,
        endOffset: opts.policies[def.name].endOffset,
        window: opts.window,
        dryRun: opts.dryRun,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
      }),
    );
  }
  return materialized;
}

/**
 * Make the three aggregates exist as HOMEPOT expects (idempotent), then
 * materialize the history. Under the change lock, so concurrent runs queue;
 * planned after taking it, so a run that waited finds the work done.
 */
export async function runCreateAggregates(
  sql: Sql,
  opts: AggregateOptions,
  hooks: CreateHooks = {},
): Promise<CreateAggregatesResult> {
  for (const name of AGGREGATE_NAMES) checkPolicy(name, opts.policies[name]);
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      const kind = aggregateKind(caps);
      await requireHealthChecks(conn, caps, kind);
      // Planning is read-only: a dry run (or --check) also works on a replica.
      const server = opts.dryRun ? null : refusalOf(() => preflight(caps, { require: null }, 'create-aggregates'));
      const { plans, refusal } = await planAll(conn, caps, opts, server);
      if (refusal) {
        const refused = refusePlan(
          plans.flatMap((p) => p.steps),
          refusal.id,
          refusal.error,
          opts.dryRun,
        );
        return { ...refused, server: describeServerKind(caps), kind, materialized: [], warnings: [] };
      }
      const deferPolicies = kind === 'continuous' && opts.materialize && !opts.dryRun;
      const applied = await applyPlans(conn, plans, opts, hooks, deferPolicies);
      const materialized =
        applied.failedStep === null && opts.materialize
          ? await materializeHistory(conn, caps, kind, applied.results, opts, hooks)
          : [];
      const { results, failedStep, changed } = await applyDeferred(conn, applied, opts, hooks);
      const warnings = [
        ...results.filter((s) => s.warning && s.outcome !== 'unchanged').map((s) => s.warning!),
        ...results
          .filter((s) => s.state === 'different' && s.outcome === 'skipped' && s.reason?.includes('--recreate'))
          .map((s) => `${s.id.replace('aggregate:', '')}: ${s.reason}`),
        ...(kind === 'continuous' ? await retentionWarnings(conn, caps, opts.policies) : []),
      ];
      return {
        dryRun: opts.dryRun,
        changed: changed || materialized.some((m) => m.windowsDone > 0),
        steps: results,
        failedStep,
        server: describeServerKind(caps),
        kind,
        materialized,
        warnings,
      };
    },
    hooks.onWait,
    { planOnly: opts.dryRun },
  );
}

/** The HomepotError a check throws, or null. */
function refusalOf(check: () => void): HomepotError | null {
  try {
    check();
    return null;
  } catch (err) {
    if (err instanceof HomepotError) return err;
    throw err;
  }
}
