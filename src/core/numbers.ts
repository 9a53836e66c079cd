import { HomepotError } from './errors.js';
import { showValue } from './show.js';

/**
 * bigint columns arrive as strings from postgres.js (by default) and as
 * numbers from clients with a bigint parser; the library accepts both and
 * returns plain numbers (exact below 2^53: byte counts up to 8 PB).
 */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** A count for people: 1,234,567; '-' when unknown. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  return n.toLocaleString('en-US');
}

/**
 * A whole number typed by a user (a count, seconds, a job id), from `min` to
 * `max`: digits only (no sign, exponent, fraction or NaN), a usage error
 * (exit 2) naming the bounds otherwise.
 */
export function parseWhole(
  input: string,
  what: string,
  bounds: { min: number; max: number; hint?: string; unit?: string },
): number {
  const text = input.trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    const range = `a whole number${bounds.unit ? ` of ${bounds.unit}` : ''} from ${formatCount(bounds.min)} to ${formatCount(bounds.max)}`;
    throw new HomepotError('usage', `${what} must be ${range}, got ${showValue(input)}`, {
      hint: bounds.hint ?? `For example ${what} ${Math.min(Math.max(bounds.min, 10), bounds.max)}.`,
    });
  }
  return n;
}
