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
