import { detectCapabilities, requireWritable } from '../db/capabilities.js';
import { requireFeature } from '../db/features.js';
import { resolveHypertable } from '../steps/hypertable.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import type { ResolvedTable } from '../db/names.js';
import { applyOptions, applySteps, withChangeLock, type ApplyResult, type ChangeHooks, type Step } from '../db/plan.js';
import { query } from '../db/sql.js';
import { readCompressionSettings } from '../steps/compression-settings.js';
import { readPolicy } from '../steps/policy.js';
import type { CompressionChangeResult, HypertableName } from './compression.js';
import { chunkStats } from './compression-stats.js';

/**
 * `compression run`: compress the uncompressed chunks older than the
 * cut-off now, and the partially compressed ones (rows inserted after
 * compression) (the flag, else the policy's compress_after, else the
 * default), one chunk per transaction, oldest first, with their sizes
 * before and after. SQL in sql/compression/.
 */

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
  /** Compressed, with rows inserted since still uncompressed. */
  partial: boolean;
  statement: string;
}

function rangeText(start: Date, end: Date | null): string {
  const d = (x: Date) => x.toISOString().slice(0, 16).replace('T', ' ');
  return end ? `${d(start)} → ${d(end)}` : d(start);
}

/** The cut-off: the flag, else the compression policy's compress_after, else the default. */
async function cutoff(
  conn: Sql,
  name: HypertableName,
  opts: CompressionRunOptions,
): Promise<[string, CompressionRunResult['olderThanSource']]> {
  if (opts.olderThan) return [opts.olderThan.text, 'flag'];
  const policy = await readPolicy(conn, name, 'compression');
  return policy?.setting ? [policy.setting, 'policy'] : [opts.defaultOlderThan.text, 'default'];
}

/** One step per chunk to compress, oldest first (convert_to_columnstore, or compress_chunk before 2.18). */
async function chunkSteps(conn: Sql, table: ResolvedTable, olderThan: string, columnstore: boolean): Promise<Step[]> {
  const params = [table.schema, table.name, olderThan, columnstore];
  const rows = await query<EligibleRow>(conn, 'compression/eligible-chunks.sql', params);
  return rows.map((r) => ({
    id: `chunk:${r.chunk_schema}.${r.chunk_name}`,
    title: `${r.partial ? 'recompress' : 'compress'} ${r.chunk_schema}.${r.chunk_name}`,
    state: r.partial ? 'different' : 'needed',
    current: `${r.partial ? 'partially compressed (rows inserted after compression)' : 'uncompressed'}${r.range_start ? `, ${rangeText(r.range_start, r.range_end)}` : ''}`,
    wanted: 'compressed',
    statements: [r.statement],
  }));
}

/** The chunks the run compressed (or recompressed), and their sizes before and after. */
async function compressedSizes(conn: Sql, name: HypertableName, result: ApplyResult) {
  const done = new Set(result.steps.filter((s) => s.outcome === 'created' || s.outcome === 'updated').map((s) => s.id));
  let beforeBytes = 0;
  let afterBytes = 0;
  if (done.size > 0) {
    for (const s of await chunkStats(conn, name)) {
      if (!done.has(`chunk:${s.schema}.${s.name}`)) continue;
      beforeBytes += s.beforeBytes ?? 0;
      afterBytes += s.afterBytes ?? 0;
    }
  }
  return { chunksCompressed: done.size, beforeBytes, afterBytes };
}

/**
 * Compress the uncompressed chunks older than the cut-off now, one chunk per
 * transaction (a step each), oldest first; stops cleanly between chunks on
 * the signal. --dry-run lists them.
 */
export async function runCompression(
  sql: Sql,
  opts: CompressionRunOptions,
  hooks: ChangeHooks & { onPlan?: (chunks: number) => void } = {},
): Promise<CompressionRunResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'compression run');
      requireFeature(caps, 'community', 'compression run');
      const table = await resolveHypertable(conn, caps, opts.table, 'compression run');
      const name = { schema: table.schema, name: table.name };
      const settings = await readCompressionSettings(conn, name);
      if (!settings?.enabled) {
        throw new HomepotError('unsuitable-table', `compression is not enabled on ${table.display}`, {
          hint: `Enable it first: homepot-ts compression set${table.name === 'health_checks' ? '' : ` --table ${table.display}`}.`,
        });
      }
      const [olderThan, olderThanSource] = await cutoff(conn, name, opts);
      const steps = await chunkSteps(conn, table, olderThan, caps.features.columnstore);
      hooks.onPlan?.(steps.length);
      const result = await applySteps(conn, steps, applyOptions(opts, hooks));
      const sizes = await compressedSizes(conn, name, result);
      return { ...result, hypertable: name, warnings: [], olderThan, olderThanSource, ...sizes };
    },
    hooks.onWait,
  );
}
