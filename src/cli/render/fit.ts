/**
 * Fitting tables to the terminal (issue 12 §1): how wide the terminal is, and
 * which columns a table keeps and how its values are shortened when it is
 * wider. Pure functions on text; table.ts draws the result.
 */
import { stripVTControlCharacters } from 'node:util';

/** How a table may be narrowed. Columns are named by their header text. */
export interface TableLayout {
  /** Columns hidden when the table is too wide, least important first. */
  drop?: string[];
  /** Identifiers (schema.name): shortened in the middle, keeping both ends. */
  middle?: string[];
  /** Free text: wrapped over lines. */
  wrap?: string[];
  /** Names and labels: cut at the end with "…". */
  end?: string[];
}
// A column without a header (the values of a key/value table) is free text: wrapped.

/** Narrowest a shortened column gets: identifiers stay recognisable, text keeps a few words a line. */
const MIN_MIDDLE = 14;
const MIN_WRAP = 16;
const MIN_END = 12;
/** Last resort for columns that are not meant to shrink, when a table still does not fit. */
const MIN_ANY = 3;

/**
 * The width output is fitted to: the terminal's when stdout is one, else
 * COLUMNS, else 80. Infinity with --wide.
 */
export function detectWidth(
  stream: { isTTY?: boolean; columns?: number },
  env: Readonly<Record<string, string | undefined>>,
  wide: boolean,
): number {
  if (wide) return Infinity;
  if (stream.isTTY && stream.columns && stream.columns > 0) return stream.columns;
  const n = Number(env.COLUMNS);
  return Number.isInteger(n) && n > 0 ? n : 80;
}

/** Characters a terminal shows for this text (colour codes do not count). */
export function visibleLength(text: string): number {
  return [...stripVTControlCharacters(text)].length;
}

function cellWidth(text: string): number {
  return Math.max(0, ...text.split('\n').map(visibleLength));
}

/**
 * An identifier in `width` characters: a schema prefix gives way first
 * ("public.health_checks" → "….health_checks"), then the middle of the name
 * ("device_metrics_hourly" → "device_m…_hourly"), so both ends stay readable.
 */
export function shortenMiddle(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  const dot = text.indexOf('.');
  if (dot > 0) {
    const name = [...text.slice(dot + 1)];
    if (name.length + 2 <= width) return shortenEnd(text.slice(0, dot), width - name.length - 1) + '.' + name.join('');
    return shortenMiddle(name.join(''), width);
  }
  if (width <= 1) return '…'.slice(0, width);
  const keep = width - 1;
  const head = Math.ceil(keep / 2);
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - (keep - head)).join('');
}

export function shortenEnd(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : chars.slice(0, width - 1).join('') + '…';
}

/** Wrap free text at spaces; a word longer than the width is cut. */
export function wrapText(text: string, width: number): string {
  if (!Number.isFinite(width)) return text;
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      let w = word;
      while ([...w].length > width) {
        if (line) lines.push(line);
        line = '';
        lines.push([...w].slice(0, width).join(''));
        w = [...w].slice(width).join('');
      }
      if (line === '') line = w;
      else if (visibleLength(line) + 1 + visibleLength(w) <= width) line = `${line} ${w}`;
      else {
        lines.push(line);
        line = w;
      }
    }
    lines.push(line);
  }
  return lines.join('\n');
}

export interface FittedTable {
  head: string[];
  rows: string[][];
  /** Headers of the columns left out to fit. */
  hidden: string[];
}

/** A table drawn by cli-table3 (compact, padding 1): "│ a │ b │" is widths + 3 per column + 1. */
function drawnWidth(widths: number[]): number {
  return widths.reduce((a, w) => a + w + 3, 1);
}

type Kind = 'middle' | 'wrap' | 'end' | 'fixed';

/** Keep the columns that fit `width`, dropping by layout.drop, then shorten values. */
export function fitTable(head: string[], rows: string[][], width: number, layout: TableLayout = {}): FittedTable {
  if (!Number.isFinite(width)) return { head, rows, hidden: [] };
  const count = Math.max(head.length, ...rows.map((r) => r.length));
  const cols = Array.from({ length: count }, (_, i) => {
    const h = head[i] ?? '';
    const kind: Kind = layout.middle?.includes(h)
      ? 'middle'
      : layout.wrap?.includes(h) || h === ''
        ? 'wrap'
        : layout.end?.includes(h)
          ? 'end'
          : 'fixed';
    const natural = Math.max(cellWidth(h), ...rows.map((r) => cellWidth(r[i] ?? '')));
    const floor = { middle: MIN_MIDDLE, wrap: MIN_WRAP, end: MIN_END, fixed: natural }[kind];
    return { index: i, head: h, kind, natural, min: Math.min(natural, floor) };
  });
  let keep = cols;
  const slack = (cs: typeof cols) => cs.reduce((a, c) => a + c.natural - c.min, 0);
  const over = (cs: typeof cols) => drawnWidth(cs.map((c) => c.natural)) - width;
  for (const name of layout.drop ?? []) {
    if (over(keep) <= slack(keep)) break;
    keep = keep.filter((c) => c.head !== name);
  }
  const widths = shrink(
    keep.map((c) => c.natural),
    keep.map((c) => c.min),
    over(keep),
  );
  // Still too wide (a very narrow terminal): every column may now be cut at its end.
  const last = shrink(
    widths,
    widths.map((w) => Math.min(w, MIN_ANY)),
    drawnWidth(widths) - width,
  );
  const fitted = keep.map((c, k) => ({ ...c, width: last[k] ?? c.natural }));
  return {
    head:
      head.length === 0 ? [] : fitted.map((c) => (cellWidth(c.head) > c.width ? shortenEnd(c.head, c.width) : c.head)),
    rows: rows.map((r) => fitted.map((c) => fitCell(r[c.index] ?? '', c.width, c.kind))),
    hidden: cols.filter((c) => !keep.includes(c)).map((c) => c.head),
  };
}

/** Take `over` characters off the widest columns first, none below its minimum. */
function shrink(widths: number[], mins: number[], over: number): number[] {
  const w = [...widths];
  for (let left = over; left > 0; left--) {
    let widest = -1;
    let widestWidth = -1;
    w.forEach((x, i) => {
      if (x > (mins[i] ?? x) && x > widestWidth) [widest, widestWidth] = [i, x];
    });
    if (widest < 0) break;
    w[widest] = widestWidth - 1;
  }
  return w;
}

function fitCell(text: string, width: number, kind: Kind): string {
  if (cellWidth(text) <= width) return text;
  const plain = stripVTControlCharacters(text);
  if (kind === 'wrap') return wrapText(plain, width);
  const cut = kind === 'middle' ? shortenMiddle : shortenEnd;
  return plain
    .split('\n')
    .map((line) => cut(line, width))
    .join('\n');
}

/**
 * SQL wrapped to `width` for reading (dry runs print what runs): lines break
 * only at spaces outside quotes ('…', "…", $tag$…$tag$), so the text still
 * runs as it is; continuation lines are indented. A token longer than a line
 * stays whole.
 */
export function wrapSqlText(sql: string, width: number): string {
  if (!Number.isFinite(width)) return sql;
  return sql
    .split('\n')
    .map((line) => (visibleLength(line) <= width ? line : wrapSqlLine(line, width)))
    .join('\n');
}

function wrapSqlLine(line: string, width: number): string {
  const breaks = breakableSpaces(line);
  const out: string[] = [];
  let start = 0;
  let indent = '';
  while (visibleLength(indent + line.slice(start)) > width) {
    const limit = start + width - indent.length;
    const candidates = breaks.filter((i) => i > start && i <= limit);
    const at = candidates.length > 0 ? candidates[candidates.length - 1] : breaks.find((i) => i > start);
    if (at === undefined) break;
    out.push(indent + line.slice(start, at));
    start = at + 1;
    indent = '    ';
  }
  out.push(indent + line.slice(start));
  return out.join('\n');
}

/** Positions of spaces outside quoted text and dollar-quoted bodies. */
function breakableSpaces(line: string): number[] {
  const out: number[] = [];
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (line.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = null;
      }
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(line.slice(i));
      if (tag) {
        quote = tag[0];
        i += tag[0].length - 1;
      }
    } else if (ch === ' ') out.push(i);
  }
  return out;
}
