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
