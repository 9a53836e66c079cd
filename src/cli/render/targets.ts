/**
 * `status --all-targets` for people: one line per target, in a table that
 * fits 80 columns (a target that could not be reached gets its error, cut to
 * the line; the whole error is in `--json` and in the closing error line).
 */
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { TargetSummary } from '../../status-targets.js';

const WIDTH = 80;
const HEAD = ['target', 'server', 'timescaledb', 'hypertable', 'policies', 'failing'];
/** Borders and padding of six columns in cli-table3's compact style: "│ " + " │ " x 5 + " │". */
const CHROME = 2 + 3 * 5 + 2;

function cut(text: string, width: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length <= width ? one : one.slice(0, Math.max(1, width - 1)) + '…';
}

function yesNo(v: boolean | null): string {
  return v === null ? '' : v ? 'yes' : 'no';
}

/** The five cells after the name, for a target that was reached. */
function cells(s: TargetSummary): string[] {
  return [
    (s.serverVersion ?? '').split(' ')[0]!,
    s.timescaledbVersion ? `${s.timescaledbVersion} ${s.edition ?? ''}`.trim() : 'none',
    yesNo(s.hypertable),
    String(s.policies ?? ''),
    String(s.failingJobs ?? ''),
  ];
}

export function renderTargetSummaries(list: readonly TargetSummary[], c: ChalkInstance): string {
  const reached = list.map((s) => (s.error ? null : cells(s)));
  // The name column gets what the other columns leave of 80; an error spans those five columns.
  const others = HEAD.slice(1).reduce(
    (sum, h, i) => sum + Math.max(h.length, ...reached.map((r) => (r ? r[i]!.length : 0))),
    0,
  );
  const nameWidth = Math.max(6, WIDTH - CHROME - others);
  const nameColumn = Math.max(6, ...list.map((s) => cut(s.target, nameWidth).length));
  const room = WIDTH - nameColumn - 7;
  const t = new Table({
    head: HEAD.map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  list.forEach((s, i) => {
    const name = cut(s.target, nameWidth);
    const row = reached[i];
    if (!row) t.push([name, { colSpan: 5, content: c.red(cut(s.error?.message ?? '', room)) }]);
    else t.push([name, ...row.slice(0, 4), s.failingJobs ? c.red(row[4]!) : row[4]!]);
  });
  return t.toString();
}
