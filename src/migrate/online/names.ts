import type { Sql } from '../../db/connection.js';
import type { ResolvedTable } from '../../db/names.js';
import { query, queryOne } from '../../db/sql.js';
import { derivedName, freeIndexName, objectName } from '../../core/identifiers.js';

/**
 * The names an online migration gives what it creates and what it renames:
 * the new table, change log, capture function and old table; temporary names
 * for the copies of the indexes; and the names the indexes and constraints
 * take at the swap. All cut as PostgreSQL cuts identifiers (63 bytes, on a
 * character boundary) with the suffix kept whole.
 */

/** Names of the objects an online migration of `table` uses. */
export function migrationNames(table: string) {
  return {
    newTable: derivedName(table, '_tsdb_new'),
    logTable: derivedName(table, '_tsdb_log'),
    captureFn: derivedName(table, '_tsdb_capture'),
    oldTable: derivedName(table, '_pre_timescaledb'),
  };
}

export type MigrationNames = ReturnType<typeof migrationNames>;

/** An identity column's sequence at the swap: the old table's moves aside, the new table's takes its name. */
export interface Sequence {
  old_seq: string;
  new_seq: string;
  moved: string;
}

function indexNames(conn: Sql, table: ResolvedTable): Promise<{ name: string }[]> {
  return query<{ name: string }>(conn, 'migrate/online/index-names.sql', [table.oid]);
}

async function relationNames(conn: Sql, table: ResolvedTable): Promise<string[]> {
  return (await queryOne<{ names: string[] }>(conn, 'migrate/online/relation-names.sql', [table.oid]))?.names ?? [];
}

/**
 * Temporary names for the copies of the old table's indexes and key
 * constraints: none the schema already has, so the copies can never collide
 * with an index there (the swap gives them the old names back).
 */
export async function tempIndexNames(conn: Sql, table: ResolvedTable): Promise<Record<string, string>> {
  const rows = await indexNames(conn, table);
  const taken = new Set(await relationNames(conn, table));
  const map: Record<string, string> = {};
  rows.forEach((r, i) => {
    let candidate = derivedName(r.name, `_tsdb${i}`);
    for (let j = 1; taken.has(candidate); j++) candidate = derivedName(r.name, `_tsdb${i}_${j}`);
    taken.add(candidate);
    map[r.name] = candidate;
  });
  return map;
}

/** A name for `name` (an old object) once it belongs to the old table, none of `taken`. */
function movedName(name: string, table: ResolvedTable, oldTable: string, taken: Set<string>): string {
  const [base, suffix] = name.startsWith(table.name)
    ? [oldTable, name.slice(table.name.length)]
    : [name, '_pre_timescaledb'];
  let candidate = derivedName(base, suffix);
  for (let i = 1; taken.has(candidate); i++) candidate = derivedName(base, `${suffix}${i}`);
  taken.add(candidate);
  return candidate;
}

/**
 * Names for the swap: the old table's index and constraint names once it is
 * the old table (`<table>_pkey` becomes `<old table>_pkey`, others get
 * `_pre_timescaledb`), and the new table's default time index as TimescaleDB
 * named it and as an in-place conversion would have; cut like PostgreSQL.
 */
export async function swapNames(
  conn: Sql,
  table: ResolvedTable,
  newTable: string,
  oldTable: string,
  timeColumn: string,
): Promise<{ moved: Record<string, string>; sequences: Sequence[]; defaultIndex: string; wantedIndex: string }> {
  const rows = await indexNames(conn, table);
  // Cut names can meet (each other, the old table's name, another relation):
  // then a number goes into the suffix, as PostgreSQL does for names it picks.
  const taken = new Set([oldTable, ...rows.map((r) => r.name), ...(await relationNames(conn, table))]);
  const moved: Record<string, string> = {};
  for (const { name } of rows) moved[name] = movedName(name, table, oldTable, taken);
  const identity = await query<{ old_seq: string; new_seq: string }>(conn, 'migrate/online/identity-sequences.sql', [
    table.oid,
    newTable,
  ]);
  const sequences = identity.map((s) => ({ ...s, moved: movedName(s.old_seq, table, oldTable, taken) }));
  return {
    moved,
    sequences,
    defaultIndex: objectName(newTable, timeColumn, 'idx'),
    // As an in-place conversion would name it (an old index of that name, whose copy takes it back, numbers it).
    wantedIndex: freeIndexName(table.name, timeColumn, taken),
  };
}
