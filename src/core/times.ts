import { HomepotError } from './errors.js';
import { parseInterval } from './intervals.js';
import { showValue } from './show.js';
import { num } from './numbers.js';

/**
 * Times from the server, read so that no session setting shapes them. Text
 * the server prints for a timestamptz follows the session's DateStyle and
 * TimeZone ('Wed Nov 05 08:00:00 2025 CST' under 'Postgres, MDY' and
 * Asia/Shanghai, which JavaScript, and PostgreSQL itself, read back as US
 * Central); our templates give times as milliseconds since the Unix epoch
 * (`(extract(epoch FROM t) * 1000)::float8`) or as ISO 8601 text in UTC built
 * with to_char, and write them into statements as
 * `'2025-11-05T00:00:00.000000+00:00'::timestamptz`.
 */

/** A time given as milliseconds since the Unix epoch; null for NULL or ±infinity. */
export function epochMs(ms: unknown): Date | null {
  const n = num(ms);
  return n === null || !Number.isFinite(n) ? null : new Date(n);
}

/** TimescaleDB reports "never" as -infinity; JSON and tables want null. */
export function validDate(d: Date | null): Date | null {
  return d instanceof Date && Number.isFinite(d.getTime()) ? d : null;
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A point in time typed by a user (--from, --to): an ISO 8601 timestamp
 * (2025-11-01, 2025-11-01T12:00Z, 2025-11-01 12:00:00+02) or an interval
 * meaning that long ago ("7 days"). Checked before connecting; the text is
 * returned as typed (the server reads it: a timestamp without an offset is in
 * its TimeZone). Numbers alone (`0`, `-1`, which PostgreSQL would read as
 * 2000-01-01) and anything else are refused.
 */
export function parseTimeOrAgo(input: string, what: string): string {
  const text = input.trim();
  const m = ISO_TIME.exec(text);
  if (m) {
    const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1).map((x) => x ?? undefined);
    const t = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
    const valid =
      t.getUTCFullYear() === Number(y) &&
      t.getUTCMonth() === Number(mo) - 1 &&
      t.getUTCDate() === Number(d) &&
      Number(h) < 24 &&
      Number(mi) < 60 &&
      Number(s) < 60 &&
      Number(y) >= 1;
    if (valid) return input;
  } else if (/^-?\s*\d+\s*[a-z]/i.test(text)) {
    parseInterval(input, what);
    return input;
  }
  throw new HomepotError('usage', `${what} ${showValue(input)} is neither a timestamp nor an interval ago`, {
    hint: 'Give a timestamp such as 2025-11-01 or 2025-11-01T12:00Z, or an interval such as "7 days" (meaning 7 days ago).',
  });
}
