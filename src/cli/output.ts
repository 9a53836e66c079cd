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

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} ${units[i]}` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** ISO-like timestamp without milliseconds, in UTC, for tables. */
export function formatTime(d: Date | string | null | undefined): string {
  if (d === null || d === undefined) return '-';
  const date = typeof d === 'string' ? new Date(d) : d;
  if (Number.isNaN(date.getTime())) return String(d);
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** JSON for stdout: stable key order as built, dates as ISO strings, bigint as numbers. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2);
}
