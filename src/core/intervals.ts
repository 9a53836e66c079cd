import { HomepotError } from './errors.js';
import { showValue } from './show.js';

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

const YEAR = 365.25 * 86400;

/**
 * The longest interval any option takes: 1000 years. PostgreSQL's timestamps
 * end in 4713 BC, so `now() - interval` for a longer one (`1000000 years`) fails
 * on the server with "timestamp out of range", and a chunk interval or policy
 * age that long means nothing.
 */
const MAX_INTERVAL = { seconds: 1000 * YEAR, text: '1000 years' };

/**
 * lock_timeout is an integer number of milliseconds: at most 2147483647 ms,
 * 24 days 20 hours (`SET lock_timeout = '30 days'` fails on the server).
 */
const MAX_LOCK_TIMEOUT = { seconds: 2_147_483, text: '24 days' };

const HINT = 'Use PostgreSQL interval text such as "7 days" or "12 hours", or a short form: 30m, 12h, 7d, 1w, 3mo, 1y.';

/**
 * Parse an interval typed by a user: PostgreSQL text ("7 days", "1 month 2
 * days") or short forms ("7d", "12h", "1w", "30m" = minutes, "3mo"). Checked
 * here, before any SQL runs: unknown units, a unit given twice ("7d7d", which
 * PostgreSQL refuses), negative and zero lengths, and lengths above `max`
 * (default MAX_INTERVAL) are refused with a message naming the problem.
 */
export function parseInterval(
  input: string,
  what = 'interval',
  max: { seconds: number; text: string } = MAX_INTERVAL,
): Interval {
  const raw = input.trim().toLowerCase();
  const fail = (problem: string): never => {
    throw new HomepotError('usage', `${what} ${showValue(input)} ${problem}`, { hint: HINT });
  };
  if (raw === '') fail('is empty');
  if (/^-|\s-/.test(raw)) fail('is negative; it must be a positive length of time');
  const parts: string[] = [];
  const seen = new Set<string>();
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
      fail('is not an interval');
    }
    const n = Number(m![1]);
    const u = UNITS[m![2]!];
    if (!u) fail(`has an unknown unit ${showValue(m![2]!)}`);
    if (seen.has(u!.name)) fail(`gives ${u!.name}s twice; give each unit once (7 days, 1 month 2 days)`);
    seen.add(u!.name);
    if (!Number.isSafeInteger(n) || n * u!.seconds > max.seconds) fail(`is too long: at most ${max.text}`);
    parts.push(`${n} ${u!.name}${n === 1 ? '' : 's'}`);
    seconds += n * u!.seconds;
    pos = re.lastIndex;
  }
  if (seconds <= 0) fail('is zero; it must be a positive length of time');
  if (seconds > max.seconds) fail(`is too long: at most ${max.text}`);
  return { text: parts.join(' '), seconds };
}

/** A lock timeout: an interval PostgreSQL's lock_timeout can hold (at most 24 days). */
export function parseLockTimeout(input: string, what = 'lock timeout'): Interval {
  return parseInterval(input, what, MAX_LOCK_TIMEOUT);
}
