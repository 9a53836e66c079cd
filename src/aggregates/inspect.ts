import { validDate } from '../core/times.js';
import { detectCapabilities, type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { parseInterval, type Interval } from '../core/intervals.js';
import { num } from '../core/numbers.js';
import { epochMs } from '../core/times.js';
import { executeRendered, inTransaction, queryOne } from '../db/sql.js';
import { retentionInsideWindows } from '../steps/refresh-windows.js';
import {
  AGGREGATE_NAMES,
  AGGREGATES,
  TABLE_COMMENT,
  definitionQuery,
  type AggregateDefinition,
  type FoundKind,
  type AggregateName,
  type RefreshPolicy,
} from './definitions.js';

/**
 * Reading what is there, never changing it: the relation an aggregate's name
 * resolves to (continuous aggregate, materialized view or something else),
 * its refresh policy, whether its stored definition is ours (compared as the
 * server prints both), the retention policy that could drop raw rows inside
 * a refresh window, and `listAggregates` (what `aggregates list` and
 * `status` show).
 */

interface RelationRow {
  schema: string;
  name: string;
  relkind: string;
  populated: boolean;
  current_schema: string | null;
  definition: string | null;
  has_unique_index: boolean | null;
  comment: string | null;
  owner: string;
  trusted: boolean;
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

export interface PolicyRow {
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
  kind: FoundKind;
  relkind: string;
  populated: boolean;
  /** A continuous aggregate's or materialized view's query; a table's columns and types. */
  definition: string | null;
  hasUniqueIndex: boolean;
  continuous: ContinuousRow | null;
  /** A table carries our comment (sql/aggregates/table/<name>.sql). */
  marked: boolean;
  owner: string;
  /** Owned by the current role or a superuser role. */
  trusted: boolean;
}

/** What `name` resolves to through search_path, or null when nothing does. */
export async function existingAggregate(
  sql: Sql,
  caps: Capabilities,
  name: AggregateName,
): Promise<ExistingAggregate | null> {
  const rel = await queryOne<RelationRow>(sql, 'aggregates/lib/relation.sql', [name]);
  if (!rel) return null;
  let continuous: ContinuousRow | null = null;
  if (caps.timescaledb.installedVersion && rel.relkind === 'v') {
    const row = await queryOne<Omit<ContinuousRow, 'watermark'> & { watermark_ms: unknown }>(
      sql,
      'aggregates/lib/continuous-info.sql',
      [rel.schema, rel.name],
    );
    continuous = row ? { ...row, watermark: epochMs(row.watermark_ms) } : null;
  }
  return {
    schema: rel.schema,
    kind: continuous ? 'continuous' : rel.relkind === 'm' ? 'materialized' : rel.relkind === 'r' ? 'table' : 'other',
    relkind: rel.relkind,
    populated: rel.populated,
    definition: continuous ? continuous.definition : rel.definition,
    hasUniqueIndex: Boolean(rel.has_unique_index),
    continuous,
    marked: rel.relkind === 'r' && rel.comment === TABLE_COMMENT,
    owner: rel.owner,
    trusted: rel.trusted,
  };
}

/** The error for an aggregate a command needs that does not exist. */
export function missingAggregate(name: AggregateName): HomepotError {
  return new HomepotError('unknown-table', `aggregate ${name} does not exist`, {
    hint: 'Run homepot-ts create-aggregates first.',
  });
}

/** A continuous aggregate's refresh policy, and whether it matches `p`; null when it has none. */
export async function currentPolicy(
  sql: Sql,
  schema: string,
  name: AggregateName,
  p: RefreshPolicy,
): Promise<PolicyRow | null> {
  const row = await queryOne<PolicyRow>(sql, 'aggregates/lib/policy.sql', [
    schema,
    name,
    p.schedule.text,
    p.startOffset?.text ?? null,
    p.endOffset.text,
  ]);
  return row ?? null;
}

/**
 * Our definition as the server prints it (pg_get_viewdef): a temporary view of
 * the same query, in a transaction that is rolled back. Comparing two
 * server-printed texts ignores spacing, comments and casts written differently.
 * An aggregate table has no query to print: its columns and their types are
 * compared (relation.sql and columns.sql print both alike); a materialized
 * view an earlier version made is compared with the table's query.
 * `conn` must be one connection (reserved), as the transaction spans queries.
 */
async function canonicalDefinition(conn: Sql, kind: Exclude<FoundKind, 'other'>, name: AggregateName): Promise<string> {
  const file = kind === 'continuous' ? 'continuous' : 'table';
  return inTransaction(conn, { rollback: true }, async () => {
    await executeRendered(conn, `CREATE TEMP VIEW homepot_ts_definition_probe AS ${definitionQuery(file, name)}`);
    if (kind === 'table') {
      const row = await queryOne<{ d: string }>(conn, 'aggregates/lib/columns.sql', [
        'pg_temp.homepot_ts_definition_probe',
      ]);
      return row!.d;
    }
    const [row] = await conn<
      { d: string }[]
    >`SELECT pg_get_viewdef('pg_temp.homepot_ts_definition_probe'::regclass) AS d`;
    return row!.d;
  });
}

const normalize = (d: string | null | undefined) => (d ?? '').replace(/\s+/g, ' ').trim();

/** The stored definition is ours (of `kind`), as the server prints both. One connection: see canonicalDefinition. */
export async function sameDefinition(
  conn: Sql,
  kind: Exclude<FoundKind, 'other'>,
  name: AggregateName,
  stored: string | null,
): Promise<boolean> {
  let canonical: string;
  try {
    canonical = await canonicalDefinition(conn, kind, name);
  } catch (err) {
    // A read-only session (a replica) cannot create even the temporary view that prints
    // ours: there the kind (and for a table its comment and owner) is all that is compared.
    if ((err as { code?: string }).code === '25006') return true;
    throw err;
  }
  return normalize(stored) === normalize(canonical);
}

/** Warnings about retention dropping raw rows inside an aggregate's refresh window. */
export async function retentionWarnings(
  sql: Sql,
  caps: Capabilities,
  policies: Record<AggregateName, RefreshPolicy>,
): Promise<string[]> {
  if (!caps.features.policies) return [];
  const ret = await queryOne<{ job_id: number; drop_after: string | null; drop_after_seconds: unknown }>(
    sql,
    'aggregates/lib/retention.sql',
  );
  const seconds = num(ret?.drop_after_seconds);
  if (!ret?.drop_after || seconds === null) return [];
  // The server read the job's interval text (whatever IntervalStyle wrote it) and gave its length.
  const dropAfter: Interval = { text: ret.drop_after, seconds };
  const windows = AGGREGATE_NAMES.map((name) => ({ name, startOffset: policies[name].startOffset }));
  return retentionInsideWindows(dropAfter, `the retention policy (job ${ret.job_id})`, windows);
}

// ---------------------------------------------------------------------------
// aggregates list
// ---------------------------------------------------------------------------

export interface AggregateInfo {
  name: AggregateName;
  schema: string | null;
  exists: boolean;
  kind: FoundKind | null;
  /** Same definition as ours (null when missing). */
  definitionMatches: boolean | null;
  realTime: boolean | null;
  policy: {
    jobId: number;
    startOffset: string | null;
    endOffset: string | null;
    schedule: string;
    /** null when the policy never succeeded (job_stats says -infinity) or has not run. */
    lastSuccess: Date | null;
    /** The policy ran but never succeeded (job_stats.last_successful_finish is -infinity). */
    neverSucceeded: boolean;
    lastRunStatus: string | null;
  } | null;
  /** End of the last materialized bucket: the watermark (continuous) or the newest bucket's end (table, materialized view). */
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
  for (const def of AGGREGATES) out.push(await aggregateInfo(sql, caps, def, options.compareDefinitions ?? false));
  return out;
}

type Stats = Pick<AggregateInfo, 'policy' | 'materializedUpTo' | 'rows' | 'totalBytes'>;

const NO_STATS: Stats = { policy: null, materializedUpTo: null, rows: null, totalBytes: null };

async function aggregateInfo(
  sql: Sql,
  caps: Capabilities,
  def: AggregateDefinition,
  compareDefinitions: boolean,
): Promise<AggregateInfo> {
  const ex = await existingAggregate(sql, caps, def.name);
  if (!ex) {
    return {
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
    };
  }
  const stats =
    ex.kind === 'continuous' && ex.continuous
      ? await continuousStats(sql, ex.schema, def.name, ex.continuous)
      : ex.kind === 'materialized' || ex.kind === 'table'
        ? await viewStats(sql, ex, def)
        : NO_STATS;
  // An aggregate table is ours only with our comment too (sql/aggregates/table/<name>.sql).
  const definitionMatches =
    compareDefinitions && ex.kind !== 'other'
      ? (ex.kind !== 'table' || ex.marked) && (await sameDefinition(sql, ex.kind, def.name, ex.definition))
      : null;
  const [now] = await sql<{ now_ms: number }[]>`SELECT (extract(epoch FROM now()) * 1000)::float8 AS now_ms`;
  const upTo = stats.materializedUpTo;
  return {
    name: def.name,
    schema: ex.schema,
    exists: true,
    kind: ex.kind,
    definitionMatches,
    realTime: ex.continuous ? !ex.continuous.materialized_only : ex.kind === 'other' ? null : false,
    policy: stats.policy,
    materializedUpTo: upTo,
    behindSeconds: upTo ? Math.max(0, Math.round((Number(now!.now_ms) - upTo.getTime()) / 1000)) : null,
    rows: stats.rows,
    totalBytes: stats.totalBytes,
  };
}

/** A continuous aggregate's policy, watermark, and its materialization hypertable's rows and size. */
async function continuousStats(sql: Sql, schema: string, name: AggregateName, cont: ContinuousRow): Promise<Stats> {
  const p = await currentPolicy(sql, schema, name, {
    startOffset: null,
    endOffset: parseInterval('1 hour'),
    schedule: parseInterval('1 hour'),
  });
  const [r] = await sql<{ n: number; bytes: number }[]>`
    SELECT (SELECT count(*) FROM ${sql(cont.mat_schema)}.${sql(cont.mat_table)})::bigint AS n,
           hypertable_size(${`${cont.mat_schema}.${cont.mat_table}`}::regclass) AS bytes`;
  return {
    policy: p
      ? {
          jobId: p.job_id,
          startOffset: p.start_offset,
          endOffset: p.end_offset,
          schedule: p.schedule,
          lastSuccess: validDate(p.last_success),
          neverSucceeded: p.last_success !== null && validDate(p.last_success) === null,
          lastRunStatus: p.last_run_status,
        }
      : null,
    materializedUpTo: cont.watermark,
    rows: num(r?.n),
    totalBytes: num(r?.bytes),
  };
}

/** An aggregate table's or materialized view's rows, size, and the end of its newest bucket (nothing to count in an unpopulated view). */
async function viewStats(sql: Sql, ex: ExistingAggregate, def: AggregateDefinition): Promise<Stats> {
  const [r] = ex.populated
    ? await sql<{ n: number; last_ms: number | null; bytes: number }[]>`
        SELECT count(*)::bigint AS n, (extract(epoch FROM max(${sql(def.timeColumn)})) * 1000)::float8 AS last_ms,
               pg_total_relation_size(${`${ex.schema}.${def.name}`}::regclass) AS bytes
        FROM ${sql(ex.schema)}.${sql(def.name)}`
    : await sql<{ n: number; last_ms: number | null; bytes: number }[]>`
        SELECT NULL::bigint AS n, NULL::float8 AS last_ms, pg_total_relation_size(${`${ex.schema}.${def.name}`}::regclass) AS bytes`;
  const last = epochMs(r?.last_ms);
  return {
    policy: null,
    materializedUpTo: last ? new Date(last.getTime() + def.bucket.seconds * 1000) : null,
    rows: num(r?.n),
    totalBytes: num(r?.bytes),
  };
}
