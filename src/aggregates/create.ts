import { describeServerKind, detectCapabilities, type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { featureGap } from '../db/features.js';
import { HomepotError } from '../core/errors.js';
import { applyOptions, applySteps, withChangeLock, type ApplyResult, type Step, type StepResult } from '../db/plan.js';
import { preflight } from '../steps/hypertable.js';
import { renderStatement } from '../db/sql.js';
import {
  AGGREGATE_NAMES,
  AGGREGATES,
  KIND_TEXT,
  REFRESH_CRON_LINE,
  aggregateKind,
  checkPolicy,
  definitionPath,
  definitionStatements,
  describePolicy,
  policyText,
  type AggregateDefinition,
  type AggregateKind,
  type AggregateName,
  type AggregateOptions,
  type RefreshPolicy,
} from './definitions.js';
import {
  currentPolicy,
  existingAggregate,
  retentionWarnings,
  sameDefinition,
  type ExistingAggregate,
} from './inspect.js';
import { nothingMaterialized, refreshAggregate, type MaterializeProgress, type MaterializeResult } from './refresh.js';
import { isOurTable, migrateViewStep, tableStatements } from './tables.js';

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

interface AggregatePlan {
  steps: Step[];
  /** Steps we do not apply: a different definition without --recreate. */
  blocked: Set<string>;
}

/** What creates an aggregate of `kind` (an aggregate table's unique index is a step of its own). */
const createStatements = (kind: AggregateKind, name: AggregateName) =>
  kind === 'table' ? tableStatements(name).create : definitionStatements(kind, name).slice(0, 1);

/** Ours already: the same kind and definition (an aggregate table also carries our comment and owner). */
async function isOurs(sql: Sql, kind: AggregateKind, name: AggregateName, ex: ExistingAggregate): Promise<boolean> {
  if (ex.kind !== kind || (kind === 'table' && !isOurTable(ex))) return false;
  return sameDefinition(sql, kind, name, ex.definition);
}

/**
 * The aggregate itself: create it, leave it (ours already), turn an earlier
 * version's materialized view into a table (rows kept), or drop and rebuild
 * it (--recreate). A table homepot-ts did not make is never dropped.
 */
async function planDefinitionStep(
  sql: Sql,
  kind: AggregateKind,
  name: AggregateName,
  existing: ExistingAggregate | null,
  schema: string,
  recreate: boolean,
): Promise<{ step: Step; willCreate: boolean; blocked: boolean }> {
  const create = createStatements(kind, name);
  const base = { id: `aggregate:${name}`, title: `${name} (${KIND_TEXT[kind]})` };
  if (!existing) {
    return {
      step: { ...base, state: 'needed', wanted: KIND_TEXT[kind], statements: create },
      willCreate: true,
      blocked: false,
    };
  }
  if (await isOurs(sql, kind, name, existing)) {
    const current = `${KIND_TEXT[kind]}, definition as ours`;
    return { step: { ...base, state: 'in-place', current, statements: [] }, willCreate: false, blocked: false };
  }
  if (
    kind === 'table' &&
    existing.kind === 'materialized' &&
    (await sameDefinition(sql, 'materialized', name, existing.definition))
  ) {
    // The unique index follows as its own step (the view's goes with it).
    return { step: await migrateViewStep(sql, existing, name, false), willCreate: true, blocked: false };
  }
  const current =
    existing.kind === kind
      ? `${KIND_TEXT[existing.kind]} with a different definition`
      : `a ${KIND_TEXT[existing.kind]} (relkind ${existing.relkind})`;
  if (existing.kind === 'other' || (existing.kind === 'table' && !isOurTable(existing))) {
    throw new HomepotError(
      'unsuitable-table',
      `${schema}.${name} exists and is not an aggregate homepot-ts made (${existing.kind === 'table' ? `a table without homepot-ts's comment, owned by role "${existing.owner}"` : `relkind ${existing.relkind}`})`,
      { hint: `Nothing was changed. Rename or drop it, then run create-aggregates again.` },
    );
  }
  const drop = await renderStatement(sql, 'aggregates/lib/render-drop.sql', [schema, name, existing.kind === 'table']);
  const step: Step = {
    ...base,
    state: 'different',
    current,
    wanted: `${KIND_TEXT[kind]} as in ${definitionPath(kind, name)}`,
    statements: [drop, ...create],
    destructive: true,
    warning: `${name}: --recreate drops the ${KIND_TEXT[existing.kind]} and its materialized rows, and rebuilds them from health_checks (rows already removed by retention do not come back).`,
  };
  if (recreate) return { step, willCreate: true, blocked: false };
  step.reason = `differs from ours (${current}); left alone. Run create-aggregates --recreate to drop and rebuild it (destructive: its materialized rows are recomputed from health_checks).`;
  delete step.warning;
  return { step, willCreate: false, blocked: true };
}

/** An aggregate table: its unique index (dashboards look rows up by key and time), and no refresh policy (cron instead). */
function planViewSteps(
  caps: Capabilities,
  def: AggregateDefinition,
  existing: ExistingAggregate | null,
  willCreate: boolean,
): Step[] {
  const name = def.name;
  const indexTitle = `${name}: unique index (${def.key}, ${def.timeColumn})`;
  const index = tableStatements(name).index;
  const why = featureGap(caps, 'community')?.reason ?? 'needs a continuous aggregate';
  return [
    willCreate || !existing?.hasUniqueIndex
      ? { id: `index:${name}`, title: indexTitle, state: 'needed', statements: index }
      : { id: `index:${name}`, title: indexTitle, state: 'in-place', current: 'unique index present', statements: [] },
    {
      id: `policy:${name}`,
      title: `${name}: refresh policy`,
      state: 'not-available',
      statements: [],
      reason: `aggregate tables have no refresh policy on this server: a refresh policy ${why}. Refresh from cron: ${REFRESH_CRON_LINE}`,
    },
  ];
}

/** A continuous aggregate's real-time setting (materialized_only). */
async function planRealTimeStep(
  sql: Sql,
  name: AggregateName,
  schema: string,
  cont: ExistingAggregate['continuous'],
  realTime: boolean,
): Promise<Step> {
  const base = { id: `real-time:${name}`, title: `${name}: real-time rows (materialized_only = ${!realTime})` };
  const render = async (materializedOnly: boolean) =>
    renderStatement(sql, 'aggregates/lib/render-real-time.sql', [schema, name, materializedOnly]);
  if (!cont) {
    // Our definition file says materialized_only = false; only a different wish needs the ALTER.
    return realTime
      ? { ...base, state: 'in-place', current: 'set by the definition', statements: [] }
      : { ...base, state: 'needed', statements: [await render(true)] };
  }
  const current = `materialized_only = ${cont.materialized_only}`;
  if (cont.materialized_only === !realTime) return { ...base, state: 'in-place', current, statements: [] };
  return {
    ...base,
    state: 'different',
    current,
    wanted: `materialized_only = ${!realTime}`,
    statements: [await render(!realTime)],
  };
}

async function planAggregate(
  sql: Sql,
  caps: Capabilities,
  def: AggregateDefinition,
  opts: AggregateOptions,
): Promise<AggregatePlan> {
  const kind = aggregateKind(caps);
  const name = def.name;
  const existing = await existingAggregate(sql, caps, name);
  const [cur] = await sql<{ s: string }[]>`SELECT current_schema() AS s`;
  const schema = existing?.schema ?? cur?.s ?? 'public';
  const first = await planDefinitionStep(sql, kind, name, existing, schema, opts.recreate);
  const blocked = new Set<string>(first.blocked ? [first.step.id] : []);
  if (kind === 'table') {
    return { steps: [first.step, ...planViewSteps(caps, def, existing, first.willCreate)], blocked };
  }
  const cont = !first.willCreate && existing?.kind === 'continuous' ? existing.continuous : null;
  return {
    steps: [
      first.step,
      await planRealTimeStep(sql, name, schema, cont, opts.realTime),
      await policyStep(sql, schema, name, opts.policies[name], Boolean(cont)),
    ],
    blocked,
  };
}

/** Compare-and-alter, like setup's policies: add when missing, alter_job when it differs. */
export async function policyStep(
  sql: Sql,
  schema: string,
  name: AggregateName,
  p: RefreshPolicy,
  exists: boolean,
): Promise<Step> {
  const base = { id: `policy:${name}`, title: `${name}: refresh policy` };
  const wanted = policyText(p);
  const offsets = [p.startOffset?.text ?? null, p.endOffset.text, p.schedule.text];
  const existing = exists ? await currentPolicy(sql, schema, name, p) : null;
  if (!existing) {
    const add = await renderStatement(sql, 'aggregates/lib/render-add-policy.sql', [schema, name, ...offsets]);
    return { ...base, state: 'needed', wanted, statements: [add] };
  }
  const current = `job ${existing.job_id}, ${describePolicy({ startOffset: existing.start_offset, endOffset: existing.end_offset, schedule: existing.schedule })}`;
  if (existing.matches) return { ...base, state: 'in-place', current, statements: [] };
  const alter = await renderStatement(sql, 'aggregates/lib/render-alter-policy.sql', [
    existing.job_id,
    JSON.stringify(existing.config),
    ...offsets,
  ]);
  return { ...base, state: 'different', current, wanted, statements: [alter] };
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

/** Plan and apply each aggregate's steps in turn; after a failure (or for a blocked step) the rest are skipped. */
async function applyPlans(
  conn: Sql,
  caps: Capabilities,
  opts: AggregateOptions,
  hooks: CreateHooks,
): Promise<{ results: StepResult[]; failedStep: string | null; changed: boolean }> {
  const results: StepResult[] = [];
  let failedStep: string | null = null;
  let changed = false;
  for (const def of AGGREGATES) {
    const plan = await planAggregate(conn, caps, def, opts);
    for (const step of plan.steps) {
      if (failedStep !== null || plan.blocked.has(step.id)) {
        results.push({
          id: step.id,
          title: step.title,
          state: step.state,
          outcome: 'skipped',
          statements: step.statements,
          ...(step.current !== undefined ? { current: step.current } : {}),
          ...(step.wanted !== undefined ? { wanted: step.wanted } : {}),
          reason: failedStep !== null ? `not run: step ${failedStep} failed` : step.reason!,
        });
        continue;
      }
      const r = await applySteps(conn, [step], applyOptions(opts, hooks));
      results.push(...r.steps);
      changed ||= r.changed;
      if (r.failedStep) failedStep = r.failedStep;
    }
  }
  return { results, failedStep, changed };
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
      preflight(caps, { require: null });
      const kind = aggregateKind(caps);
      await requireHealthChecks(conn, caps, kind);
      const { results, failedStep, changed } = await applyPlans(conn, caps, opts, hooks);
      const warnings = [
        ...results.filter((s) => s.warning && s.outcome !== 'unchanged').map((s) => s.warning!),
        ...results
          .filter((s) => s.state === 'different' && s.outcome === 'skipped' && s.reason?.includes('--recreate'))
          .map((s) => `${s.id.replace('aggregate:', '')}: ${s.reason}`),
        ...(kind === 'continuous' ? await retentionWarnings(conn, caps, opts.policies) : []),
      ];
      const materialized =
        failedStep === null && opts.materialize ? await materializeHistory(conn, caps, kind, results, opts, hooks) : [];
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
  );
}
