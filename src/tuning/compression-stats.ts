import type { Capabilities } from '../db/capabilities.js';
import { requireFeature } from '../db/features.js';
import { resolveHypertable } from '../steps/hypertable.js';
import type { Sql } from '../db/connection.js';
import { num } from '../core/numbers.js';
import { query, queryOne } from '../db/sql.js';
import { countChunks } from '../chunks.js';
import type { HypertableName } from './compression.js';

/**
 * `compression stats`: sizes before and after compression, per hypertable
 * and per chunk; and the per-chunk sizes `compression run` reports for the
 * chunks it compressed. SQL in sql/compression/.
 */

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

export function ratio(before: number | null, after: number | null): number | null {
  return before !== null && after !== null && after > 0 ? Math.round((before / after) * 100) / 100 : null;
}

/** How many chunks the hypertable has and how many are compressed (0 and 0 when it has none). */
export async function chunkCounts(sql: Sql, table: HypertableName): Promise<{ total: number; compressed: number }> {
  const c = await countChunks(sql, table);
  return { total: c?.total ?? 0, compressed: c?.compressed ?? 0 };
}

/** Each chunk's compression status and sizes, oldest first. */
export async function chunkStats(sql: Sql, table: HypertableName): Promise<ChunkCompressionStats[]> {
  const rows = await query<{
    chunk_schema: string;
    chunk_name: string;
    compression_status: string | null;
    range_start: Date | null;
    range_end: Date | null;
    before_bytes: number | null;
    after_bytes: number | null;
  }>(sql, 'compression/chunk-stats.sql', [table.schema, table.name]);
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

async function hypertableStats(sql: Sql, t: HypertableName): Promise<HypertableCompressionStats> {
  const h = await queryOne<{
    total_chunks: number;
    compressed_chunks: number;
    before_bytes: number | null;
    after_bytes: number | null;
  }>(sql, 'compression/hypertable-stats.sql', [t.schema, t.name]);
  const counts = h
    ? { total: Number(h.total_chunks), compressed: Number(h.compressed_chunks) }
    : await chunkCounts(sql, t);
  const beforeBytes = num(h?.before_bytes ?? null);
  const afterBytes = num(h?.after_bytes ?? null);
  return {
    schema: t.schema,
    name: t.name,
    totalChunks: counts.total,
    compressedChunks: counts.compressed,
    beforeBytes,
    afterBytes,
    ratio: ratio(beforeBytes, afterBytes),
    chunks: await chunkStats(sql, t),
  };
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
    const t = await resolveHypertable(sql, caps, tableName, 'compression stats');
    tables = [{ schema: t.schema, name: t.name }];
  } else {
    tables = await query<HypertableName>(sql, 'compression/compressed-hypertables.sql');
  }
  const out: HypertableCompressionStats[] = [];
  for (const t of tables) out.push(await hypertableStats(sql, t));
  return out;
}
