import { describeServerKind, detectCapabilities, type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { parseInterval, type Interval } from '../core/intervals.js';
import { num } from '../core/numbers.js';
import { epochMs } from '../core/times.js';
import { applyOptions, applySteps, withChangeLock, type ApplyResult, type Step, type StepResult } from '../db/plan.js';
import { preflight } from '../steps/hypertable.js';
import { sqlFile, executeRendered, renderStatement } from '../db/sql.js';

/**
 * HOMEPOT's three aggregates (seed, "Continuous Aggregates"). On the
 * TimescaleDB Community edition they are continuous aggregates with refresh
 * policies; elsewhere (Apache edition, plain PostgreSQL) ordinary
 * materialized views with the same names and columns, refreshed by
 * `homepot-ts aggregates refresh` (cron).
 */
export const AGGREGATE_NAMES = ['device_metrics_hourly', 'device_metrics_daily', 'site_metrics_hourly'] as const;
export type AggregateName = (typeof AGGREGATE_NAMES)[number];

export interface AggregateDefinition {
  name: AggregateName;
  /** Bucket width, and the bucket column's name. */
  bucket: Interval;
  timeColumn: 'hour' | 'day';
  /** The group key besides time. */
  key: 'device_id' | 'site_id';
}

export const AGGREGATES: readonly AggregateDefinition[] = [
  { name: 'device_metrics_hourly', bucket: parseInterval('1 hour'), timeColumn: 'hour', key: 'device_id' },
  { name: 'device_metrics_daily', bucket: parseInterval('1 day'), timeColumn: 'day', key: 'device_id' },
  { name: 'site_metrics_hourly', bucket: parseInterval('1 hour'), timeColumn: 'hour', key: 'site_id' },
];

export function aggregateDefinition(name: string): AggregateDefinition {
  const def = AGGREGATES.find((a) => a.name === name);
  if (!def) {
    throw new HomepotError('usage', `"${name}" is not one of HOMEPOT's aggregates`, {
      hint: `Use one of: ${AGGREGATE_NAMES.join(', ')}.`,
    });
  }
  return def;
}

/** A refresh policy (continuous aggregates): what the seed's "Performance Tuning" example sets. */
export interface RefreshPolicy {
  /** null: refresh from the beginning of the data. */
  startOffset: Interval | null;
  endOffset: Interval;
  schedule: Interval;
}

/**
 * Defaults: the hourly views refresh every hour, the daily one every 6 hours
 * (issue 4). The start offsets reach back far enough to pick up late health
 * checks (a device that buffered while offline) without re-reading old
 * history: a refresh only recomputes buckets that changed.
 */
export const POLICY_DEFAULTS: Record<AggregateName, { startOffset: string; endOffset: string; schedule: string }> = {
  device_metrics_hourly: { startOffset: '3 days', endOffset: '1 hour', schedule: '1 hour' },
  device_metrics_daily: { startOffset: '7 days', endOffset: '1 hour', schedule: '6 hours' },
  site_metrics_hourly: { startOffset: '3 days', endOffset: '1 hour', schedule: '1 hour' },
};

export type AggregateKind = 'continuous' | 'materialized';

export interface AggregateOptions {
  policies: Record<AggregateName, RefreshPolicy>;
  /** Continuous aggregates answer with real-time rows (materialized_only = false). */
  realTime: boolean;
  /** Drop and rebuild aggregates whose definition differs from ours. */
  recreate: boolean;
  /** Materialize history in windows of this length, oldest first. */
  window: Interval;
  /** false: create only (WITH NO DATA); the policy or `aggregates refresh` fills them later. */
  materialize: boolean;
  lockTimeout: Interval;
  dryRun: boolean;
}

/** Refuse a policy TimescaleDB would refuse, before anything runs. */
export function checkPolicy(name: AggregateName, p: RefreshPolicy): void {
  const bucket = aggregateDefinition(name).bucket;
  if (p.startOffset && p.startOffset.seconds < p.endOffset.seconds + 2 * bucket.seconds) {
    throw new HomepotError(
      'usage',
      `${name}: the refresh window (start offset ${p.startOffset.text}, end offset ${p.endOffset.text}) must cover at least two ${bucket.text} buckets`,
      {
        hint: `Make the start offset at least the end offset plus ${(2 * bucket.seconds) / 3600} hours.`,
      },
    );
  }
}

// ---------------------------------------------------------------------------
// Definitions (sql/aggregates/<kind>/<name>.sql)
// ---------------------------------------------------------------------------

function definitionFile(kind: AggregateKind, name: AggregateName): string {
  return sqlFile(`aggregates/${kind}/${name}.sql`);
}

/** The statements of one of our definition files, without their comments. */
export function definitionStatements(kind: AggregateKind, name: AggregateName): string[] {
  return definitionFile(kind, name)
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The SELECT of a definition: what we compare with the stored definition. */
function definitionQuery(kind: AggregateKind, name: AggregateName): string {
  const m = definitionFile(kind, name).match(/^SELECT[\s\S]*?(?=^WITH NO DATA)/m);
  if (!m) throw new HomepotError('internal', `sql/aggregates/${kind}/${name}.sql has no SELECT ... WITH NO DATA`);
  return m[0];
}

/**
 * Our definition as the server prints it (pg_get_viewdef): a temporary view of
 * the same query, in a transaction that is rolled back. Comparing two
 * server-printed texts ignores spacing, comments and casts written differently.
 */
async function canonicalDefinition(conn: Sql, kind: AggregateKind, name: AggregateName): Promise<string> {
  await conn`BEGIN`;
  try {
    await executeRendered(conn, `CREATE TEMP VIEW homepot_ts_definition_probe AS ${definitionQuery(kind, name)}`);
    const [row] = await conn<
      { d: string }[]
    >`SELECT pg_get_viewdef('pg_temp.homepot_ts_definition_probe'::regclass) AS d`;
    return row!.d;
  } finally {
    await conn`ROLLBACK`;
  }
}

const normalize = (d: string | null | undefined) => (d ?? '').replace(/\s+/g, ' ').trim();

// ---------------------------------------------------------------------------
// What is there now
// ---------------------------------------------------------------------------

interface RelationRow {
  schema: string;
  name: string;
  relkind: string;
  populated: boolean;
  current_schema: string | null;
  definition: string | null;
  has_unique_index: boolean | null;
}

interface ContinuousRow {
  mat_hypertable_id: number;
  materialized_only: boolean;
  definition: string;
  mat_schema: string;
  mat_table: string;
  /** Materialized up to here; null when nothing is. */
  watermark: Date | null;
}

interface PolicyRow {
  job_id: number;
  config: Record<string, unknown>;
  schedule: string;
  start_offset: string | null;
  end_offset: string | null;
  matches: boolean;
  last_success: Date | null;
  last_run_status: string | null;
}

export interface ExistingAggregate {
  schema: string;
  kind: AggregateKind | 'other';
  relkind: string;
  populated: boolean;
  definition: string | null;
  hasUniqueIndex: boolean;
  continuous: ContinuousRow | null;
}

async function existingAggregate(sql: Sql, caps: Capabilities, name: AggregateName): Promise<ExistingAggregate | null> {
  const [rel] = (await sql.unsafe(sqlFile('aggregates/lib/relation.sql'), [name])) as unknown as RelationRow[];
  if (!rel) return null;
  let continuous: ContinuousRow | null = null;
  if (caps.timescaledb.installedVersion && rel.relkind === 'v') {
    const [row] = (await sql.unsafe(sqlFile('aggregates/lib/continuous-info.sql'), [
      rel.schema,
      rel.name,
    ])) as unknown as (Omit<ContinuousRow, 'watermark'> & { watermark_ms: unknown })[];
    continuous = row ? { ...row, watermark: epochMs(row.watermark_ms) } : null;
  }
  return {
    schema: rel.schema,
    kind: continuous ? 'continuous' : rel.relkind === 'm' ? 'materialized' : 'other',
    relkind: rel.relkind,
    populated: rel.populated,
    definition: continuous ? continuous.definition : rel.definition,
    hasUniqueIndex: Boolean(rel.has_unique_index),
    continuous,
  };
}

async function currentPolicy(
  sql: Sql,
  schema: string,
  name: AggregateName,
  p: RefreshPolicy,
): Promise<PolicyRow | null> {
  const [row] = (await sql.unsafe(sqlFile('aggregates/lib/policy.sql'), [
    schema,
    name,
    p.schedule.text,
    p.startOffset?.text ?? null,
    p.endOffset.text,
  ])) as unknown as PolicyRow[];
  return row ?? null;
}

export function describePolicy(p: { startOffset: string | null; endOffset: string | null; schedule: string }): string {
  return `every ${p.schedule}, window ${p.startOffset ?? 'all history'} → ${p.endOffset ?? 'now'} ago`;
}

const policyText = (p: RefreshPolicy) =>
  describePolicy({ startOffset: p.startOffset?.text ?? null, endOffset: p.endOffset.text, schedule: p.schedule.text });

const KIND_TEXT: Record<AggregateKind | 'other', string> = {
  continuous: 'continuous aggregate',
  materialized: 'materialized view',
  other: 'something else',
};

/** Which kind this server gets. */
export function aggregateKind(caps: Capabilities): AggregateKind {
  return caps.features.continuousAggregates ? 'continuous' : 'materialized';
}

// ---------------------------------------------------------------------------
// Planning create-aggregates
// ---------------------------------------------------------------------------

interface AggregatePlan {
  def: AggregateDefinition;
  kind: AggregateKind;
  schema: string;
  steps: Step[];
  /** Steps we do not apply: a different definition without --recreate. */
  blocked: Set<string>;
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
  const steps: Step[] = [];
  const blocked = new Set<string>();
  const create = definitionStatements(kind, name);
  const title = `${name} (${KIND_TEXT[kind]})`;
  let willCreate = false;

  if (!existing) {
    steps.push({
      id: `aggregate:${name}`,
      title,
      state: 'needed',
      wanted: KIND_TEXT[kind],
      statements: create.slice(0, 1),
    });
    willCreate = true;
  } else {
    const wanted = normalize(await canonicalDefinition(sql, kind, name));
    const sameKind = existing.kind === kind;
    const same = sameKind && normalize(existing.definition) === wanted;
    if (same) {
      steps.push({
        id: `aggregate:${name}`,
        title,
        state: 'in-place',
        current: `${KIND_TEXT[kind]}, definition as ours`,
        statements: [],
      });
    } else {
      const current = sameKind
        ? `${KIND_TEXT[existing.kind]} with a different definition`
        : `a ${KIND_TEXT[existing.kind]} (relkind ${existing.relkind})`;
      if (existing.kind === 'other') {
        throw new HomepotError(
          'unsuitable-table',
          `${schema}.${name} exists and is not a materialized view or continuous aggregate (relkind ${existing.relkind})`,
          {
            hint: `Rename or drop it, then run create-aggregates again.`,
          },
        );
      }
      const drop = await renderStatement(sql, 'aggregates/lib/render-drop.sql', [schema, name]);
      const step: Step = {
        id: `aggregate:${name}`,
        title,
        state: 'different',
        current,
        wanted: `${KIND_TEXT[kind]} as in sql/aggregates/${kind}/${name}.sql`,
        statements: [drop, ...create.slice(0, 1)],
        destructive: true,
        warning: `${name}: --recreate drops the ${KIND_TEXT[existing.kind]} and its materialized rows, and rebuilds them from health_checks (rows already removed by retention do not come back).`,
      };
      if (!opts.recreate) {
        blocked.add(step.id);
        step.reason = `differs from ours (${current}); left alone. Run create-aggregates --recreate to drop and rebuild it (destructive: its materialized rows are recomputed from health_checks).`;
        delete step.warning;
      } else {
        willCreate = true;
      }
      steps.push(step);
    }
  }

  if (kind === 'materialized') {
    const indexTitle = `${name}: unique index (${def.key}, ${def.timeColumn}) for REFRESH ... CONCURRENTLY`;
    const index = create.slice(1);
    if (willCreate || !existing?.hasUniqueIndex) {
      steps.push({ id: `index:${name}`, title: indexTitle, state: 'needed', statements: index });
    } else {
      steps.push({
        id: `index:${name}`,
        title: indexTitle,
        state: 'in-place',
        current: 'unique index present',
        statements: [],
      });
    }
    steps.push({
      id: `policy:${name}`,
      title: `${name}: refresh policy`,
      state: 'not-available',
      statements: [],
      reason: `materialized views have no refresh policy on this server (${caps.timescaledb.installedVersion ? 'Apache edition' : 'no TimescaleDB'}); refresh from cron: */15 * * * * homepot-ts aggregates refresh --quiet`,
    });
    return { def, kind, schema, steps, blocked };
  }

  // Continuous: real-time setting and refresh policy.
  const realTimeTitle = `${name}: real-time rows (materialized_only = ${!opts.realTime})`;
  const cont = existing?.kind === 'continuous' ? existing.continuous : null;
  if (willCreate || !cont) {
    // Our definition file says materialized_only = false; only a different wish needs the ALTER.
    steps.push(
      opts.realTime
        ? {
            id: `real-time:${name}`,
            title: realTimeTitle,
            state: 'in-place',
            current: 'set by the definition',
            statements: [],
          }
        : {
            id: `real-time:${name}`,
            title: realTimeTitle,
            state: 'needed',
            statements: [await renderStatement(sql, 'aggregates/lib/render-real-time.sql', [schema, name, true])],
          },
    );
  } else if (cont.materialized_only === !opts.realTime) {
    steps.push({
      id: `real-time:${name}`,
      title: realTimeTitle,
      state: 'in-place',
      current: `materialized_only = ${cont.materialized_only}`,
      statements: [],
    });
  } else {
    steps.push({
      id: `real-time:${name}`,
      title: realTimeTitle,
      state: 'different',
      current: `materialized_only = ${cont.materialized_only}`,
      wanted: `materialized_only = ${!opts.realTime}`,
      statements: [await renderStatement(sql, 'aggregates/lib/render-real-time.sql', [schema, name, !opts.realTime])],
    });
  }
  steps.push(await policyStep(sql, schema, name, opts.policies[name], !willCreate && Boolean(cont)));
  return { def, kind, schema, steps, blocked };
}

/** Compare-and-alter, like setup's policies: add when missing, alter_job when it differs. */
export async function policyStep(
  sql: Sql,
  schema: string,
  name: AggregateName,
  p: RefreshPolicy,
  exists: boolean,
): Promise<Step> {
  const title = `${name}: refresh policy`;
  const wanted = policyText(p);
  const existing = exists ? await currentPolicy(sql, schema, name, p) : null;
  if (!existing) {
    return {
      id: `policy:${name}`,
      title,
      state: 'needed',
      wanted,
      statements: [
        await renderStatement(sql, 'aggregates/lib/render-add-policy.sql', [
          schema,
          name,
          p.startOffset?.text ?? null,
          p.endOffset.text,
          p.schedule.text,
        ]),
      ],
    };
  }
  const current = `job ${existing.job_id}, ${describePolicy({ startOffset: existing.start_offset, endOffset: existing.end_offset, schedule: existing.schedule })}`;
  if (existing.matches) return { id: `policy:${name}`, title, state: 'in-place', current, statements: [] };
  return {
    id: `policy:${name}`,
    title,
    state: 'different',
    current,
    wanted,
    statements: [
      await renderStatement(sql, 'aggregates/lib/render-alter-policy.sql', [
        existing.job_id,
        JSON.stringify(existing.config),
        p.startOffset?.text ?? null,
        p.endOffset.text,
        p.schedule.text,
      ]),
    ],
  };
}

// ---------------------------------------------------------------------------
// Materializing
// ---------------------------------------------------------------------------

export interface MaterializeProgress {
  aggregate: AggregateName;
  /** Windows (continuous) or whole refreshes (materialized views) done and in all. */
  done: number;
  total: number;
  from: Date | null;
  to: Date | null;
  elapsedMs: number;
}

export interface MaterializeResult {
  aggregate: AggregateName;
  kind: AggregateKind;
  /** What was (or, on --dry-run, would be) refreshed; null bounds for a whole materialized view. */
  from: Date | null;
  to: Date | null;
  windows: number;
  windowsDone: number;
  /** The statements, one per window (continuous) or the REFRESH (materialized view). */
  statements: string[];
  elapsedMs: number;
  /** Why nothing was refreshed, when so. */
  note?: string;
}

const floorTo = (d: Date, ms: number) => new Date(Math.floor(d.getTime() / ms) * ms);

/**
 * Refresh one aggregate: a continuous aggregate in bounded windows, oldest
 * first, each its own CALL refresh_continuous_aggregate (which cannot run in
 * a transaction block, so on the connection as it is); a materialized view
 * with one REFRESH, CONCURRENTLY when it is populated and has its unique
 * index. `from` null: continue from where it is materialized up to (create)
 * or from the oldest raw row (refresh). Checks `signal` between windows:
 * interrupted and run again, it continues.
 */
export async function refreshAggregate(
  conn: Sql,
  caps: Capabilities,
  name: AggregateName,
  opts: {
    from?: Date | null;
    to?: Date | null;
    /** Start at the materialized-up-to mark instead of the oldest raw row (create-aggregates). */
    continueFromWatermark?: boolean;
    endOffset: Interval;
    window: Interval;
    dryRun: boolean;
    signal?: AbortSignal;
    onProgress?: (p: MaterializeProgress) => void;
  },
): Promise<MaterializeResult> {
  const t0 = performance.now();
  const def = aggregateDefinition(name);
  const existing = await existingAggregate(conn, caps, name);
  if (!existing || existing.kind === 'other') {
    throw new HomepotError('unknown-table', `aggregate ${name} does not exist`, {
      hint: 'Run homepot-ts create-aggregates first.',
    });
  }
  const base = { aggregate: name, kind: existing.kind };
  if (existing.kind === 'materialized') {
    const concurrently = existing.populated && existing.hasUniqueIndex;
    const statement = await renderStatement(conn, 'aggregates/lib/render-refresh-view.sql', [
      existing.schema,
      name,
      concurrently,
    ]);
    if (!opts.dryRun) {
      opts.signal?.throwIfAborted();
      opts.onProgress?.({
        aggregate: name,
        done: 0,
        total: 1,
        from: null,
        to: null,
        elapsedMs: performance.now() - t0,
      });
      await conn`BEGIN`;
      try {
        await executeRendered(conn, statement);
        await conn`COMMIT`;
      } catch (err) {
        await conn`ROLLBACK`.catch(() => {});
        throw err;
      }
      opts.onProgress?.({
        aggregate: name,
        done: 1,
        total: 1,
        from: null,
        to: null,
        elapsedMs: performance.now() - t0,
      });
    }
    return {
      ...base,
      from: null,
      to: null,
      windows: 1,
      windowsDone: opts.dryRun ? 0 : 1,
      statements: [statement],
      elapsedMs: performance.now() - t0,
    };
  }

  const [range] = (await conn.unsafe(sqlFile('aggregates/lib/raw-range.sql'))) as unknown as {
    first_ms: unknown;
    now_ms: unknown;
  }[];
  const now = epochMs(range?.now_ms) ?? new Date();
  const bucketMs = def.bucket.seconds * 1000;
  const end = floorTo(opts.to ?? new Date(now.getTime() - opts.endOffset.seconds * 1000), bucketMs);
  let start: Date | null = opts.from ?? epochMs(range?.first_ms);
  if (opts.from == null && opts.continueFromWatermark && existing.continuous?.watermark) {
    const w = existing.continuous.watermark;
    if (!start || w > start) start = w;
  }
  if (!start)
    return {
      ...base,
      from: null,
      to: end,
      windows: 0,
      windowsDone: 0,
      statements: [],
      elapsedMs: performance.now() - t0,
      note: 'health_checks is empty',
    };
  start = floorTo(start, bucketMs);
  if (start >= end)
    return {
      ...base,
      from: start,
      to: end,
      windows: 0,
      windowsDone: 0,
      statements: [],
      elapsedMs: performance.now() - t0,
      note: 'already materialized up to the end of the window',
    };

  const windowMs = Math.max(opts.window.seconds * 1000, 2 * bucketMs);
  const windows: [Date, Date][] = [];
  for (let t = start.getTime(); t < end.getTime(); t += windowMs) {
    windows.push([new Date(t), new Date(Math.min(t + windowMs, end.getTime()))]);
  }
  // A last window shorter than two buckets may be refused as "too small": merge it.
  if (windows.length > 1 && windows.at(-1)![1].getTime() - windows.at(-1)![0].getTime() < 2 * bucketMs) {
    const last = windows.pop()!;
    windows.at(-1)![1] = last[1];
  }
  const statements: string[] = [];
  for (const [a, b] of windows)
    statements.push(
      await renderStatement(conn, 'aggregates/lib/render-refresh-continuous.sql', [existing.schema, name, a, b]),
    );
  let done = 0;
  if (!opts.dryRun) {
    opts.onProgress?.({
      aggregate: name,
      done,
      total: windows.length,
      from: start,
      to: end,
      elapsedMs: performance.now() - t0,
    });
    for (const [i, statement] of statements.entries()) {
      if (opts.signal?.aborted) break;
      // Outside a transaction: refresh_continuous_aggregate refuses to run inside one.
      await executeRendered(conn, statement);
      done = i + 1;
      opts.onProgress?.({
        aggregate: name,
        done,
        total: windows.length,
        from: start,
        to: end,
        elapsedMs: performance.now() - t0,
      });
    }
  }
  return {
    ...base,
    from: start,
    to: end,
    windows: windows.length,
    windowsDone: done,
    statements,
    elapsedMs: performance.now() - t0,
  };
}

// ---------------------------------------------------------------------------
// create-aggregates
// ---------------------------------------------------------------------------

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

/** Warnings about retention dropping raw rows inside an aggregate's refresh window. */
export async function retentionWarnings(
  sql: Sql,
  caps: Capabilities,
  policies: Record<AggregateName, RefreshPolicy>,
): Promise<string[]> {
  if (!caps.features.policies) return [];
  const [ret] = (await sql.unsafe(sqlFile('aggregates/lib/retention.sql'))) as unknown as {
    job_id: number;
    drop_after: string | null;
    drop_after_seconds: unknown;
  }[];
  const seconds = num(ret?.drop_after_seconds);
  if (!ret?.drop_after || seconds === null) return [];
  // The server read the job's interval text (whatever IntervalStyle wrote it) and gave its length.
  const dropAfter: Interval = { text: ret.drop_after, seconds };
  const warnings: string[] = [];
  for (const name of AGGREGATE_NAMES) {
    const p = policies[name];
    if (p.startOffset === null || p.startOffset.seconds >= dropAfter.seconds) {
      warnings.push(
        `${name}: the retention policy (job ${ret.job_id}) drops raw health checks after ${dropAfter.text}, inside this aggregate's refresh window (start offset ${p.startOffset?.text ?? 'none: all history'}): a refresh over dropped data deletes the aggregate's rows for it. Use a start offset shorter than ${dropAfter.text}.`,
      );
    }
  }
  return warnings;
}

/**
 * Make the three aggregates exist as HOMEPOT expects (idempotent), then
 * materialize the history. Under the change lock, so concurrent runs queue;
 * planned after taking it, so a run that waited finds the work done.
 */
export async function runCreateAggregates(
  sql: Sql,
  opts: AggregateOptions,
  hooks: {
    onWait?: () => void;
    onStep?: (s: Step) => void;
    onProgress?: (p: MaterializeProgress) => void;
    signal?: AbortSignal;
  } = {},
): Promise<CreateAggregatesResult> {
  for (const name of AGGREGATE_NAMES) checkPolicy(name, opts.policies[name]);
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      preflight(caps, { require: null });
      const kind = aggregateKind(caps);
      await requireHealthChecks(conn, caps, kind);
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
      const warnings = [
        ...results.filter((s) => s.warning && s.outcome !== 'unchanged').map((s) => s.warning!),
        ...results
          .filter((s) => s.state === 'different' && s.outcome === 'skipped' && s.reason?.includes('--recreate'))
          .map((s) => `${s.id.replace('aggregate:', '')}: ${s.reason}`),
        ...(kind === 'continuous' ? await retentionWarnings(conn, caps, opts.policies) : []),
      ];
      const materialized: MaterializeResult[] = [];
      if (failedStep === null && opts.materialize) {
        for (const def of AGGREGATES) {
          if (hooks.signal?.aborted) break;
          const step = results.find((s) => s.id === `aggregate:${def.name}`);
          if (step?.outcome === 'skipped' && !opts.dryRun) continue; // left alone (different, no --recreate)
          if (opts.dryRun && step && step.state !== 'in-place') {
            materialized.push({
              aggregate: def.name,
              kind,
              from: null,
              to: null,
              windows: 0,
              windowsDone: 0,
              statements: [],
              elapsedMs: 0,
              note: 'created by this run: materialized after it, in windows',
            });
            continue;
          }
          const ex = await existingAggregate(conn, caps, def.name);
          // A populated materialized view is kept current by `aggregates refresh`, not by create.
          if (kind === 'materialized' && ex?.populated) {
            materialized.push({
              aggregate: def.name,
              kind,
              from: null,
              to: null,
              windows: 0,
              windowsDone: 0,
              statements: [],
              elapsedMs: 0,
              note: 'already populated (refresh with homepot-ts aggregates refresh)',
            });
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
      }
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

// ---------------------------------------------------------------------------
// list, refresh, policy, drop
// ---------------------------------------------------------------------------

export interface AggregateInfo {
  name: AggregateName;
  schema: string | null;
  exists: boolean;
  kind: AggregateKind | 'other' | null;
  /** Same definition as ours (null when missing). */
  definitionMatches: boolean | null;
  realTime: boolean | null;
  policy: {
    jobId: number;
    startOffset: string | null;
    endOffset: string | null;
    schedule: string;
    lastSuccess: Date | null;
    lastRunStatus: string | null;
  } | null;
  /** End of the last materialized bucket: the watermark (continuous) or the newest bucket's end (materialized view). */
  materializedUpTo: Date | null;
  /** now() - materializedUpTo, in seconds. */
  behindSeconds: number | null;
  /** Materialized rows (exact count). */
  rows: number | null;
  totalBytes: number | null;
}

/** The three aggregates, read-only: what `aggregates list` and `status` show. */
export async function listAggregates(
  sql: Sql,
  options: { capabilities?: Capabilities; compareDefinitions?: boolean } = {},
): Promise<AggregateInfo[]> {
  if (!options.compareDefinitions) return listOn(sql, options);
  // Comparing definitions uses a rolled-back transaction: one connection throughout.
  const conn = await sql.reserve();
  try {
    return await listOn(conn, options);
  } finally {
    conn.release();
  }
}

async function listOn(
  sql: Sql,
  options: { capabilities?: Capabilities; compareDefinitions?: boolean },
): Promise<AggregateInfo[]> {
  const caps = options.capabilities ?? (await detectCapabilities(sql));
  const out: AggregateInfo[] = [];
  for (const def of AGGREGATES) {
    const ex = await existingAggregate(sql, caps, def.name);
    if (!ex) {
      out.push({
        name: def.name,
        schema: null,
        exists: false,
        kind: null,
        definitionMatches: null,
        realTime: null,
        policy: null,
        materializedUpTo: null,
        behindSeconds: null,
        rows: null,
        totalBytes: null,
      });
      continue;
    }
    let policy: AggregateInfo['policy'] = null;
    let upTo: Date | null = null;
    let rows: number | null = null;
    let bytes: number | null = null;
    if (ex.kind === 'continuous' && ex.continuous) {
      const p = await currentPolicy(sql, ex.schema, def.name, {
        startOffset: null,
        endOffset: parseInterval('1 hour'),
        schedule: parseInterval('1 hour'),
      });
      if (p)
        policy = {
          jobId: p.job_id,
          startOffset: p.start_offset,
          endOffset: p.end_offset,
          schedule: p.schedule,
          lastSuccess: p.last_success,
          lastRunStatus: p.last_run_status,
        };
      upTo = ex.continuous.watermark;
      const [r] = await sql<{ n: number; bytes: number }[]>`
        SELECT (SELECT count(*) FROM ${sql(ex.continuous.mat_schema)}.${sql(ex.continuous.mat_table)})::bigint AS n,
               hypertable_size(${`${ex.continuous.mat_schema}.${ex.continuous.mat_table}`}::regclass) AS bytes`;
      rows = num(r?.n);
      bytes = num(r?.bytes);
    } else if (ex.kind === 'materialized') {
      const [r] = ex.populated
        ? await sql<{ n: number; last_ms: number | null; bytes: number }[]>`
            SELECT count(*)::bigint AS n, (extract(epoch FROM max(${sql(def.timeColumn)})) * 1000)::float8 AS last_ms,
                   pg_total_relation_size(${`${ex.schema}.${def.name}`}::regclass) AS bytes
            FROM ${sql(ex.schema)}.${sql(def.name)}`
        : await sql<{ n: number; last_ms: number | null; bytes: number }[]>`
            SELECT NULL::bigint AS n, NULL::float8 AS last_ms, pg_total_relation_size(${`${ex.schema}.${def.name}`}::regclass) AS bytes`;
      rows = num(r?.n);
      bytes = num(r?.bytes);
      const last = epochMs(r?.last_ms);
      upTo = last ? new Date(last.getTime() + def.bucket.seconds * 1000) : null;
    }
    let definitionMatches: boolean | null = null;
    if (options.compareDefinitions && ex.kind !== 'other') {
      definitionMatches = normalize(ex.definition) === normalize(await canonicalDefinition(sql, ex.kind, def.name));
    }
    const [now] = await sql<{ now_ms: number }[]>`SELECT (extract(epoch FROM now()) * 1000)::float8 AS now_ms`;
    out.push({
      name: def.name,
      schema: ex.schema,
      exists: true,
      kind: ex.kind,
      definitionMatches,
      realTime: ex.continuous ? !ex.continuous.materialized_only : ex.kind === 'materialized' ? false : null,
      policy,
      materializedUpTo: upTo,
      behindSeconds: upTo ? Math.max(0, Math.round((Number(now!.now_ms) - upTo.getTime()) / 1000)) : null,
      rows,
      totalBytes: bytes,
    });
  }
  return out;
}

/**
 * Parse --from / --to: an interval ago ("7 days") or a timestamp the server
 * reads (a timestamp without an offset is in the database's TimeZone; the
 * result comes back as a number, so no DateStyle shapes it).
 */
export async function resolveTime(sql: Sql, value: string | undefined, flag: string): Promise<Date | undefined> {
  if (value === undefined) return undefined;
  let ago: Interval | null = null;
  try {
    ago = parseInterval(value, flag);
  } catch {
    ago = null;
  }
  try {
    const [r] = ago
      ? await sql<{ ms: number }[]>`SELECT (extract(epoch FROM now() - ${ago.text}::interval) * 1000)::float8 AS ms`
      : await sql<{ ms: number }[]>`SELECT (extract(epoch FROM ${value}::timestamptz) * 1000)::float8 AS ms`;
    const t = epochMs(r?.ms);
    if (t) return t;
  } catch {
    // not a timestamp either (or ±infinity): said below
  }
  throw new HomepotError('usage', `${flag} "${value}" is neither a timestamp nor an interval ago`, {
    hint: `Give a timestamp such as 2025-11-01 or 2025-11-01T12:00Z, or an interval such as "7 days" (meaning 7 days ago).`,
  });
}

export interface RefreshResult {
  server: string;
  results: MaterializeResult[];
  warnings: string[];
}

/**
 * `aggregates refresh`: bring aggregates up to date. Continuous aggregates
 * in windows over [from, to) (default: the whole raw history up to now - the
 * policy's end offset; windows with nothing new cost next to nothing);
 * materialized views are refreshed whole. Fit for cron.
 */
export async function runRefresh(
  sql: Sql,
  opts: {
    names: AggregateName[];
    from?: Date;
    to?: Date;
    policies: Record<AggregateName, RefreshPolicy>;
    window: Interval;
    dryRun: boolean;
  },
  hooks: { onWait?: () => void; onProgress?: (p: MaterializeProgress) => void; signal?: AbortSignal } = {},
): Promise<RefreshResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      if (!opts.dryRun) preflight(caps, { require: null });
      const warnings: string[] = [];
      const results: MaterializeResult[] = [];
      for (const name of opts.names) {
        if (hooks.signal?.aborted) break;
        const ex = await existingAggregate(conn, caps, name);
        if (!ex) {
          if (opts.names.length === AGGREGATE_NAMES.length) {
            warnings.push(`${name} does not exist: run homepot-ts create-aggregates.`);
            continue;
          }
          throw new HomepotError('unknown-table', `aggregate ${name} does not exist`, {
            hint: 'Run homepot-ts create-aggregates first.',
          });
        }
        if (ex.kind === 'materialized' && (opts.from || opts.to)) {
          warnings.push(
            `${name} is a materialized view: it is refreshed whole; --from/--to apply to continuous aggregates only.`,
          );
        }
        results.push(
          await refreshAggregate(conn, caps, name, {
            from: opts.from ?? null,
            to: opts.to ?? null,
            endOffset: opts.policies[name].endOffset,
            window: opts.window,
            dryRun: opts.dryRun,
            ...(hooks.signal ? { signal: hooks.signal } : {}),
            ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
          }),
        );
      }
      return { server: describeServerKind(caps), results, warnings };
    },
    hooks.onWait,
  );
}

/** `aggregates policy <name>`: set a continuous aggregate's refresh policy (Community edition). */
export async function runSetPolicy(
  sql: Sql,
  name: AggregateName,
  policy: RefreshPolicy,
  opts: { lockTimeout: Interval; dryRun: boolean },
): Promise<ApplyResult & { warnings: string[] }> {
  checkPolicy(name, policy);
  return withChangeLock(sql, async (conn) => {
    const caps = await detectCapabilities(conn);
    preflight(caps, { require: null });
    const ex = await existingAggregate(conn, caps, name);
    if (!caps.features.continuousAggregates || ex?.kind === 'materialized') {
      throw new HomepotError(
        'timescaledb-edition',
        `refresh policies need continuous aggregates (TimescaleDB Community edition); ${name} here is ${ex ? 'a materialized view' : 'missing'}`,
        {
          hint: 'Refresh the materialized views from cron instead, e.g.: */15 * * * * homepot-ts aggregates refresh --quiet',
        },
      );
    }
    if (!ex || ex.kind !== 'continuous')
      throw new HomepotError('unknown-table', `aggregate ${name} does not exist`, {
        hint: 'Run homepot-ts create-aggregates first.',
      });
    const step = await policyStep(conn, ex.schema, name, policy, true);
    const result = await applySteps(conn, [step], { dryRun: opts.dryRun, lockTimeout: opts.lockTimeout });
    return {
      ...result,
      warnings: await retentionWarnings(conn, caps, { ...defaultPolicies(), [name]: policy }).then((w) =>
        w.filter((x) => x.startsWith(name)),
      ),
    };
  });
}

/** `aggregates drop <name>`: destructive, through a plan (and --dry-run). */
export async function runDrop(
  sql: Sql,
  name: AggregateName,
  opts: { lockTimeout: Interval; dryRun: boolean },
): Promise<ApplyResult & { warnings: string[] }> {
  return withChangeLock(sql, async (conn) => {
    const caps = await detectCapabilities(conn);
    preflight(caps, { require: null });
    const ex = await existingAggregate(conn, caps, name);
    const step: Step = ex
      ? {
          id: `drop:${name}`,
          title: `drop ${name} (${KIND_TEXT[ex.kind]})`,
          state: 'needed',
          destructive: true,
          wanted: 'dropped, with its materialized rows and refresh policy',
          statements: [await renderStatement(conn, 'aggregates/lib/render-drop.sql', [ex.schema, name])],
          warning: `dropping ${name} deletes its materialized rows${ex.kind === 'continuous' ? ' and its refresh policy' : ''}; create-aggregates rebuilds it from health_checks (rows already removed by retention do not come back).`,
        }
      : { id: `drop:${name}`, title: `drop ${name}`, state: 'in-place', current: 'does not exist', statements: [] };
    const result = await applySteps(conn, [step], { dryRun: opts.dryRun, lockTimeout: opts.lockTimeout });
    return { ...result, warnings: step.warning ? [step.warning] : [] };
  });
}

export function defaultPolicies(): Record<AggregateName, RefreshPolicy> {
  return Object.fromEntries(
    AGGREGATE_NAMES.map((n) => [
      n,
      {
        startOffset: parseInterval(POLICY_DEFAULTS[n].startOffset),
        endOffset: parseInterval(POLICY_DEFAULTS[n].endOffset),
        schedule: parseInterval(POLICY_DEFAULTS[n].schedule),
      },
    ]),
  ) as Record<AggregateName, RefreshPolicy>;
}

// ---------------------------------------------------------------------------
// The seed's example queries (for demo)
// ---------------------------------------------------------------------------

export interface ExampleQueryResult {
  title: string;
  /** The query as the seed writes it, with the ids used. */
  query: string;
  rows: Record<string, unknown>[];
}

/**
 * The seed's dashboard queries on the aggregates, for the busiest device and
 * site found: device hourly over 24 h, site hourly over 7 days, and the
 * fleet's daily summary. Read-only; returns data.
 */
export async function exampleQueries(
  sql: Sql,
  options: { deviceId?: number; siteId?: number } = {},
): Promise<ExampleQueryResult[]> {
  const [ids] = await sql<{ device_id: number | null; site_id: number | null }[]>`
    SELECT (SELECT id FROM devices ORDER BY id LIMIT 1) AS device_id, (SELECT id FROM sites ORDER BY id LIMIT 1) AS site_id`;
  const deviceId = options.deviceId ?? ids?.device_id ?? 0;
  const siteId = options.siteId ?? ids?.site_id ?? 0;
  const device = await sql`
    SELECT * FROM device_metrics_hourly
    WHERE device_id = ${deviceId} AND hour >= NOW() - INTERVAL '24 hours'
    ORDER BY hour DESC`;
  const site = await sql`
    SELECT hour, device_count, avg_cpu, total_transactions
    FROM site_metrics_hourly
    WHERE site_id = ${siteId} AND hour >= NOW() - INTERVAL '7 days'
    ORDER BY hour DESC`;
  const daily = await sql`
    SELECT day, count(*)::int AS devices, sum(check_count)::bigint AS checks, avg(avg_cpu) AS avg_cpu,
           sum(total_transactions)::bigint AS total_transactions, sum(unhealthy_count)::bigint AS unhealthy
    FROM device_metrics_daily
    WHERE day >= NOW() - INTERVAL '30 days'
    GROUP BY day ORDER BY day DESC`;
  return [
    {
      title: `device ${deviceId}, hourly, last 24 hours`,
      query: `SELECT * FROM device_metrics_hourly WHERE device_id = ${deviceId} AND hour >= NOW() - INTERVAL '24 hours'`,
      rows: [...device],
    },
    {
      title: `site ${siteId}, hourly, last 7 days`,
      query: `SELECT hour, device_count, avg_cpu, total_transactions FROM site_metrics_hourly WHERE site_id = ${siteId} AND hour >= NOW() - INTERVAL '7 days'`,
      rows: [...site],
    },
    {
      title: 'fleet, daily, last 30 days',
      query: `SELECT day, ... FROM device_metrics_daily WHERE day >= NOW() - INTERVAL '30 days' GROUP BY day`,
      rows: [...daily],
    },
  ];
}
