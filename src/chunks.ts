import type { Capabilities } from './db/capabilities.js';
import type { Sql } from './db/connection.js';
import { num } from './core/numbers.js';
import { query, queryOne } from './db/sql.js';
import { resolveHypertable } from './steps/hypertable.js';
import { parseInterval } from './core/intervals.js';
import { parseTimeOrAgo } from './core/times.js';

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
  /** Chunks in the hypertable, whatever the filters and the limit. */
  total: number;
  /** Chunks the filters (since, compressed) keep, whatever the limit. */
  matching: number;
  /** Compressed chunks, the partially compressed ones included. */
  compressed: number;
  partiallyCompressed: number;
  /** The hypertable's size (hypertable_size: tables, indexes, TOAST, compressed chunks). */
  totalBytes: number | null;
  /** Start of the oldest chunk's range and end of the newest one's (Dates, or numbers for integer time). */
  oldest: Date | number | null;
  newest: Date | number | null;
  order: 'newest' | 'oldest';
  /** The filters applied: since as typed, compressed true/false (null: both), the limit (null: all). */
  filters: { since: string | null; compressed: boolean | null; limit: number | null };
  chunks: ChunkInfo[];
}

export interface ChunksOptions {
  /** At most this many chunks (null or absent: all). */
  limit?: number | null;
  order?: 'newest' | 'oldest';
  /** Only chunks holding rows from this time on: a timestamp, or an interval meaning that long ago ("2 days"). */
  since?: string | null;
  /** true: compressed chunks only; false: uncompressed only. */
  compressed?: boolean | null;
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

/**
 * A hypertable's chunks, filtered and limited in SQL (bind parameters), and a
 * summary of all of them: at 10,000 chunks only the page shown is read.
 */
export async function listChunks(
  sql: Sql,
  caps: Capabilities,
  tableName: string,
  options: ChunksOptions = {},
): Promise<ChunksReport> {
  const table = await resolveHypertable(sql, caps, tableName);
  const order = options.order ?? 'newest';
  const since = options.since ?? null;
  if (since !== null) parseTimeOrAgo(since, '--since');
  const ago = since !== null && /^-?\s*\d+\s*[a-z]/i.test(since.trim()) ? parseInterval(since, '--since').text : null;
  const at = since !== null && ago === null ? since : null;
  const compressed = options.compressed ?? null;
  const rows = await query<ChunkRow>(sql, 'chunks/chunks.sql', [
    table.schema,
    table.name,
    order === 'newest',
    options.limit ?? null,
    at,
    ago,
    compressed,
  ]);
  const s = await queryOne<SummaryRow>(sql, 'chunks/summary.sql', [table.schema, table.name, at, ago, compressed]);
  return {
    hypertable: { schema: table.schema, name: table.name },
    total: s?.total ?? rows.length,
    matching: s?.matching ?? rows.length,
    compressed: s?.compressed ?? 0,
    partiallyCompressed: s?.partial ?? 0,
    totalBytes: num(s?.total_bytes),
    oldest: s?.oldest ?? num(s?.oldest_integer),
    newest: s?.newest ?? num(s?.newest_integer),
    order,
    filters: { since, compressed, limit: options.limit ?? null },
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

interface SummaryRow {
  total: number;
  matching: number;
  compressed: number;
  partial: number;
  total_bytes: number | null;
  oldest: Date | null;
  newest: Date | null;
  oldest_integer: number | null;
  newest_integer: number | null;
}
