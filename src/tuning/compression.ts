import { requireWritable, type Capabilities } from '../db/capabilities.js';
import { featureGap, requireFeature } from '../db/features.js';
import { resolveHypertable } from '../steps/hypertable.js';
import { formatOrderBy, quoteIfNeeded, type OrderItem } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import { findPolicyJob, validDate } from '../jobs.js';
import { resolveTable, type ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import { applyOptions, applySteps, withChangeLock, type ChangeHooks, type ApplyResult, type Step } from '../db/plan.js';
import { compressionSettingsStep, policyStep } from '../setup.js';
import { sqlFile, renderStatement } from '../db/sql.js';

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

interface SettingsRow {
  compression_enabled: boolean;
  segment_by: string[];
  order_by: string[];
  order_by_desc: boolean[];
}
async function readSettings(sql: Sql, table: HypertableName): Promise<SettingsRow | undefined> {
  const [row] = (await sql.unsafe(sqlFile('setup/compression-settings.sql'), [
    table.schema,
    table.name,
  ])) as unknown as SettingsRow[];
  return row;
}

async function readPolicy(sql: Sql, table: HypertableName): Promise<CompressionPolicy | null> {
  const p = await findPolicyJob(sql, table, 'policy_compression', 'compress_after');
  if (!p) return null;
  return {
    jobId: Number(p.job_id),
    compressAfter: p.interval_setting,
    scheduleInterval: p.schedule_interval,
    scheduled: p.scheduled,
    lastRunStartedAt: validDate(p.last_run_started_at),
    lastRunStatus: p.last_run_status,
    nextStart: validDate(p.next_start),
  };
}

async function chunkCounts(sql: Sql, table: HypertableName): Promise<{ total: number; compressed: number }> {
  const [c] = (await sql.unsafe(sqlFile('compression/chunk-counts.sql'), [table.schema, table.name])) as unknown as {
    total: number;
    compressed: number;
  }[];
  return { total: c?.total ?? 0, compressed: c?.compressed ?? 0 };
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
  const table = await resolveHypertable(sql, caps, tableName);
  const name = { schema: table.schema, name: table.name };
  const chunks = await chunkCounts(sql, name);
  if (why) return { ...base, hypertable: name, available: false, reason: why, enabled: false, chunks };
  const settings = await readSettings(sql, name);
  return {
    hypertable: name,
    available: true,
    reason: null,
    enabled: Boolean(settings?.compression_enabled),
    segmentBy: settings?.segment_by ?? [],
    orderBy: (settings?.order_by ?? []).map((column, i) => ({
      column,
      descending: Boolean(settings?.order_by_desc[i]),
    })),
    policy: await readPolicy(sql, name),
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
 * add_compression_policy or alter_job), so a second run changes nothing.
 */
export async function setCompression(
  sql: Sql,
  caps: Capabilities,
  opts: CompressionSetOptions,
  hooks: ChangeHooks = {},
): Promise<CompressionChangeResult> {
  requireWritable(caps, 'compression set');
  requireFeature(caps, 'community', 'compression set');
  return withChangeLock(
    sql,
    async (conn) => {
      const table = await resolveHypertable(conn, caps, opts.table);
      const steps: Step[] = [
        await compressionSettingsStep(conn, {
          table,
          isHypertable: true,
          segmentBy: opts.segmentBy,
          orderBy: opts.orderBy,
        }),
        await policyStep(conn, {
          id: 'compression-policy',
          title: `compression policy (after ${opts.compressAfter.text})`,
          table,
          installed: true,
          proc: 'policy_compression',
          add: 'add_compression_policy',
          key: 'compress_after',
          interval: opts.compressAfter,
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

/** Remove the compression policy (remove_compression_policy, if_exists); compressed chunks stay compressed. */
export async function removeCompressionPolicy(
  sql: Sql,
  caps: Capabilities,
  opts: { table: string; lockTimeout: Interval; dryRun: boolean },
  hooks: ChangeHooks = {},
): Promise<CompressionRemoveResult> {
  requireWritable(caps, 'compression remove');
  requireFeature(caps, 'community', 'compression remove');
  return withChangeLock(
    sql,
    async (conn) => {
      const table = await resolveHypertable(conn, caps, opts.table);
      const name = { schema: table.schema, name: table.name };
      const policy = await readPolicy(conn, name);
      const title = 'compression policy';
      const step: Step = policy
        ? {
            id: 'compression-policy',
            title,
            state: 'different',
            current: `job ${policy.jobId}, compress_after ${policy.compressAfter ?? '?'}`,
            wanted: 'no compression policy',
            statements: [
              await renderStatement(conn, 'setup/render-remove-policy.sql', [
                'remove_compression_policy',
                table.schema,
                table.name,
              ]),
            ],
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

// ---------------------------------------------------------------- run

export interface CompressionRunOptions {
  table: string;
  /** --older-than; null: the policy's compress_after, else `defaultOlderThan`. */
  olderThan: Interval | null;
  /** config `setup.compressAfter`, else the seed's 7 days. */
  defaultOlderThan: Interval;
  lockTimeout: Interval;
  dryRun: boolean;
}

export interface CompressionRunResult extends CompressionChangeResult {
  olderThan: string;
  /** Where olderThan came from: the flag, the compression policy, or the config/seed default. */
  olderThanSource: 'flag' | 'policy' | 'default';
  /** Chunks this run compressed (0 on --dry-run). */
  chunksCompressed: number;
  /** Their total size before and after compression. */
  beforeBytes: number;
  afterBytes: number;
}

interface EligibleRow {
  chunk_schema: string;
  chunk_name: string;
  range_start: Date | null;
  range_end: Date | null;
  total_bytes: number | null;
  statement: string;
}

/**
 * Compress the uncompressed chunks older than the cut-off now, one chunk per
 * transaction (a step each), oldest first; stops cleanly between chunks on
 * the signal. --dry-run lists them.
 */
export async function runCompression(
  sql: Sql,
  caps: Capabilities,
  opts: CompressionRunOptions,
  hooks: ChangeHooks & { onPlan?: (chunks: number) => void } = {},
): Promise<CompressionRunResult> {
  requireWritable(caps, 'compression run');
  requireFeature(caps, 'community', 'compression run');
  return withChangeLock(
    sql,
    async (conn) => {
      const table = await resolveHypertable(conn, caps, opts.table);
      const name = { schema: table.schema, name: table.name };
      const settings = await readSettings(conn, name);
      if (!settings?.compression_enabled) {
        throw new HomepotError('unsuitable-table', `compression is not enabled on ${table.display}`, {
          hint: `Enable it first: homepot-ts compression set${table.name === 'health_checks' ? '' : ` --table ${table.display}`}.`,
        });
      }
      const policy = await readPolicy(conn, name);
      const [olderThan, olderThanSource]: [string, CompressionRunResult['olderThanSource']] = opts.olderThan
        ? [opts.olderThan.text, 'flag']
        : policy?.compressAfter
          ? [policy.compressAfter, 'policy']
          : [opts.defaultOlderThan.text, 'default'];
      const rows = (await conn.unsafe(sqlFile('compression/eligible-chunks.sql'), [
        table.schema,
        table.name,
        olderThan,
      ])) as unknown as EligibleRow[];
      const steps: Step[] = rows.map((r) => ({
        id: `chunk:${r.chunk_schema}.${r.chunk_name}`,
        title: `compress ${r.chunk_schema}.${r.chunk_name}`,
        state: 'needed',
        current: `uncompressed${r.range_start ? `, ${rangeText(r.range_start, r.range_end)}` : ''}`,
        wanted: 'compressed',
        statements: [r.statement],
      }));
      hooks.onPlan?.(steps.length);
      const result = await applySteps(conn, steps, applyOptions(opts, hooks));
      const done = new Set(result.steps.filter((s) => s.outcome === 'created').map((s) => s.id));
      let beforeBytes = 0;
      let afterBytes = 0;
      if (done.size > 0) {
        for (const s of await chunkStats(conn, name)) {
          if (!done.has(`chunk:${s.schema}.${s.name}`)) continue;
          beforeBytes += s.beforeBytes ?? 0;
          afterBytes += s.afterBytes ?? 0;
        }
      }
      return {
        ...result,
        hypertable: name,
        warnings: [],
        olderThan,
        olderThanSource,
        chunksCompressed: done.size,
        beforeBytes,
        afterBytes,
      };
    },
    hooks.onWait,
  );
}

// ---------------------------------------------------------------- stats

export interface ChunkCompressionStats {
  schema: string;
  name: string;
  /** 'Compressed', 'Uncompressed' (TimescaleDB's words). */
  status: string | null;
  rangeStart: Date | null;
  rangeEnd: Date | null;
  beforeBytes: number | null;
  afterBytes: number | null;
  /** before / after, rounded to 2 decimals; null for uncompressed chunks. */
  ratio: number | null;
}

export interface HypertableCompressionStats {
  schema: string;
  name: string;
  totalChunks: number;
  compressedChunks: number;
  beforeBytes: number | null;
  afterBytes: number | null;
  ratio: number | null;
  chunks: ChunkCompressionStats[];
}

async function chunkStats(sql: Sql, table: HypertableName): Promise<ChunkCompressionStats[]> {
  const rows = (await sql.unsafe(sqlFile('compression/chunk-stats.sql'), [table.schema, table.name])) as unknown as {
    chunk_schema: string;
    chunk_name: string;
    compression_status: string | null;
    range_start: Date | null;
    range_end: Date | null;
    before_bytes: number | null;
    after_bytes: number | null;
  }[];
  return rows.map((r) => {
    const beforeBytes = num(r.before_bytes);
    const afterBytes = num(r.after_bytes);
    return {
      schema: r.chunk_schema,
      name: r.chunk_name,
      status: r.compression_status,
      rangeStart: r.range_start,
      rangeEnd: r.range_end,
      beforeBytes,
      afterBytes,
      ratio: ratio(beforeBytes, afterBytes),
    };
  });
}

/**
 * Sizes before and after compression, per hypertable and per chunk. With a
 * table: that hypertable; without: every hypertable with compression enabled.
 */
export async function compressionStats(
  sql: Sql,
  caps: Capabilities,
  tableName: string | null,
): Promise<HypertableCompressionStats[]> {
  requireFeature(caps, 'community', 'compression stats');
  let tables: HypertableName[];
  if (tableName !== null) {
    const t: ResolvedTable = await resolveHypertable(sql, caps, tableName);
    tables = [{ schema: t.schema, name: t.name }];
  } else {
    tables = (await sql.unsafe(sqlFile('compression/compressed-hypertables.sql'))) as unknown as HypertableName[];
  }
  const out: HypertableCompressionStats[] = [];
  for (const t of tables) {
    const [h] = (await sql.unsafe(sqlFile('compression/hypertable-stats.sql'), [t.schema, t.name])) as unknown as {
      total_chunks: number;
      compressed_chunks: number;
      before_bytes: number | null;
      after_bytes: number | null;
    }[];
    const counts = h
      ? { total: Number(h.total_chunks), compressed: Number(h.compressed_chunks) }
      : await chunkCounts(sql, t);
    const beforeBytes = num(h?.before_bytes ?? null);
    const afterBytes = num(h?.after_bytes ?? null);
    out.push({
      schema: t.schema,
      name: t.name,
      totalChunks: counts.total,
      compressedChunks: counts.compressed,
      beforeBytes,
      afterBytes,
      ratio: ratio(beforeBytes, afterBytes),
      chunks: await chunkStats(sql, t),
    });
  }
  return out;
}

// ---------------------------------------------------------------- helpers

export function ratio(before: number | null, after: number | null): number | null {
  return before !== null && after !== null && after > 0 ? Math.round((before / after) * 100) / 100 : null;
}

/** For a hint a person copies; the name is already quoted by the server (format %I). */
function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function rangeText(start: Date, end: Date | null): string {
  const d = (x: Date) => x.toISOString().slice(0, 16).replace('T', ' ');
  return end ? `${d(start)} → ${d(end)}` : d(start);
}

/** `segment by device_id, order by "timestamp" DESC, id`, or `off`. */
export function describeSettings(s: Pick<CompressionShow, 'enabled' | 'segmentBy' | 'orderBy'>): string {
  return s.enabled
    ? `segment by ${s.segmentBy.map(quoteIfNeeded).join(', ') || '(none)'}, order by ${formatOrderBy(s.orderBy) || '(none)'}`
    : 'off';
}
