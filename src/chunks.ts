import type { Capabilities } from './db/capabilities.js';
import type { Sql } from './db/connection.js';
import { num } from './core/numbers.js';
import { query, queryOne } from './db/sql.js';
import { resolveHypertable } from './steps/hypertable.js';

/**
 * `chunks`: a hypertable's chunks, newest or oldest first, with their time
 * ranges, sizes and compression; and how many chunks a hypertable has
 * (countChunks, also used by the compression commands). SQL in sql/chunks/.
 */

export interface ChunkInfo {
  schema: string;
  name: string;
  /** Time range (timestamp dimensions) as Dates, or integer range as numbers. */
  rangeStart: Date | number | null;
  rangeEnd: Date | number | null;
  compressed: boolean;
  /** Compressed, with rows inserted later still uncompressed (TimescaleDB's "partial" status); compression run compresses them. */
  partiallyCompressed: boolean;
  totalBytes: number | null;
  beforeCompressionBytes: number | null;
  afterCompressionBytes: number | null;
}

export interface ChunksReport {
  hypertable: { schema: string; name: string };
  /** Chunks in the hypertable, whatever the limit. */
  total: number;
  /** Compressed chunks, the partially compressed ones included. */
  compressed: number;
  partiallyCompressed: number;
  order: 'newest' | 'oldest';
  chunks: ChunkInfo[];
}

interface ChunkRow {
  chunk_schema: string;
  chunk_name: string;
  range_start: Date | null;
  range_end: Date | null;
  range_start_integer: number | null;
  range_end_integer: number | null;
  is_compressed: boolean;
  is_partial: boolean;
  total_bytes: number | null;
  before_compression_bytes: number | null;
  after_compression_bytes: number | null;
}

/** How many chunks a hypertable has, how many of them are compressed, and how many of those partially. */
export async function countChunks(
  sql: Sql,
  table: { schema: string; name: string },
): Promise<{ total: number; compressed: number; partial: number } | undefined> {
  return queryOne<{ total: number; compressed: number; partial: number }>(sql, 'chunks/chunk-counts.sql', [
    table.schema,
    table.name,
  ]);
}

export async function listChunks(
  sql: Sql,
  caps: Capabilities,
  tableName: string,
  options: { limit?: number | null; order?: 'newest' | 'oldest' } = {},
): Promise<ChunksReport> {
  const table = await resolveHypertable(sql, caps, tableName);
  const order = options.order ?? 'newest';
  const rows = await query<ChunkRow>(sql, 'chunks/chunks.sql', [
    table.schema,
    table.name,
    order === 'newest',
    options.limit ?? null,
  ]);
  const counts = await countChunks(sql, table);
  return {
    hypertable: { schema: table.schema, name: table.name },
    total: counts?.total ?? rows.length,
    compressed: counts?.compressed ?? 0,
    partiallyCompressed: counts?.partial ?? 0,
    order,
    chunks: rows.map((r) => ({
      schema: r.chunk_schema,
      name: r.chunk_name,
      rangeStart: r.range_start ?? num(r.range_start_integer),
      rangeEnd: r.range_end ?? num(r.range_end_integer),
      compressed: r.is_compressed,
      partiallyCompressed: r.is_partial,
      totalBytes: num(r.total_bytes),
      beforeCompressionBytes: r.is_compressed ? num(r.before_compression_bytes) : null,
      afterCompressionBytes: r.is_compressed ? num(r.after_compression_bytes) : null,
    })),
  };
}
