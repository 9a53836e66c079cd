import type { Capabilities } from './db/capabilities.js';
import type { Sql } from './db/connection.js';
import { num } from './core/numbers.js';
import { sqlFile } from './db/sql.js';
import { resolveHypertable } from './steps/hypertable.js';

export interface ChunkInfo {
  schema: string;
  name: string;
  /** Time range (timestamp dimensions) as Dates, or integer range as numbers. */
  rangeStart: Date | number | null;
  rangeEnd: Date | number | null;
  compressed: boolean;
  totalBytes: number | null;
  beforeCompressionBytes: number | null;
  afterCompressionBytes: number | null;
}

export interface ChunksReport {
  hypertable: { schema: string; name: string };
  /** Chunks in the hypertable, whatever the limit. */
  total: number;
  compressed: number;
  order: 'newest' | 'oldest';
  chunks: ChunkInfo[];
}

export async function listChunks(
  sql: Sql,
  caps: Capabilities,
  tableName: string,
  options: { limit?: number | null; order?: 'newest' | 'oldest' } = {},
): Promise<ChunksReport> {
  const table = await resolveHypertable(sql, caps, tableName);
  const order = options.order ?? 'newest';
  const rows = (await sql.unsafe(sqlFile('queries/chunks.sql'), [
    table.schema,
    table.name,
    order === 'newest',
    options.limit ?? null,
  ])) as unknown as {
    chunk_schema: string;
    chunk_name: string;
    range_start: Date | null;
    range_end: Date | null;
    range_start_integer: number | null;
    range_end_integer: number | null;
    is_compressed: boolean;
    total_bytes: number | null;
    before_compression_bytes: number | null;
    after_compression_bytes: number | null;
  }[];
  const [counts] = await sql<{ total: number; compressed: number }[]>`
    SELECT count(*)::int AS total, count(*) FILTER (WHERE is_compressed)::int AS compressed
    FROM timescaledb_information.chunks
    WHERE hypertable_schema = ${table.schema} AND hypertable_name = ${table.name}`;
  return {
    hypertable: { schema: table.schema, name: table.name },
    total: counts?.total ?? rows.length,
    compressed: counts?.compressed ?? 0,
    order,
    chunks: rows.map((r) => ({
      schema: r.chunk_schema,
      name: r.chunk_name,
      rangeStart: r.range_start ?? num(r.range_start_integer),
      rangeEnd: r.range_end ?? num(r.range_end_integer),
      compressed: r.is_compressed,
      totalBytes: num(r.total_bytes),
      beforeCompressionBytes: r.is_compressed ? num(r.before_compression_bytes) : null,
      afterCompressionBytes: r.is_compressed ? num(r.after_compression_bytes) : null,
    })),
  };
}
