import { requireTimescaledb, type Capabilities } from './db/capabilities.js';
import type { Sql } from './db/connection.js';
import { HomepotError } from './core/errors.js';
import { resolveTable, type ResolvedTable } from './db/names.js';
import { num } from './core/numbers.js';
import { sqlFile } from './db/sql-files.js';

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

/** Check a typed name is a hypertable here; the error says what to do when it is not. */
export async function resolveHypertable(sql: Sql, caps: Capabilities, input: string): Promise<ResolvedTable> {
  requireTimescaledb(caps, 'chunks');
  const table = await resolveTable(sql, input);
  const [row] = await sql<{ ok: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                   WHERE hypertable_schema = ${table.schema} AND hypertable_name = ${table.name}) AS ok`;
  if (!row?.ok) {
    throw new HomepotError(
      'not-a-hypertable',
      `${table.display} is a plain ${table.relkind === 'v' ? 'view' : 'table'}, not a hypertable`,
      {
        hint:
          table.name === 'health_checks'
            ? 'Run homepot-ts setup to convert it.'
            : `Convert it with homepot-ts setup --table ${table.display}.`,
      },
    );
  }
  return table;
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
