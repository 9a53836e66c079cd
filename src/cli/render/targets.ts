/**
 * `status --all-targets` for people: one line per target, in a table that
 * fits 80 columns (a target that could not be reached gets its error, cut to
 * the line; the whole error is in `--json` and in the closing error line).
 */
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { TargetSummary } from '../../status-targets.js';

const WIDTH = 80;
/** The widest the other columns get: server "15.20", "2.28.3 community", "yes", counts; headers included. */
const OTHER_COLUMNS = 6 + 16 + 10 + 8 + 7;
/** Borders and padding of six columns in cli-table3's compact style: "│ " + " │ " x 5 + " │". */
const CHROME = 2 + 3 * 5 + 2;

function cut(text: string, width: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length <= width ? one : one.slice(0, Math.max(1, width - 1)) + '…';
}

function yesNo(v: boolean | null): string {
  return v === null ? '' : v ? 'yes' : 'no';
}

export function renderTargetSummaries(list: readonly TargetSummary[], c: ChalkInstance): string {
  const nameWidth = Math.max(6, WIDTH - CHROME - OTHER_COLUMNS);
  const t = new Table({
    head: ['target', 'server', 'timescaledb', 'hypertable', 'policies', 'failing'].map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  // The name column is as wide as its widest name; an error spans the other five columns, up to the 80th.
  const nameColumn = Math.max(6, ...list.map((s) => cut(s.target, nameWidth).length));
  const room = WIDTH - nameColumn - 7;
  for (const s of list) {
    const name = cut(s.target, nameWidth);
    if (s.error) {
      t.push([name, { colSpan: 5, content: c.red(cut(s.error.message, room)) }]);
      continue;
    }
    t.push([
      name,
      (s.serverVersion ?? '').split(' ')[0]!,
      s.timescaledbVersion ? `${s.timescaledbVersion} ${s.edition ?? ''}`.trim() : 'none',
      yesNo(s.hypertable),
      String(s.policies ?? ''),
      s.failingJobs ? c.red(String(s.failingJobs)) : String(s.failingJobs ?? ''),
    ]);
  }
  return t.toString();
}
