import { HomepotError } from './errors.js';
import { foldIdentifier } from './identifiers.js';

/** An order-by item as typed: `"timestamp" DESC` or `id`. */
export interface OrderItem {
  column: string;
  descending: boolean;
}

/** Split on commas outside double quotes. */
function splitList(input: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of input) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * One column name, PostgreSQL style: unquoted folds A-Z to lower case (and
 * nothing else, see foldIdentifier); "Quoted" keeps case.
 */
export function parseColumnName(input: string, what: string): string {
  const s = input.trim();
  if (/^"(?:[^"]|"")+"$/.test(s)) return s.slice(1, -1).replace(/""/g, '"');
  // PostgreSQL's scanner: ident_start [A-Za-z\200-\377_], ident_cont adds 0-9 and $.
  if (/^[A-Za-z_\u0080-\u{10FFFF}][A-Za-z0-9_$\u0080-\u{10FFFF}]*$/u.test(s)) return foldIdentifier(s);
  throw new HomepotError('usage', `${what}: "${input}" is not a column name`, {
    hint: 'Give column names separated by commas; quote names with capitals or spaces: "My Column".',
  });
}

/** `device_id` or `"a", b` → column names. */
export function parseColumnList(input: string | string[], what: string): string[] {
  const items = Array.isArray(input) ? input.flatMap(splitList) : splitList(input);
  return items.map((i) => parseColumnName(i, what));
}

/** `"timestamp" DESC, id` → [{timestamp, desc}, {id, asc}]. */
export function parseOrderBy(input: string, what = '--order-by'): OrderItem[] {
  const items = splitList(input);
  if (items.length === 0)
    throw new HomepotError('usage', `${what} is empty`, { hint: 'For example: --order-by \'"timestamp" DESC, id\'.' });
  return items.map((item) => {
    const m = /^(.*?)(?:\s+(ASC|DESC))?$/i.exec(item)!;
    return { column: parseColumnName(m[1]!, what), descending: (m[2] ?? '').toUpperCase() === 'DESC' };
  });
}

export function formatOrderBy(items: OrderItem[]): string {
  return items.map((i) => `${quoteIfNeeded(i.column)}${i.descending ? ' DESC' : ''}`).join(', ');
}

/** For messages only (SQL is always quoted by the server). */
export function quoteIfNeeded(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const RESERVED = new Set([
  'timestamp',
  'time',
  'user',
  'order',
  'group',
  'table',
  'select',
  'from',
  'where',
  'limit',
  'offset',
  'default',
]);
