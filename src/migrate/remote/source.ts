import { quoteIfNeeded } from '../../core/columns.js';
import { connectUrl, type Connection, type Sql } from '../../db/connection.js';
import { describeError } from '../../db/describe-error.js';
import { HomepotError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { findRelation, parseQualifiedName, resolveTable, type ResolvedTable } from '../../db/names.js';
import { query } from '../../db/sql.js';

/**
 * The source server of a --source copy, which is data, never code: its
 * connection (search_path pinned to pg_catalog, pg_temp as a startup
 * parameter, our session settings), the table there, and the facts read in
 * its catalog (columns, constraints, indexes) with every column's type looked
 * up on this server. Names read there are shown escaped in messages.
 */

// The same text for the same row on both servers; no JIT and no wait for the WAL flush at
// each batch's commit (see withMigrationSession: each batch carries its own progress mark).
export const SESSION = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '1',
  jit: 'off',
  synchronous_commit: 'off',
};
/** Nothing the source's owner created can shadow what our queries call there. */
const SOURCE_SEARCH_PATH = 'pg_catalog, pg_temp';

export interface SourceTable {
  oid: number;
  schema: string;
  name: string;
  depth: number;
  row_estimate: string;
  pages: string;
}

export interface ColumnFacts {
  attnum: number;
  name: string;
  type_schema: string;
  type_name: string;
  /** pg_type.typtype: e enum, d domain, b base ... */
  type_kind: string;
  domain_base: string | null;
  typmod: number;
  not_null: boolean;
  identity: string;
  generated: string;
  collation_schema: string | null;
  collation_name: string | null;
  default_text: string | null;
  serial_type: string | null;
  /** The sequence a default uses (columns.sql), as facts; plain_nextval: the default is exactly nextval of it. */
  default_sequence: SequenceFacts | null;
}

export interface SequenceFacts {
  schema: string;
  name: string;
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  plain_nextval: boolean;
}

export interface ConstraintFacts {
  name: string;
  type: string;
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[];
  on_update: string;
  on_delete: string;
  match_type: string;
  deferrable: boolean;
  deferred: boolean;
  include: string[];
  nulls_not_distinct: boolean;
  special_opclass: boolean;
}

export interface IndexFacts {
  name: string;
  method: string;
  is_unique: boolean;
  partial: boolean;
  expressions: boolean;
  columns: string[];
  options: number[];
  include: string[];
  nulls_not_distinct: boolean;
  special_opclass: boolean;
  special_collation: boolean;
}

/** A column's type as this server knows it (render-types.sql). */
export interface TargetType {
  ord: number;
  name: string;
  type_schema: string;
  type_name: string;
  type_sql: string | null;
  type_plain: string | null;
  is_json: boolean;
  is_integer: boolean;
  collation_ok: boolean;
}

export interface TableFacts {
  table: SourceTable;
  display: string;
  columns: ColumnFacts[];
  types: TargetType[];
  constraints: ConstraintFacts[];
  indexes: IndexFacts[];
  /** Primary key columns (empty without one). */
  key: string[];
  /** The first integer column of the primary key: the keys copied from the source are remembered by it. */
  intKey: string | null;
}

/** Connect to the source with the pinned search_path and our session settings; errors name the source. */
export async function connectSource(sourceUrl: string, logger: Logger): Promise<Connection> {
  let source;
  try {
    source = await connectUrl(sourceUrl, {
      logger,
      connectTimeout: 10,
      max: 1,
      startup: { search_path: SOURCE_SEARCH_PATH },
    });
  } catch (err) {
    const e = describeError(err);
    throw new HomepotError(e.kind, `source server: ${e.message}`, {
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.sqlstate ? { sqlstate: e.sqlstate } : {}),
      cause: err,
    });
  }
  try {
    for (const [k, v] of Object.entries({ ...SESSION, search_path: SOURCE_SEARCH_PATH }))
      await source.sql`SELECT pg_catalog.set_config(${k}, ${v}, false)`;
  } catch (err) {
    await source.close().catch(() => {});
    throw err;
  }
  return source;
}

/**
 * The table on the source. The source's sessions search pg_catalog only, so a
 * name without a schema means public there (as on this server), never whatever
 * the source's own search_path would have found.
 */
export async function sourceTable(src: Sql, table: string): Promise<ResolvedTable> {
  const q = parseQualifiedName(table);
  const found =
    (await findRelation(src, { schema: q.schema ?? 'public', name: q.name })) ??
    (await resolveTable(src, table).catch((err: unknown) => {
      const e = err as HomepotError;
      throw new HomepotError(e.kind ?? 'unknown-table', `source server: ${e.message}`, {
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }));
  if (found.relkind !== 'r' && found.relkind !== 'p') {
    throw new HomepotError('unsuitable-table', `source server: ${found.display} is not a table`, {
      hint: "Point --table at HOMEPOT's health_checks table.",
    });
  }
  return found;
}

// eslint-disable-next-line no-control-regex -- control characters are what these messages escape
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const escapeControl = (text: string) =>
  text.replace(CONTROL_CHARACTERS, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A name read on the source, for a message: quoted where needed, control characters escaped. */
export function shown(...parts: string[]): string {
  return parts.map((p) => escapeControl(quoteIfNeeded(p))).join('.');
}

/** A piece of source text, for a message: one line, at most 120 characters, control characters escaped. */
export function excerpt(text: string): string {
  const one = escapeControl(text);
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

/** The facts of one table on the source; every column's type must be a built-in one here. */
export async function readFacts(src: Sql, conn: Sql, t: SourceTable): Promise<TableFacts> {
  const display = shown(t.schema, t.name);
  const columns = await query<ColumnFacts>(src, 'migrate/remote/columns.sql', [t.oid]);
  const constraints = await query<ConstraintFacts>(src, 'migrate/remote/constraints.sql', [t.oid]);
  const indexes = await query<IndexFacts>(src, 'migrate/remote/indexes.sql', [t.oid]);
  const types = await query<TargetType>(conn, 'migrate/remote/render-types.sql', [
    JSON.stringify(
      columns.map((c, i) => ({
        ord: i + 1,
        name: c.name,
        type_schema: c.type_schema,
        type_name: c.type_name,
        typmod: c.typmod,
        collation_schema: c.collation_schema,
        collation_name: c.collation_name,
      })),
    ),
  ]);
  for (const ty of types) requireBuiltIn(t, display, ty, columns[ty.ord - 1]!);
  const pk = constraints.find((k) => k.type === 'p');
  const key = pk && !pk.special_opclass ? pk.columns : [];
  const intKey = key.find((k) => types.find((ty) => ty.name === k)?.is_integer) ?? null;
  return { table: t, display, columns, types, constraints, indexes, key, intKey };
}

function requireBuiltIn(t: SourceTable, display: string, ty: TargetType, c: ColumnFacts): void {
  const where = shown(t.schema, t.name, ty.name);
  const type = shown(ty.type_schema, ty.type_name);
  if (!ty.type_sql && c.type_kind === 'e') {
    throw new HomepotError(
      'unsuitable-table',
      `source server: column ${where} has the enum type ${type}: homepot-ts does not create enum types on this server yet, so it cannot create ${display} here`,
      {
        hint: `Create the type (with the same labels in the same order) and ${display} on this server yourself, or give the column a built-in type (text) on the source.`,
      },
    );
  }
  if (!ty.type_sql && c.type_kind === 'd') {
    // A domain's CHECK constraints are source text; one without them would still hide a rule the source may add later.
    throw new HomepotError(
      'unsuitable-table',
      `source server: column ${where} has the domain type ${type} (over ${excerpt(c.domain_base ?? '?')}): homepot-ts does not create domains, whose CHECK constraints are source text it never runs`,
      {
        hint: `Create the domain and ${display} on this server yourself, or give the column its base type on the source.`,
      },
    );
  }
  if (!ty.type_sql) {
    throw new HomepotError(
      'unsuitable-table',
      `source server: column ${shown(t.schema, t.name, ty.name)} has type ${shown(ty.type_schema, ty.type_name)}, which is not a built-in type on this server: homepot-ts creates columns of built-in (pg_catalog) types only`,
      {
        hint: `Create ${display} on this server yourself (with that type), or give the column a built-in type on the source.`,
      },
    );
  }
  if (!ty.collation_ok) {
    throw new HomepotError(
      'unsuitable-table',
      `source server: column ${shown(t.schema, t.name, ty.name)} has collation ${shown(c.collation_schema ?? '?', c.collation_name ?? '?')}, which is not a built-in collation on this server`,
      {
        hint: `Create ${display} on this server yourself, or use a built-in collation on the source.`,
      },
    );
  }
}
