import { detectCapabilities, requireWritable, type Capabilities } from '../db/capabilities.js';
import { requireFeature } from '../db/features.js';
import {
  readTimeDimension,
  renderSetChunkInterval,
  resolveHypertable,
  type TimeDimension,
} from '../steps/hypertable.js';
import { quoteIfNeeded } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import type { ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import { applyOptions, applySteps, withChangeLock, type ChangeHooks, type Step } from '../db/plan.js';
import { tuningResult, type ChangeOptions, type TuningResult } from './change.js';

/**
 * `chunk-interval show | set`: the interval new chunks of a hypertable get,
 * read and changed (set_chunk_time_interval; existing chunks keep theirs).
 * Any TimescaleDB edition.
 */

export interface ChunkIntervalReport {
  table: string;
  timeColumn: string;
  /** Interval of new chunks on a time column ("7 days"); null on an integer time column. */
  chunkInterval: string | null;
  /** Chunk size of an integer time column; null on a time column. */
  integerInterval: number | null;
  chunks: number;
}

async function dimension(
  sql: Sql,
  table: ResolvedTable,
  wanted: string | null,
): Promise<TimeDimension & { integer_interval: number | null; chunks: number }> {
  const d = await readTimeDimension(sql, table, wanted);
  if (!d)
    throw new HomepotError('not-a-hypertable', `${table.display} has no time dimension`, {
      hint: 'Run homepot-ts setup to convert it.',
    });
  const [x] = await sql<{ integer_interval: unknown; chunks: number }[]>`
    SELECT (SELECT integer_interval FROM timescaledb_information.dimensions
            WHERE hypertable_schema = ${table.schema} AND hypertable_name = ${table.name} AND dimension_number = 1) AS integer_interval,
           (SELECT count(*)::int FROM timescaledb_information.chunks
            WHERE hypertable_schema = ${table.schema} AND hypertable_name = ${table.name}) AS chunks`;
  return { ...d, integer_interval: num(x?.integer_interval), chunks: x?.chunks ?? 0 };
}

/** The chunk interval new chunks of a hypertable get. Needs TimescaleDB (any edition). */
export async function showChunkInterval(
  sql: Sql,
  caps: Capabilities,
  tableInput: string,
): Promise<ChunkIntervalReport> {
  requireFeature(caps, 'timescaledb', 'chunk-interval');
  const table = await resolveHypertable(sql, caps, tableInput, 'chunk-interval');
  const d = await dimension(sql, table, null);
  return {
    table: table.display,
    timeColumn: d.column_name,
    chunkInterval: d.chunk_interval,
    integerInterval: d.integer_interval,
    chunks: d.chunks,
  };
}

/**
 * set_chunk_time_interval: applies to chunks created from now on; existing
 * chunks keep their size. Unchanged when the interval is already the wanted one.
 */
export async function setChunkInterval(
  sql: Sql,
  opts: ChangeOptions & { interval: Interval },
  hooks: ChangeHooks = {},
): Promise<TuningResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'chunk-interval set');
      requireFeature(caps, 'timescaledb', 'chunk-interval set');
      const table = await resolveHypertable(conn, caps, opts.table, 'chunk-interval set');
      const d = await dimension(conn, table, opts.interval.text);
      if (d.chunk_interval === null) {
        throw new HomepotError(
          'unsuitable-table',
          `${table.display} is partitioned on the integer column ${quoteIfNeeded(d.column_name)} (chunks of ${d.integer_interval ?? '?'}), not on time`,
          {
            hint: 'Set its chunk size with set_chunk_time_interval and a number, by hand.',
          },
        );
      }
      const title = `chunk interval of ${table.display}`;
      const step: Step = d.interval_matches
        ? { id: 'chunk-interval', title, state: 'in-place', current: d.chunk_interval, statements: [] }
        : {
            id: 'chunk-interval',
            title,
            state: 'different',
            current: d.chunk_interval,
            wanted: `${opts.interval.text} (new chunks only; existing chunks keep their size)`,
            statements: [await renderSetChunkInterval(conn, table, opts.interval)],
          };
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      return tuningResult(result, table.display, caps);
    },
    hooks.onWait,
  );
}
