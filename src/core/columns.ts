import { HomepotError } from './errors.js';
import { foldIdentifier, MAX_IDENTIFIER_BYTES } from './identifiers.js';
import { showValue } from './show.js';

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
 * nothing else, see foldIdentifier); "Quoted" keeps case. At most 63 bytes:
 * PostgreSQL would cut a longer name and find another column.
 */
export function parseColumnName(input: string, what: string): string {
  const s = input.trim();
  let name: string | null = null;
  if (/^"(?:[^"]|"")+"$/.test(s)) name = s.slice(1, -1).replace(/""/g, '"');
  // PostgreSQL's scanner: ident_start [A-Za-z\200-\377_], ident_cont adds 0-9 and $.
  else if (/^[A-Za-z_\u0080-\u{10FFFF}][A-Za-z0-9_$\u0080-\u{10FFFF}]*$/u.test(s)) name = foldIdentifier(s);
  if (name === null) {
    throw new HomepotError('usage', `${what}: ${showValue(input)} is not a column name`, {
      hint: 'Give column names separated by commas; quote names with capitals or spaces: "My Column".',
    });
  }
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new HomepotError('usage', `${what}: ${showValue(input)} is longer than ${MAX_IDENTIFIER_BYTES} bytes`, {
      hint: `PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes; check the column name.`,
    });
  }
  return name;
}

/** No column twice in one list: PostgreSQL refuses it (segment-by) or it means nothing (order-by). */
function once(names: string[], what: string): string[] {
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    throw new HomepotError('usage', `${what} names column ${showValue(dup)} twice`, {
      hint: 'Give each column once.',
    });
  }
  return names;
}

/**
 * `device_id` or `"a", b` → column names. Empty text is refused: with
 * `allowNone`, the word `none` is the explicit empty list (no segment-by
 * columns); a column named none is written `"none"`.
 */
export function parseColumnList(
  input: string | string[],
  what: string,
  options: { allowNone?: boolean } = {},
): string[] {
  if (options.allowNone && typeof input === 'string' && input.trim().toLowerCase() === 'none') return [];
  const items = Array.isArray(input) ? input.flatMap(splitList) : splitList(input);
  if (items.length === 0 && !(Array.isArray(input) && input.length === 0)) {
    throw new HomepotError('usage', `${what} is empty`, {
      hint: options.allowNone
        ? `Give column names separated by commas, or none for no columns (e.g. ${what} device_id).`
        : `Give column names separated by commas (e.g. ${what} device_id).`,
    });
  }
  return once(
    items.map((i) => parseColumnName(i, what)),
    what,
  );
}

/** `"timestamp" DESC, id` → [{timestamp, desc}, {id, asc}]. */
export function parseOrderBy(input: string, what = '--order-by'): OrderItem[] {
  const items = splitList(input);
  if (items.length === 0)
    throw new HomepotError('usage', `${what} is empty`, { hint: 'For example: --order-by \'"timestamp" DESC, id\'.' });
  const out = items.map((item) => {
    const m = /^([\s\S]*?)(?:\s+(ASC|DESC))?$/i.exec(item)!;
    return { column: parseColumnName(m[1]!, what), descending: (m[2] ?? '').toUpperCase() === 'DESC' };
  });
  once(
    out.map((i) => i.column),
    what,
  );
  return out;
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
