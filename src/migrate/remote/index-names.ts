import type { Sql } from '../../db/connection.js';
import { freeIndexName, freeName } from '../../core/identifiers.js';
import { queryOne, renderStatement } from '../../db/sql.js';
import { shown, type TableFacts } from './source.js';

/**
 * The names the keys and indexes of a table a --source copy creates take
 * here: the source's, so that the application (and its Alembic migrations)
 * find them, unless another relation of the schema here has one; then the
 * name gets a number (cut to 63 bytes) and a warning says so. TimescaleDB's
 * default time index is named by PostgreSQL when the hypertable is created
 * (health_checks_timestamp_idx, numbered when taken); when a source index
 * has that name, the default index moves to the next free number, as the
 * online migration's swap does, and the source's index keeps its name.
 */

/** The relation names of each schema here, and the names this run's statements take (shared by a run's tables). */
export type TakenNames = Map<string, Set<string>>;

async function takenIn(conn: Sql, schema: string, names: TakenNames): Promise<Set<string>> {
  let taken = names.get(schema);
  if (!taken) {
    const r = await queryOne<{ names: string[] }>(conn, 'migrate/remote/relation-names.sql', [schema]);
    taken = new Set(r?.names ?? []);
    names.set(schema, taken);
  }
  return taken;
}

export interface IndexNames {
  /** Source key or index name -> its name here. */
  names: Map<string, string>;
  /** The statement renaming the default time index (after create_hypertable), or null. */
  renameDefault: string | null;
}

/** Names here for `f`'s keys and indexes (and its own name, sequences taken), in the order they are created. */
export async function indexNamesHere(
  conn: Sql,
  f: TableFacts,
  timeColumn: string | null,
  ownNames: string[],
  names: TakenNames,
  warnings: string[],
): Promise<IndexNames> {
  const taken = await takenIn(conn, f.table.schema, names);
  const before = new Set(taken);
  for (const n of ownNames) taken.add(n);
  const out = new Map<string, string>();
  const claim = (name: string, what: string) => {
    const here = freeName(name, taken);
    if (here !== name)
      warnings.push(
        `${what} ${shown(name)} on ${f.display} is named ${shown(here)} here: another relation of schema ${shown(f.table.schema)} on this server has its name`,
      );
    taken.add(here);
    out.set(name, here);
  };
  const keys = f.constraints.filter((k) => k.type === 'p' || k.type === 'u');
  for (const k of keys) claim(k.name, k.type === 'p' ? 'primary key' : 'unique constraint');
  let renameDefault: string | null = null;
  const defaultIndex = timeColumn === null ? null : freeIndexName(f.table.name, timeColumn, taken);
  if (defaultIndex !== null) taken.add(defaultIndex);
  const wanted = new Set(f.indexes.map((ix) => ix.name));
  for (const ix of f.indexes) {
    if (ix.name === defaultIndex && !before.has(ix.name)) {
      // The source's index keeps its name; TimescaleDB's default index takes the next number.
      const moved = freeIndexName(f.table.name, timeColumn!, new Set([...taken, ...wanted]));
      taken.add(moved);
      renameDefault = await renderStatement(conn, 'migrate/remote/render-rename-index.sql', [
        f.table.schema,
        defaultIndex,
        moved,
      ]);
      out.set(ix.name, ix.name);
    } else claim(ix.name, 'index');
  }
  return { names: out, renameDefault };
}
