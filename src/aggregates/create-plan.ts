import { type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { featureGap } from '../db/features.js';
import { HomepotError } from '../core/errors.js';
import { type Step } from '../db/plan.js';
import { renderStatement } from '../db/sql.js';
import {
  KIND_TEXT,
  kindWithArticle,
  REFRESH_CRON_LINE,
  aggregateKind,
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
import { currentPolicy, existingAggregate, sameDefinition, type ExistingAggregate } from './inspect.js';
import { isOurTable, migrateViewStep, tableStatements } from './tables.js';

/**
 * create-aggregates' plan for one aggregate: its definition (create, leave,
 * convert an earlier version's view, or rebuild with --recreate), its unique
 * index or real-time setting, and its refresh policy (compare-and-alter, also
 * what `aggregates policy` uses).
 */

export interface AggregatePlan {
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
      : `${kindWithArticle(existing.kind)} (relkind ${existing.relkind})`;
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

export async function planAggregate(
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
