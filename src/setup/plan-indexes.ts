import { quoteIfNeeded } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { findRelation, parseQualifiedName, type ResolvedTable } from '../db/names.js';
import type { Step } from '../db/plan.js';
import { queryOne, renderStatement } from '../db/sql.js';
import type { SetupOptions } from '../setup.js';

/**
 * setup's index steps (every server): the (segment-by, time DESC) index on
 * the table, and devices(site_id) when there is a devices table. An index is
 * in place when one with the same columns and directions exists, whatever its
 * name. SQL in sql/setup/.
 */

interface WantedIndex {
  name: string;
  table: ResolvedTable;
  columns: string[];
  descending: boolean[];
}

/** The indexes setup wants on this table (and on devices, when there is one). */
async function wantedIndexes(sql: Sql, table: ResolvedTable, opts: SetupOptions): Promise<WantedIndex[]> {
  const wanted: WantedIndex[] = [];
  if (opts.segmentBy.length > 0) {
    wanted.push({
      name:
        table.name === 'health_checks' && opts.segmentBy.join() === 'device_id'
          ? 'idx_health_checks_device_time'
          : `idx_${table.name}_${opts.segmentBy.join('_')}_time`.slice(0, 63),
      table,
      columns: [...opts.segmentBy, opts.timeColumn],
      descending: [...opts.segmentBy.map(() => false), true],
    });
  }
  const devices =
    (await findRelation(sql, { schema: table.schema, name: 'devices' })) ??
    (await findRelation(sql, parseQualifiedName('devices')));
  if (devices && devices.relkind === 'r') {
    wanted.push({ name: 'idx_devices_site', table: devices, columns: ['site_id'], descending: [false] });
  }
  return wanted;
}

async function indexStep(sql: Sql, ix: WantedIndex): Promise<Step> {
  const id = `index:${ix.name}`;
  const title = `index ${ix.name} on ${ix.table.display} (${ix.columns.map((c, i) => quoteIfNeeded(c) + (ix.descending[i] ? ' DESC' : '')).join(', ')})`;
  const columnsExist = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_attribute
    WHERE attrelid = ${ix.table.oid} AND attnum > 0 AND NOT attisdropped AND attname = ANY (${ix.columns}::name[])`;
  if ((columnsExist[0]?.n ?? 0) !== new Set(ix.columns).size) {
    const reason = `${ix.table.display} lacks one of the columns ${ix.columns.join(', ')}`;
    return { id, title, state: 'not-available', statements: [], reason };
  }
  const descending = ix.descending.map(String);
  const existing = await queryOne<{ index_name: string }>(sql, 'setup/matching-index.sql', [
    ix.table.oid,
    ix.columns,
    descending,
    ix.name,
  ]);
  if (existing) return { id, title, state: 'in-place', current: existing.index_name, statements: [] };
  const params = [ix.name, ix.table.schema, ix.table.name, ix.columns, descending];
  return {
    id,
    title,
    state: 'needed',
    statements: [await renderStatement(sql, 'setup/render-create-index.sql', params)],
  };
}

/** One step per wanted index, in order. */
export async function indexSteps(sql: Sql, table: ResolvedTable, opts: SetupOptions): Promise<Step[]> {
  const steps: Step[] = [];
  for (const ix of await wantedIndexes(sql, table, opts)) steps.push(await indexStep(sql, ix));
  return steps;
}
