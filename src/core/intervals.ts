import { HomepotError } from './errors.js';

/** A validated, positive interval, in PostgreSQL's own text form ("7 days"). */
export interface Interval {
  /** Canonical text for PostgreSQL, e.g. "7 days", "12 hours", "1 month 2 days". */
  text: string;
  /** Approximate length in seconds (a month counts 30 days, a year 365.25), for comparisons and warnings. */
  seconds: number;
}

const UNITS: Record<string, { name: string; seconds: number }> = {};
function unit(name: string, seconds: number, ...aliases: string[]) {
  for (const a of [name, name + 's', ...aliases]) UNITS[a] = { name, seconds };
}
unit('second', 1, 's', 'sec', 'secs');
unit('minute', 60, 'm', 'min', 'mins');
unit('hour', 3600, 'h', 'hr', 'hrs');
unit('day', 86400, 'd');
unit('week', 7 * 86400, 'w');
unit('month', 30 * 86400, 'mo', 'mon', 'mons');
unit('year', 365.25 * 86400, 'y', 'yr', 'yrs');

/**
 * Parse an interval typed by a user: PostgreSQL text ("7 days", "1 month 2
 * days") or short forms ("7d", "12h", "1w", "30m" = minutes, "3mo"). Checked
 * here, before any SQL runs: unknown units, negative and zero lengths are
 * refused with a message naming the problem.
 */
export function parseInterval(input: string, what = 'interval'): Interval {
  const raw = input.trim().toLowerCase();
  const fail = (problem: string): never => {
    throw new HomepotError('usage', `${what} "${input}" ${problem}`, {
      hint: 'Use PostgreSQL interval text such as "7 days" or "12 hours", or a short form: 30m, 12h, 7d, 1w, 3mo, 1y.',
    });
  };
  if (raw === '') fail('is empty');
  if (/^-|\s-/.test(raw)) fail('is negative; it must be a positive length of time');
  const parts: string[] = [];
  let seconds = 0;
  const re = /(\d+)\s*([a-z]+)/y;
  let pos = 0;
  while (pos < raw.length) {
    while (raw[pos] === ' ' || raw[pos] === ',') pos++;
    if (pos >= raw.length) break;
    re.lastIndex = pos;
    const m = re.exec(raw);
    if (!m) {
      if (/^\d+$/.test(raw.slice(pos).trim())) fail('has no unit (write 7 days, 7d, ...)');
      fail(`is not an interval (could not read "${raw.slice(pos)}")`);
    }
    const n = Number(m![1]);
    const u = UNITS[m![2]!];
    if (!u) fail(`has an unknown unit "${m![2]}"`);
    if (!Number.isSafeInteger(n)) fail('is too large');
    parts.push(`${n} ${u!.name}${n === 1 ? '' : 's'}`);
    seconds += n * u!.seconds;
    pos = re.lastIndex;
  }
  if (seconds <= 0) fail('is zero; it must be a positive length of time');
  return { text: parts.join(' '), seconds };
}

/** commander argParser: a usage error (exit 2) on a bad interval. */
export function intervalOption(flag: string) {
  return (value: string): Interval => parseInterval(value, flag);
}
