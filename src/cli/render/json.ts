/** JSON for stdout: stable key order as built, dates as ISO strings, bigint as numbers. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2);
}
