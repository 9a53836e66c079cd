import { detectCapabilities, requireWritable, type Capabilities } from '../db/capabilities.js';
import { featureGap, requireFeature } from '../db/features.js';
import { resolveHypertable } from '../steps/hypertable.js';
import { formatOrderBy, quoteIfNeeded, type OrderItem } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import type { Interval } from '../core/intervals.js';
import { resolveTable } from '../db/names.js';
import { applyOptions, applySteps, withChangeLock, type ChangeHooks, type ApplyResult, type Step } from '../db/plan.js';
import { compressionSettingsStep, readCompressionSettings } from '../steps/compression-settings.js';
import { policyStep, readPolicy, removePolicyStatement } from '../steps/policy.js';
import { chunkCounts } from './compression-stats.js';

/**
 * `compression show | set | remove`: a hypertable's compression settings
 * and compression policy, read, made to match the options, and the policy
 * removed. `compression run` lives in compression-run.ts, `compression
 * stats` in compression-stats.ts.
 */

/** What `compression set` aims for; values come from flags > config `setup.*` > the seed. */
export interface CompressionSetOptions {
  table: string;
  compressAfter: Interval;
  segmentBy: string[];
  orderBy: OrderItem[];
  lockTimeout: Interval;
  dryRun: boolean;
}

export interface HypertableName {
  schema: string;
  name: string;
}

// ---------------------------------------------------------------- show

export interface CompressionPolicy {
  jobId: number;
  compressAfter: string | null;
  scheduleInterval: string | null;
  scheduled: boolean;
  lastRunStartedAt: Date | null;
  lastRunStatus: string | null;
  nextStart: Date | null;
}

export interface CompressionShow {
  hypertable: HypertableName;
  /** false on the Apache edition and without TimescaleDB; `reason` says why. */
  available: boolean;
  reason: string | null;
  enabled: boolean;
  segmentBy: string[];
  orderBy: OrderItem[];
  policy: CompressionPolicy | null;
  chunks: { total: number; compressed: number };
  /** false when no job scheduler runs here (embedded database): policies only run by hand. */
  jobScheduler: boolean;
}

/** The compression policy job in the words of `compression show`. */
async function readCompressionPolicy(sql: Sql, table: HypertableName): Promise<CompressionPolicy | null> {
  const p = await readPolicy(sql, table, 'compression');
  if (!p) return null;
  return {
    jobId: p.jobId,
    compressAfter: p.setting,
    scheduleInterval: p.scheduleInterval,
    scheduled: p.scheduled,
    lastRunStartedAt: p.lastRunStartedAt,
    lastRunStatus: p.lastRunStatus,
    nextStart: p.nextStart,
  };
}

/** A hypertable's compression settings, policy and compressed chunks; read-only, any server. */
export async function showCompression(sql: Sql, caps: Capabilities, tableName: string): Promise<CompressionShow> {
  const why = featureGap(caps, 'community')?.reason ?? null;
  const base = { segmentBy: [], orderBy: [], policy: null, jobScheduler: caps.features.jobScheduler };
  if (!caps.timescaledb.installedVersion) {
    const table = await resolveTable(sql, tableName);
    return {
      ...base,
      hypertable: { schema: table.schema, name: table.name },
      available: false,
      reason: why,
      enabled: false,
      chunks: { total: 0, compressed: 0 },
    };
  }
  const table = await resolveHypertable(sql, caps, tableName, 'compression show');
  const name = { schema: table.schema, name: table.name };
  const chunks = await chunkCounts(sql, name);
  if (why) return { ...base, hypertable: name, available: false, reason: why, enabled: false, chunks };
  const settings = await readCompressionSettings(sql, name);
  return {
    hypertable: name,
    available: true,
    reason: null,
    enabled: Boolean(settings?.enabled),
    segmentBy: settings?.segmentBy ?? [],
    orderBy: settings?.orderBy ?? [],
    policy: await readCompressionPolicy(sql, name),
    chunks,
    jobScheduler: caps.features.jobScheduler,
  };
}

// ---------------------------------------------------------------- set / remove

export interface CompressionChangeResult extends ApplyResult {
  hypertable: HypertableName;
  warnings: string[];
}

/**
 * Make a hypertable's compression settings and policy match the options:
 * only what differs changes (settings with ALTER TABLE, the policy with
 * add_columnstore_policy, or add_compression_policy before TimescaleDB 2.18,
 * or alter_job), so a second run changes nothing, whichever API added the
 * policy before.
 */
export async function setCompression(
  sql: Sql,
  opts: CompressionSetOptions,
  hooks: ChangeHooks = {},
): Promise<CompressionChangeResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'compression set');
      requireFeature(caps, 'community', 'compression set');
      const table = await resolveHypertable(conn, caps, opts.table, 'compression set');
      const steps: Step[] = [
        await compressionSettingsStep(conn, {
          table,
          isHypertable: true,
          segmentBy: opts.segmentBy,
          orderBy: opts.orderBy,
          columnstore: caps.features.columnstore,
        }),
        await policyStep(conn, 'compression', {
          table,
          installed: true,
          interval: opts.compressAfter,
          columnstore: caps.features.columnstore,
        }),
      ];
      const result = await applySteps(conn, steps, applyOptions(opts, hooks));
      return { ...result, hypertable: { schema: table.schema, name: table.name }, warnings: [] };
    },
    hooks.onWait,
  );
}

export interface CompressionRemoveResult extends CompressionChangeResult {
  /** Chunks that are compressed now: removing the policy leaves them compressed. */
  compressedChunks: number;
  /** What to run to decompress them, for people who want that. */
  decompressHint: string;
}

/** For a hint a person copies; the name is already quoted by the server (format %I). */
function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Remove the compression policy (remove_columnstore_policy, or
 * remove_compression_policy before 2.18; if_exists); compressed chunks stay
 * compressed.
 */
export async function removeCompressionPolicy(
  sql: Sql,
  opts: { table: string; lockTimeout: Interval; dryRun: boolean },
  hooks: ChangeHooks = {},
): Promise<CompressionRemoveResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'compression remove');
      requireFeature(caps, 'community', 'compression remove');
      const table = await resolveHypertable(conn, caps, opts.table, 'compression remove');
      const name = { schema: table.schema, name: table.name };
      const policy = await readCompressionPolicy(conn, name);
      const title = 'compression (columnstore) policy';
      const step: Step = policy
        ? {
            id: 'compression-policy',
            title,
            state: 'different',
            current: `job ${policy.jobId}, compress_after ${policy.compressAfter ?? '?'}`,
            wanted: 'no compression policy',
            statements: [await removePolicyStatement(conn, 'compression', table, caps.features.columnstore)],
          }
        : { id: 'compression-policy', title, state: 'in-place', current: 'no compression policy', statements: [] };
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      const { compressed } = await chunkCounts(conn, name);
      return {
        ...result,
        hypertable: name,
        warnings: [],
        compressedChunks: compressed,
        decompressHint: `SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks(${quoteLiteral(table.display)}) c;`,
      };
    },
    hooks.onWait,
  );
}

/** `segment by device_id, order by "timestamp" DESC, id`, or `off`. */
export function describeSettings(s: Pick<CompressionShow, 'enabled' | 'segmentBy' | 'orderBy'>): string {
  return s.enabled
    ? `segment by ${s.segmentBy.map(quoteIfNeeded).join(', ') || '(none)'}, order by ${formatOrderBy(s.orderBy) || '(none)'}`
    : 'off';
}
