import { foldIdentifier, MAX_IDENTIFIER_BYTES } from '../core/identifiers.js';
import { showValue } from '../core/show.js';
import type { Sql } from './connection.js';
import { query } from './sql.js';
import { HomepotError } from '../core/errors.js';

/** A table name as a user typed it, split into parts, never SQL. */
export interface QualifiedName {
  schema: string | null;
  name: string;
}

/** Trim the whitespace PostgreSQL's scanner skips (space, tab, newline, CR, FF, VT), nothing else. */
function trimSpace(text: string): string {
  return text.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '');
}

/**
 * Parse a possibly schema-qualified name the way PostgreSQL does:
 * unquoted parts fold A-Z to lower case, "double quoted" parts keep case and may
 * hold any character ("" for a quote). Anything else is just part of the name,
 * so `x; drop table devices` is looked up as a (missing) table, never run.
 */
export function parseQualifiedName(input: string): QualifiedName {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  let wasQuoted = false;
  const push = () => {
    const part = wasQuoted ? cur : foldIdentifier(trimSpace(cur));
    if (part === '') {
      throw new HomepotError('usage', `${showValue(input)} is not a valid table name (empty part)`, {
        hint: 'Give a table name such as health_checks, public.health_checks or "My Table".',
      });
    }
    parts.push(part);
    cur = '';
    wasQuoted = false;
  };
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (quoted) {
      if (ch === '"') {
        if (input[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"' && trimSpace(cur) === '') {
      quoted = true;
      wasQuoted = true;
      cur = '';
    } else if (ch === '.') {
      push();
    } else if (wasQuoted) {
      if (trimSpace(ch) !== '') {
        throw new HomepotError('usage', `${showValue(input)} is not a valid table name (text after a closing quote)`, {
          hint: 'Quote the whole part: "My Table", or schema."My Table".',
        });
      }
    } else cur += ch;
  }
  if (quoted) {
    throw new HomepotError('usage', `${showValue(input)} is not a valid table name (unclosed double quote)`, {
      hint: 'Close the quote: "My Table".',
    });
  }
  push();
  const long = parts.find((p) => Buffer.byteLength(p) > MAX_IDENTIFIER_BYTES);
  if (long !== undefined) {
    // PostgreSQL would cut it to 63 bytes and find whatever table has the shorter name.
    throw new HomepotError(
      'usage',
      `${showValue(input)} is not a table name: longer than ${MAX_IDENTIFIER_BYTES} bytes`,
      {
        hint: `PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes; check the table name.`,
      },
    );
  }
  if (parts.length > 2) {
    throw new HomepotError('usage', `${showValue(input)} has too many parts; give table or schema.table`, {
      hint: 'Connect to the right database with --database-url instead of naming it.',
    });
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: null, name: parts[0]! };
}

export interface ResolvedTable {
  oid: number;
  schema: string;
  name: string;
  /** r = table, p = partitioned table, v = view, m = materialized view, f = foreign table */
  relkind: string;
  /** schema.name, quoted where needed, for messages. */
  display: string;
}

/**
 * Find a table by a typed name: in the given schema, or the first schema on
 * the search_path that has it (as PostgreSQL would). Every part is a bound
 * parameter. Returns null when there is none.
 */
export async function findRelation(sql: Sql, q: QualifiedName): Promise<ResolvedTable | null> {
  const rows = await sql<{ oid: number; schema: string; name: string; relkind: string; display: string }[]>`
    SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
           format('%I.%I', n.nspname, c.relname) AS display
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = ${q.name}
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND ${q.schema === null ? sql`n.nspname = ANY (current_schemas(false))` : sql`n.nspname = ${q.schema}`}
    ORDER BY array_position(current_schemas(false), n.nspname::text)
    LIMIT 1`;
  return rows[0] ?? null;
}

/** Like findRelation, but an unknown table is an error that says what exists. */
export async function resolveTable(sql: Sql, input: string): Promise<ResolvedTable> {
  const q = parseQualifiedName(input);
  const found = await findRelation(sql, q);
  if (found) return found;
  // A helpful hint: the same name in another case or schema.
  const near = await sql<{ display: string }[]>`
    SELECT format('%I.%I', n.nspname, c.relname) AS display
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE lower(c.relname) = lower(${q.name}) AND c.relkind IN ('r', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE '\\_timescaledb%'
    LIMIT 3`;
  const shown = q.schema === null ? q.name : `${q.schema}.${q.name}`;
  throw new HomepotError('unknown-table', `table ${showValue(shown)} does not exist`, {
    hint:
      near.length > 0
        ? `Did you mean ${near.map((r) => r.display).join(' or ')}? Quote mixed-case names: '"MyTable"'.`
        : 'Check the name (homepot-ts status lists the HOMEPOT tables), or give schema.table.',
  });
}

/**
 * Columns a user named (segment-by, order-by) must be columns of the table, on
 * every kind of server, also where the step that uses them is not available:
 * a name that matches nothing is exit 4, not a server error or a silent skip.
 */
export async function requireColumns(sql: Sql, table: ResolvedTable, columns: string[], what: string): Promise<void> {
  const missing = await query<{ name: string }>(sql, 'db/missing-columns.sql', [table.oid, [...new Set(columns)]]);
  if (missing.length === 0) return;
  const names = missing.map((m) => showValue(m.name)).join(', ');
  throw new HomepotError(
    'unknown-column',
    `${what}: ${table.display} has no column${missing.length > 1 ? 's' : ''} ${names}`,
    { hint: `Check the column names (\\d ${table.display} in psql lists them).` },
  );
}
