import type { Sql } from '../../db/connection.js';
import { HomepotError } from '../../core/errors.js';
import { derivedName } from '../../core/identifiers.js';
import type { ResolvedTable } from '../../db/names.js';
import { query, renderStatement } from '../../db/sql.js';
import { indexNamesHere, type IndexNames, type TakenNames } from './index-names.js';
import { excerpt, shown, type ColumnFacts, type SourceTable, type TableFacts, type TargetType } from './source.js';

/**
 * The schema of a --source copy on this server, rendered here from the facts
 * read on the source: each table (columns with the defaults we recognise,
 * primary and unique keys, the hypertable, indexes, sequences) and the foreign
 * keys between the copied tables. Whatever exists only as source text is not
 * copied; a warning names it.
 */

/** The target table may exist only as an empty table (a fresh HOMEPOT schema) or a hypertable with our state. */
export async function checkTargetTable(conn: Sql, t: ResolvedTable): Promise<void> {
  const [r] = await conn<{ any: boolean }[]>`SELECT EXISTS (SELECT 1 FROM ${conn(t.schema)}.${conn(t.name)}) AS any`;
  if (r?.any) {
    throw new HomepotError(
      'unsuitable-table',
      `${t.display} on this server already holds rows that no earlier migrate-from-postgres --source copied`,
      {
        hint: 'Copy into an empty database (or one without health_checks), so that no row is doubled.',
      },
    );
  }
  throw new HomepotError('unsuitable-table', `${t.display} already exists on this server (empty)`, {
    hint: `Drop it (DROP TABLE ${t.display};) so that it is created from the source's definition, or migrate into an empty database.`,
  });
}

/**
 * A table an earlier run created here must still have the source's columns
 * (names and types): a column added, dropped or retyped on the source since
 * then is named (exit 4) before anything changes, instead of every window
 * failing verification.
 */
export async function checkSameColumns(conn: Sql, f: TableFacts, here: ResolvedTable): Promise<void> {
  const cols = await conn<{ name: string; type_sql: string }[]>`
    SELECT a.attname::text AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_sql
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = ${here.oid}::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped`;
  const mine = new Map(cols.map((c) => [c.name, c.type_sql]));
  const problems: string[] = [];
  f.types.forEach((ty) => {
    const t = mine.get(ty.name);
    if (t === undefined)
      problems.push(`column ${shown(ty.name)} (${ty.type_sql ?? '?'}) is on the source but not here`);
    else if (t !== ty.type_sql)
      problems.push(`column ${shown(ty.name)} is ${ty.type_sql ?? '?'} on the source but ${t} here`);
  });
  for (const name of mine.keys())
    if (!f.types.some((ty) => ty.name === name)) problems.push(`column ${shown(name)} is here but not on the source`);
  if (problems.length === 0) return;
  throw new HomepotError(
    'unsuitable-table',
    `${f.display} changed on the source since the copy began: ${problems.join('; ')}`,
    {
      hint: `Make ${f.display} here match (ALTER TABLE ... ADD COLUMN / DROP COLUMN / ALTER COLUMN ... TYPE, as on the source), then run again.`,
    },
  );
}

const DEFAULT_EXPRESSIONS = new Set([
  'now()',
  'CURRENT_TIMESTAMP',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'LOCALTIMESTAMP',
  'LOCALTIME',
  'clock_timestamp()',
  'statement_timestamp()',
  'transaction_timestamp()',
  'gen_random_uuid()',
]);

type DefaultPlan = {
  default_kind: string;
  default_value: string | null;
  sequence: string | null;
  seq_schema: string | null;
};

/**
 * How a column's default is re-created here: recognised by a short
 * allow-list, never copied as text. serial: a sequence of our own naming;
 * nextval of a sequence the column does not own: that sequence (its facts
 * read on the source, created here under its own name); a constant: its value
 * bound and quoted here, cast to the column's own type; a few time and uuid
 * functions: fixed text of ours. Any other default is refused before anything
 * changes: the application's INSERTs rely on it, and its text is the source's.
 */
function columnDefault(f: TableFacts, c: ColumnFacts, ty: TargetType): DefaultPlan {
  const none = { default_kind: 'none', default_value: null, sequence: null, seq_schema: null };
  const where = shown(f.table.schema, f.table.name, c.name);
  if (c.generated) {
    // Copied as a plain column, the application's INSERTs would store NULL where the source computed a value.
    throw new HomepotError(
      'unsuitable-table',
      `source server: ${where} is a generated column: its expression is source text homepot-ts does not run, so it cannot create the column here`,
      {
        hint: `Create ${shown(f.table.schema, f.table.name)} on this server yourself (with the generated column), or drop the expression on the source (ALTER TABLE ... ALTER COLUMN ${shown(c.name)} DROP EXPRESSION).`,
      },
    );
  }
  if (c.identity === 'a' || c.identity === 'd' || c.default_text === null) return none;
  const text = c.default_text.trim();
  const seq = c.default_sequence;
  if (c.serial_type && ['int2', 'int4', 'int8'].includes(c.serial_type) && seq?.plain_nextval) {
    // The whole name cut to 63 bytes (suffix included).
    const name = derivedName(`${f.table.name}_${c.name}_seq`, '');
    return { ...none, default_kind: 'serial', sequence: name };
  }
  if (!c.serial_type && seq?.plain_nextval && ['int2', 'int4', 'int8'].includes(seq.type))
    return { ...none, default_kind: 'sequence', sequence: seq.name, seq_schema: seq.schema };
  if (/^NULL(::[a-z ]+)?$/.test(text)) return none;
  if (/^-?\d+(\.\d+)?$/.test(text) || text === 'true' || text === 'false')
    return { ...none, default_kind: 'literal', default_value: text };
  const quoted = /^'((?:[^']|'')*)'::([a-z][a-z0-9_ ]*(?:\(\d+(?:,\d+)?\))?)$/.exec(text);
  if (quoted && (quoted[2] === ty.type_plain || quoted[2] === ty.type_sql)) {
    return { ...none, default_kind: 'literal', default_value: quoted[1]!.replace(/''/g, "'") };
  }
  if (DEFAULT_EXPRESSIONS.has(text)) return { ...none, default_kind: 'expression', default_value: text };
  throw new HomepotError(
    'unsuitable-table',
    `source server: ${where} has the default ${excerpt(text)}, which homepot-ts does not recognise: it creates a default only from a constant, nextval of a sequence, now()/CURRENT_TIMESTAMP and similar, or gen_random_uuid(), and never runs the source's text`,
    {
      hint: `Create ${shown(f.table.schema, f.table.name)} on this server yourself (with that default), or change the default on the source (ALTER TABLE ... ALTER COLUMN ${shown(c.name)} SET DEFAULT ... or DROP DEFAULT).`,
    },
  );
}

/** The sequences the table's defaults use without owning them, created here from their facts (and their schemas). */
async function renderDefaultSequences(conn: Sql, f: TableFacts, plans: DefaultPlan[]): Promise<string[]> {
  const out: string[] = [];
  for (const [i, p] of plans.entries()) {
    const seq = f.columns[i]!.default_sequence;
    if (p.default_kind !== 'sequence' || !seq) continue;
    if (seq.schema !== f.table.schema)
      out.push(await renderStatement(conn, 'migrate/remote/render-schema.sql', [seq.schema]));
    out.push(
      await renderStatement(conn, 'migrate/remote/render-sequence.sql', [
        seq.schema,
        seq.name,
        seq.type,
        seq.start,
        seq.increment,
        seq.min,
        seq.max,
        seq.cache,
        seq.cycle,
      ]),
    );
  }
  return out;
}

/** The statements that create one table here, in order: schema, sequences, table, keys, [hypertable], indexes, OWNED BY. */
export async function renderTable(
  conn: Sql,
  f: TableFacts,
  hypertable: { statement: string; timeColumn: string } | null,
  taken: TakenNames,
  warnings: string[],
): Promise<string[]> {
  const defaults = f.columns.map((c, i) => columnDefault(f, c, f.types[i]!));
  const columns = f.columns.map((c, i) => {
    return {
      ord: i + 1,
      name: c.name,
      type_name: c.type_name,
      typmod: c.typmod,
      not_null: c.not_null,
      identity: c.identity,
      collation_name: c.collation_name,
      serial_type: c.serial_type,
      ...defaults[i]!,
    };
  });
  const table = await query<{ ord: number; statement: string }>(conn, 'migrate/remote/render-table.sql', [
    f.table.schema,
    f.table.name,
    JSON.stringify(columns),
  ]);
  const own = [
    f.table.name,
    ...defaults.flatMap((d) => (d.default_kind === 'serial' && d.sequence ? [d.sequence] : [])),
  ];
  const names = await indexNamesHere(conn, f, hypertable?.timeColumn ?? null, own, taken, warnings);
  const keys = await renderKeys(conn, f, names, warnings);
  const indexes = await renderIndexes(conn, f, names, warnings);
  const sequences = await renderDefaultSequences(conn, f, defaults);
  const at = (ord: number) => table.filter((s) => s.ord === ord).map((s) => s.statement);
  return [
    ...at(1),
    ...sequences,
    ...at(2),
    ...at(3),
    ...keys,
    ...(hypertable ? [hypertable.statement] : []),
    ...(names.renameDefault ? [names.renameDefault] : []),
    ...indexes,
    ...at(6),
  ];
}

const CONSTRAINT_KIND: Record<string, string> = {
  p: 'primary key',
  u: 'unique constraint',
  c: 'CHECK constraint',
  x: 'exclusion constraint',
  t: 'constraint trigger',
};

/** Primary and unique keys rebuilt from their parts; other constraints (source text) get a warning. */
async function renderKeys(conn: Sql, f: TableFacts, names: IndexNames, warnings: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const k of f.constraints) {
    const what = `${CONSTRAINT_KIND[k.type] ?? 'constraint'} ${shown(k.name)} on ${f.display}`;
    if (k.type === 'f') continue; // after every table exists: renderForeignKeys
    if ((k.type === 'p' || k.type === 'u') && !k.special_opclass) {
      keys.push(
        await renderStatement(conn, 'migrate/remote/render-key.sql', [
          f.table.schema,
          f.table.name,
          names.names.get(k.name) ?? k.name,
          k.type,
          k.columns,
          k.include,
          k.nulls_not_distinct,
          k.deferrable,
          k.deferred,
        ]),
      );
    } else if (k.type === 'p' || k.type === 'u') {
      warnings.push(
        `${what} uses an operator class of its own: not copied (its definition is source text homepot-ts does not run); add it by hand if you need it`,
      );
    } else {
      warnings.push(
        `${what} is not copied: its definition is source text homepot-ts does not run; add it by hand if you trust it`,
      );
    }
  }
  return keys;
}

/** Why an index is not rebuilt here (its definition is source text), or null. */
function indexNotCopied(ix: TableFacts['indexes'][number]): string | null {
  if (ix.expressions) return 'on an expression';
  if (ix.partial) return 'partial (with a WHERE clause)';
  if (ix.special_opclass) return 'with an operator class of its own';
  if (ix.special_collation) return 'with a collation of its own';
  if (!['btree', 'hash', 'gist', 'gin', 'brin', 'spgist'].includes(ix.method))
    return `of access method ${shown(ix.method)}`;
  return null;
}

async function renderIndexes(conn: Sql, f: TableFacts, names: IndexNames, warnings: string[]): Promise<string[]> {
  const indexes: string[] = [];
  for (const ix of f.indexes) {
    const why = indexNotCopied(ix);
    if (why) {
      warnings.push(
        `index ${shown(ix.name)} on ${f.display} (${why}) is not copied: its definition is source text homepot-ts does not run; create it by hand if you need it`,
      );
      continue;
    }
    indexes.push(
      await renderStatement(conn, 'migrate/remote/render-index.sql', [
        f.table.schema,
        f.table.name,
        names.names.get(ix.name) ?? ix.name,
        ix.method,
        ix.is_unique,
        ix.columns,
        ix.options,
        ix.include,
        ix.nulls_not_distinct,
      ]),
    );
  }
  return indexes;
}

const FK_ACTIONS = new Set(['a', 'r', 'c', 'n', 'd']);

/** A table's foreign keys, rebuilt here from their parts; only to tables in the copied set. */
export async function renderForeignKeys(
  conn: Sql,
  f: TableFacts,
  tables: SourceTable[],
  warnings: string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const k of f.constraints.filter((c) => c.type === 'f')) {
    const inSet = tables.some((t) => t.schema === k.ref_schema && t.name === k.ref_table);
    if (
      !inSet ||
      !FK_ACTIONS.has(k.on_update) ||
      !FK_ACTIONS.has(k.on_delete) ||
      !['s', 'f'].includes(k.match_type) ||
      k.columns.length !== k.ref_columns.length ||
      k.columns.length === 0
    ) {
      warnings.push(
        `foreign key ${shown(k.name)} on ${f.display} is not copied: ${inSet ? 'it uses options homepot-ts does not rebuild' : 'it references a table outside the copy'}; add it by hand if you need it`,
      );
      continue;
    }
    out.push(
      await renderStatement(conn, 'migrate/remote/render-foreign-key.sql', [
        f.table.schema,
        f.table.name,
        k.name,
        k.columns,
        k.ref_schema,
        k.ref_table,
        k.ref_columns,
        k.match_type,
        k.on_update,
        k.on_delete,
        k.deferrable,
        k.deferred,
      ]),
    );
  }
  return out;
}
