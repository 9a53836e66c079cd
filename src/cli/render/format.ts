/** How values read in tables and messages for people. */

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

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * An interval as PostgreSQL prints it ("01:00:00", "3 days 01:00:00", "1 mon",
 * "00:00:30") the way people write it ("1 hour", "3 days 1 hour", "1 month",
 * "30 seconds"), for tables; --json keeps the server's text. Text that is not
 * an interval comes back as it was.
 */
export function formatInterval(text: string | null | undefined): string {
  if (text === null || text === undefined) return '-';
  const m =
    /^(?:(-?\d+) years? ?)?(?:(-?\d+) mons? ?)?(?:(-?\d+) days? ?)?(?:(-)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?))?$/.exec(
      text.trim(),
    );
  if (!m || text.trim() === '') return text;
  const sign = m[4] ? -1 : 1;
  const parts: [number, string][] = [
    [Number(m[1] ?? 0), 'year'],
    [Number(m[2] ?? 0), 'month'],
    [Number(m[3] ?? 0), 'day'],
    [sign * Number(m[5] ?? 0), 'hour'],
    [sign * Number(m[6] ?? 0), 'minute'],
    [sign * Number(m[7] ?? 0), 'second'],
  ];
  const words = parts.filter(([n]) => n !== 0).map(([n, unit]) => `${n} ${unit}${Math.abs(n) === 1 ? '' : 's'}`);
  return words.length === 0 ? '0' : words.join(' ');
}
