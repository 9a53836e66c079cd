import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { fitTable, wrapSqlText, wrapText, type TableLayout } from './fit.js';

export type { TableLayout } from './fit.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  debug: boolean;
  /** false when --no-color was given. */
  color: boolean;
}

/**
 * Decide whether a stream gets colour: FORCE_COLOR wins, then --no-color and
 * NO_COLOR, then whether the stream is a terminal. JSON output never has colour.
 */
export function colorLevel(stream: NodeJS.WriteStream, opts: Pick<OutputOptions, 'color' | 'json'>): 0 | 1 | 2 | 3 {
  if (opts.json) return 0;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '') {
    if (force === '0' || force === 'false') return 0;
    const n = Number(force);
    return n >= 1 && n <= 3 ? (n as 1 | 2 | 3) : 1;
  }
  if (!opts.color) return 0;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return 0;
  if (!stream.isTTY) return 0;
  return stream.hasColors?.(256) ? 2 : 1;
}

export function makeChalk(stream: NodeJS.WriteStream, opts: Pick<OutputOptions, 'color' | 'json'>): ChalkInstance {
  return new Chalk({ level: colorLevel(stream, opts) });
}

/**
 * The width human output is fitted to (fit.ts detectWidth): set once per run
 * by the command context; Infinity with --wide. 80 until then.
 */
let outputWidth = 80;

export function setOutputWidth(width: number): void {
  outputWidth = width;
}

export function getOutputWidth(): number {
  return outputWidth;
}

/** Free text for stdout, wrapped to the output width. */
export function wrapped(text: string): string {
  return wrapText(text, outputWidth);
}

/** SQL for stdout, broken at spaces outside quotes to the output width (it still runs as printed). */
export function wrapSql(text: string): string {
  return wrapSqlText(text, outputWidth);
}

/** A comment line above SQL ("-- text"), wrapped to the output width, each line a comment. */
export function sqlComment(text: string): string {
  return wrapText(text, outputWidth - 3)
    .split('\n')
    .map((line) => `-- ${line}`)
    .join('\n');
}

/**
 * A cli-table3 table whose borders follow our colour decision, fitted to the
 * output width: columns in layout.drop are hidden (least important first) and
 * named in a line below, identifiers shortened in the middle, free text wrapped.
 */
export function table(head: string[], rows: (string | number)[][], c: ChalkInstance, layout?: TableLayout): string {
  const fitted = fitTable(
    head,
    rows.map((r) => r.map((v) => String(v))),
    outputWidth,
    layout,
  );
  const t = new Table({
    head: fitted.head.map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const r of fitted.rows) t.push(r);
  if (fitted.hidden.length === 0) return t.toString();
  const note = `not shown to fit ${outputWidth} columns: ${fitted.hidden.join(', ')} (--wide or --json shows them)`;
  return t.toString() + '\n' + c.dim(wrapped(note));
}
