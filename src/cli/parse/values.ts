/**
 * One parser per kind of value a flag, an argument, a variable or a config key
 * carries. Each checks the value where it is parsed, before anything connects,
 * and refuses it with one line naming the flag, the value (shortened, control
 * characters visible) and what would be right: a usage error, exit 2.
 * Commander calls them as argParsers; cli/options.ts calls them for values
 * from the environment and the config file, so the bounds are the same.
 */
import { parseColumnList, parseOrderBy } from '../../core/columns.js';
import { TARGET_NAME } from '../../core/config.js';
import { HomepotError } from '../../core/errors.js';
import { parseInterval, parseLockTimeout, type Interval } from '../../core/intervals.js';
import { parseWhole } from '../../core/numbers.js';
import { showValue } from '../../core/show.js';
import { parseTimeOrAgo } from '../../core/times.js';
import { parseQualifiedName } from '../../db/names.js';
import { normalizeUrl } from '../../db/target.js';

/** A value parser for commander: (text) => value; throws HomepotError (exit 2). */
export type ValueParser<T> = (value: string) => T;

/** Bounds of the counts, chosen so that the server takes them (LIMIT, int4) and a run stays sane. */
export const COUNT_MAX = {
  rows: 2_147_483_647,
  batchRows: 10_000_000,
  jobs: 64,
  sites: 1_000,
  devices: 1_000,
  days: 3_650,
} as const;

/** Seconds to wait for a connection: 1 to 600, on the command line, in HOMEPOT_TS_CONNECT_TIMEOUT and in the config. */
export const CONNECT_TIMEOUT = { min: 1, max: 600 } as const;

/** An interval (at most 1000 years). */
export const interval =
  (what: string): ValueParser<Interval> =>
  (v) =>
    parseInterval(v, what);

/** An interval, or the word none (aggregates policy --start-offset: from the beginning); kept as typed. */
export const intervalOrNone =
  (what: string): ValueParser<string> =>
  (v) => {
    if (v.trim().toLowerCase() !== 'none') parseInterval(v, what);
    return v;
  };

/** A lock timeout (at most 24 days: lock_timeout is an int4 of milliseconds). */
export const lockTimeout =
  (what: string): ValueParser<Interval> =>
  (v) =>
    parseLockTimeout(v, what);

/** A timestamp, or an interval meaning that long ago (--from, --to); kept as typed. */
export const timeOrAgo =
  (what: string): ValueParser<string> =>
  (v) =>
    parseTimeOrAgo(v, what);

/** A count: a whole number from 1 to `max`. */
export const count =
  (what: string, max: number = COUNT_MAX.rows): ValueParser<number> =>
  (v) =>
    parseWhole(v, what, { min: 1, max });

/** Seconds to wait for a connection, 1-600. */
export const connectTimeout =
  (what: string): ValueParser<number> =>
  (v) =>
    parseWhole(v, what, { ...CONNECT_TIMEOUT, unit: 'seconds', hint: `Give ${what} a number of seconds such as 10.` });

/** A background job's id: TimescaleDB's job ids are int4, so at most 2147483647. */
export const jobId: ValueParser<number> = (v) =>
  parseWhole(v, 'job id', { min: 1, max: 2_147_483_647, hint: 'homepot-ts jobs lists the job ids.' });

/** A table name: `table`, `schema.table`, `"Mixed Case"`; checked, kept as typed (the server resolves it). */
export const tableName =
  (what: string): ValueParser<string> =>
  (v) => {
    notEmpty(v, what, 'a table name such as health_checks or public.health_checks');
    parseQualifiedName(v);
    return v;
  };

/** A column name; kept as typed. */
export const columnName =
  (what: string): ValueParser<string> =>
  (v) => {
    notEmpty(v, what, 'a column name such as timestamp');
    if (parseColumnList(v, what).length > 1) {
      throw new HomepotError('usage', `${what} takes one column, got ${showValue(v)}`, {
        hint: 'Give one column name.',
      });
    }
    return v;
  };

/** Segment-by columns: names separated by commas, or `none`; kept as typed. */
export const segmentBy =
  (what: string): ValueParser<string> =>
  (v) => {
    parseColumnList(v, what, { allowNone: true });
    return v;
  };

/** Order-by items (`"timestamp" DESC, id`); kept as typed. */
export const orderBy =
  (what: string): ValueParser<string> =>
  (v) => {
    parseOrderBy(v, what);
    return v;
  };

/**
 * One of a fixed list (--order, --strategy, --require, an aggregate's name).
 * Declared after commander's .choices(), which keeps listing them in --help.
 */
export const choice =
  <T extends string>(what: string, choices: readonly T[]): ValueParser<T> =>
  (v) => {
    if ((choices as readonly string[]).includes(v)) return v as T;
    throw new HomepotError('usage', `${what} must be one of ${choices.join(', ')}, got ${showValue(v)}`, {
      hint: `For example ${what} ${choices[0]}.`,
    });
  };

/** A file or directory path: not empty, no NUL byte (no file system takes one). */
export const path =
  (what: string): ValueParser<string> =>
  (v) => {
    notEmpty(v, what, 'a path');
    if (v.includes('\0')) {
      throw new HomepotError('usage', `${what} ${showValue(v)} holds a NUL character, which no path can`, {
        hint: `Give ${what} a path.`,
      });
    }
    return v;
  };

/** A named target of the config file (--target): the form TARGET_NAME allows; whether it exists is the config's to say. */
export const targetName =
  (what: string): ValueParser<string> =>
  (v) => {
    notEmpty(v, what, 'the name of a target in the config file');
    if (!TARGET_NAME.test(v)) {
      throw new HomepotError('usage', `${what} ${showValue(v)} is not a target name`, {
        hint: 'Target names are letters, digits, "_", "." and "-" (at most 63), as under "targets" in the config file.',
      });
    }
    return v;
  };

/** A PostgreSQL URL (--database-url, --source): postgres://, postgresql:// or postgresql+driver://. */
export const url =
  (what: string): ValueParser<string> =>
  (v) => {
    notEmpty(v, what, 'a URL such as postgresql://user@host:5432/db');
    normalizeUrl(v, what);
    return v;
  };

/** "100MB", "1.5 GB", "512k", "1048576": a size in bytes, from 1 B to 1 PB. */
export const size =
  (what: string): ValueParser<number> =>
  (v) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb|g|gb|t|tb)?\s*$/i.exec(v);
    const unit = (m?.[2] ?? 'b').toLowerCase()[0]!;
    const bytes = m ? Math.round(Number(m[1]) * 1024 ** ({ b: 0, k: 1, m: 2, g: 3, t: 4 }[unit as 'b'] ?? 0)) : NaN;
    if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > 1024 ** 5) {
      throw new HomepotError(
        'usage',
        `${what} must be a size such as 100MB or 2GB (at most 1024TB), got ${showValue(v)}`,
        {
          hint: 'Units: B, kB, MB, GB, TB (powers of 1024).',
        },
      );
    }
    return bytes;
  };

function notEmpty(v: string, what: string, example: string): void {
  if (v.trim() === '') {
    throw new HomepotError('usage', `${what} is empty`, { hint: `Give ${example}, or leave ${what} out.` });
  }
}
