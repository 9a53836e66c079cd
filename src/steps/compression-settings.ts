import type { Sql } from '../db/connection.js';
import { formatOrderBy, quoteIfNeeded, type OrderItem } from '../core/columns.js';
import { requireColumns, type ResolvedTable } from '../db/names.js';
import type { Step } from '../db/plan.js';
import { queryOne, renderStatement } from '../db/sql.js';

/**
 * A hypertable's compression settings (segment-by and order-by columns), for
 * setup and the compression commands: readCompressionSettings reads them,
 * compressionSettingsStep plans the ALTER TABLE that makes them the wanted
 * ones. SQL in sql/steps/.
 */

export interface CompressionSettings {
  enabled: boolean;
  segmentBy: string[];
  orderBy: OrderItem[];
}

/** The hypertable's compression settings, or undefined when it is not a hypertable. */
export async function readCompressionSettings(
  sql: Sql,
  table: { schema: string; name: string },
): Promise<CompressionSettings | undefined> {
  const row = await queryOne<{
    compression_enabled: boolean;
    segment_by: string[];
    order_by: string[];
    order_by_desc: boolean[];
  }>(sql, 'steps/compression-settings.sql', [table.schema, table.name]);
  if (!row) return undefined;
  return {
    enabled: row.compression_enabled,
    segmentBy: row.segment_by,
    orderBy: row.order_by.map((column, i) => ({ column, descending: Boolean(row.order_by_desc[i]) })),
  };
}

/** `segment by device_id, order by "timestamp" DESC`: a plan step's words for settings. */
export function settingsText(segmentBy: string[], orderBy: OrderItem[]): string {
  return `segment by ${segmentBy.map(quoteIfNeeded).join(', ') || '(none)'}, order by ${formatOrderBy(orderBy)}`;
}

function sameSettings(current: CompressionSettings, segmentBy: string[], orderBy: OrderItem[]): boolean {
  const key = (o: OrderItem) => `${o.column}/${o.descending}`;
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return current.enabled && same(current.segmentBy, segmentBy) && same(current.orderBy.map(key), orderBy.map(key));
}

/**
 * The compression-settings step: compare the hypertable's segment-by and
 * order-by with the wanted ones and, when they differ, render the ALTER TABLE
 * that sets them: with the columnstore option names where the server has them
 * (`columnstore`, TimescaleDB 2.18+), else the compression ones. Both write
 * the same settings, so either reads back the same. Shared by setup and
 * `compression set`.
 */
export async function compressionSettingsStep(
  sql: Sql,
  p: { table: ResolvedTable; isHypertable: boolean; segmentBy: string[]; orderBy: OrderItem[]; columnstore: boolean },
): Promise<Step> {
  await requireCompressionColumns(sql, p.table, p.segmentBy, p.orderBy);
  const settingsStatement = await renderStatement(sql, 'steps/render-compression-settings.sql', [
    p.table.schema,
    p.table.name,
    p.segmentBy,
    p.orderBy.map((o) => o.column),
    p.orderBy.map((o) => String(o.descending)),
    p.columnstore,
  ]);
  const current = p.isHypertable ? await readCompressionSettings(sql, p.table) : undefined;
  const same = current !== undefined && sameSettings(current, p.segmentBy, p.orderBy);
  return {
    id: 'compression',
    title: 'compression (columnstore) settings',
    wanted: settingsText(p.segmentBy, p.orderBy),
    current: current?.enabled ? settingsText(current.segmentBy, current.orderBy) : 'off',
    state: same ? 'in-place' : current?.enabled ? 'different' : 'needed',
    statements: same ? [] : [settingsStatement],
  };
}

/** The segment-by and order-by columns exist (exit 4 otherwise), also where compression is not available. */
export async function requireCompressionColumns(
  sql: Sql,
  table: ResolvedTable,
  segmentBy: string[],
  orderBy: OrderItem[],
): Promise<void> {
  await requireColumns(sql, table, segmentBy, '--segment-by');
  await requireColumns(
    sql,
    table,
    orderBy.map((o) => o.column),
    '--order-by',
  );
}
