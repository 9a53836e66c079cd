import type { Sql } from '../db/connection.js';
import type { Interval } from '../core/intervals.js';
import type { ResolvedTable } from '../db/names.js';
import type { Step } from '../db/plan.js';
import { queryOne, renderStatement } from '../db/sql.js';
import { validDate } from '../core/times.js';

/**
 * The retention and compression policies of a hypertable, for every feature
 * that reads or changes them (setup, retention, compression): one table says
 * what each policy is (its job's proc, the config key holding its interval,
 * the functions that add and remove it, its step id and title); readPolicy
 * reads one policy job, policyStep plans creating or changing it, and
 * removePolicyStatement renders removing it. SQL in sql/steps/.
 */

export type PolicyKind = 'retention' | 'compression';

/** The functions that add and remove a policy, and the argument holding its interval. */
export interface PolicyApi {
  /** Chosen here, never typed by anyone. */
  add: 'add_retention_policy' | 'add_compression_policy' | 'add_columnstore_policy';
  remove: 'remove_retention_policy' | 'remove_compression_policy' | 'remove_columnstore_policy';
  /** The add function's interval argument. */
  argument: 'drop_after' | 'compress_after' | 'after';
  /** add and remove are procedures (CALL), not functions (SELECT). */
  procedures: boolean;
}

export interface PolicyDefinition {
  /** The plan step's id. */
  id: string;
  /** The job's proc_name in timescaledb_information.jobs. */
  proc: 'policy_retention' | 'policy_compression';
  /** The config key holding the policy's interval. */
  key: 'drop_after' | 'compress_after';
  /** How to add and remove it. */
  api: PolicyApi;
  /**
   * Where the server has the columnstore API (TimescaleDB 2.18+), how to add
   * and remove it there. The procedures call the same C functions as the old
   * names, so a policy added either way is the same job (proc
   * policy_compression, config compress_after): readPolicy finds both.
   */
  columnstoreApi?: PolicyApi;
  /** The step's title for a wanted interval. */
  title: (interval: Interval) => string;
}

export const POLICIES: Record<PolicyKind, PolicyDefinition> = {
  retention: {
    id: 'retention-policy',
    proc: 'policy_retention',
    key: 'drop_after',
    api: { add: 'add_retention_policy', remove: 'remove_retention_policy', argument: 'drop_after', procedures: false },
    title: (interval) => `retention policy (drop after ${interval.text})`,
  },
  compression: {
    id: 'compression-policy',
    proc: 'policy_compression',
    key: 'compress_after',
    api: {
      add: 'add_compression_policy',
      remove: 'remove_compression_policy',
      argument: 'compress_after',
      procedures: false,
    },
    columnstoreApi: {
      add: 'add_columnstore_policy',
      remove: 'remove_columnstore_policy',
      argument: 'after',
      procedures: true,
    },
    title: (interval) => `compression (columnstore) policy (after ${interval.text})`,
  },
};

/** How to add and remove a policy of a kind on a server with (or without) the columnstore API. */
function policyApi(kind: PolicyKind, columnstore: boolean): PolicyApi {
  const def = POLICIES[kind];
  return (columnstore && def.columnstoreApi) || def.api;
}

/** A policy job as sql/steps/policy.sql returns it. */
interface PolicyRow {
  job_id: number;
  config: unknown;
  interval_setting: string | null;
  matches: boolean | null;
  schedule_interval: string | null;
  scheduled: boolean;
  last_run_status: string | null;
  last_run_started_at: Date | null;
  last_successful_finish: Date | null;
  next_start: Date | null;
  total_runs: number;
  total_failures: number;
}

/** One policy job of a hypertable: its interval setting, schedule and last run. */
export interface PolicyJob {
  jobId: number;
  config: unknown;
  /** The config's drop_after / compress_after, as the job holds it. */
  setting: string | null;
  /** The setting equals the wanted interval (null when none was asked about). */
  matches: boolean | null;
  scheduleInterval: string | null;
  scheduled: boolean;
  lastRunStatus: string | null;
  lastRunStartedAt: Date | null;
  lastSuccessfulFinish: Date | null;
  nextStart: Date | null;
  totalRuns: number;
  totalFailures: number;
}

/** The policy job of a kind on a hypertable, or null; `wanted` fills in `matches`. */
export async function readPolicy(
  sql: Sql,
  table: { schema: string; name: string },
  kind: PolicyKind,
  wanted: Interval | null = null,
): Promise<PolicyJob | null> {
  const def = POLICIES[kind];
  const r = await queryOne<PolicyRow>(sql, 'steps/policy.sql', [
    table.schema,
    table.name,
    def.proc,
    def.key,
    wanted?.text ?? null,
  ]);
  if (!r) return null;
  return {
    jobId: Number(r.job_id),
    config: r.config,
    setting: r.interval_setting,
    matches: r.matches,
    scheduleInterval: r.schedule_interval,
    scheduled: r.scheduled,
    lastRunStatus: r.last_run_status,
    lastRunStartedAt: validDate(r.last_run_started_at),
    lastSuccessfulFinish: validDate(r.last_successful_finish),
    nextStart: validDate(r.next_start),
    totalRuns: Number(r.total_runs),
    totalFailures: Number(r.total_failures),
  };
}

/**
 * The policy step: add the policy when there is none, change its interval
 * (alter_job, keeping the rest of its config) when it differs, nothing when
 * it matches. `installed`: the table is a hypertable already (else no job can exist).
 * `columnstore`: the server has the columnstore API (Capabilities.features.columnstore);
 * it matters only for the compression policy (retention has one API).
 */
export async function policyStep(
  sql: Sql,
  kind: PolicyKind,
  p: { table: ResolvedTable; installed: boolean; interval: Interval; columnstore?: boolean; title?: string },
): Promise<Step> {
  const def = POLICIES[kind];
  const base = { id: def.id, title: p.title ?? def.title(p.interval) };
  const wanted = `${def.key} ${p.interval.text}`;
  const existing = p.installed ? await readPolicy(sql, p.table, kind, p.interval) : null;
  if (!existing) {
    const api = policyApi(kind, p.columnstore ?? false);
    const params = [api.add, p.table.schema, p.table.name, api.argument, p.interval.text, api.procedures];
    return {
      ...base,
      state: 'needed',
      wanted,
      statements: [await renderStatement(sql, 'steps/render-add-policy.sql', params)],
    };
  }
  const current = `job ${existing.jobId}, ${def.key} ${existing.setting}`;
  if (existing.matches) return { ...base, state: 'in-place', current, statements: [] };
  const params = [existing.jobId, JSON.stringify(existing.config), def.key, p.interval.text];
  return {
    ...base,
    state: 'different',
    current,
    wanted,
    statements: [await renderStatement(sql, 'steps/render-alter-policy.sql', params)],
  };
}

/** The statement removing a hypertable's policy of a kind (if_exists: none is fine); `columnstore` as for policyStep. */
export async function removePolicyStatement(
  sql: Sql,
  kind: PolicyKind,
  table: { schema: string; name: string },
  columnstore = false,
): Promise<string> {
  const api = policyApi(kind, columnstore);
  return renderStatement(sql, 'steps/render-remove-policy.sql', [api.remove, table.schema, table.name, api.procedures]);
}
