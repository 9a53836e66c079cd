import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';

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

/** A cli-table3 table whose borders follow our colour decision. */
export function table(head: string[], rows: (string | number)[][], c: ChalkInstance): string {
  const t = new Table({
    head: head.map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const r of rows) t.push(r.map((v) => String(v)));
  return t.toString();
}
