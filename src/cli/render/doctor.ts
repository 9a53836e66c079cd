import Table from 'cli-table3';
import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../context.js';
import type { CheckStatus, DoctorReport } from '../../doctor/doctor.js';

/**
 * `doctor` for people: one table of checks (check, status, finding wrapped
 * to fit 80 columns), then the fixes, each under its check's name so a
 * command or SQL line can be copied whole. `--json`: the report as it is.
 */

const WIDTH = 80;
const CHECK_COL = 22;
const STATUS_COL = 9;

export function printDoctor(ctx: CommandContext, report: DoctorReport): void {
  if (ctx.options.json) {
    ctx.printJson(report);
    return;
  }
  ctx.print(renderDoctor(report, ctx.chalk));
}

function paint(c: ChalkInstance, s: CheckStatus): string {
  if (s === 'ok') return c.green(s);
  if (s === 'warning') return c.yellow(s);
  if (s === 'problem') return c.red(s);
  return c.dim(s);
}

export function renderDoctor(report: DoctorReport, c: ChalkInstance): string {
  const t = new Table({
    head: ['check', 'status', 'finding'].map((h) => c.bold(h)),
    style: { head: [], border: [], compact: true },
    // Borders take 4 columns; each column's width includes its padding.
    colWidths: [CHECK_COL, STATUS_COL, WIDTH - 4 - CHECK_COL - STATUS_COL],
    wordWrap: true,
    wrapOnWordBoundary: true,
  });
  for (const check of report.checks) t.push([check.id, paint(c, check.status), check.finding]);
  const out = [t.toString()];
  const fixes = report.checks.filter((x) => x.fix && x.status !== 'ok');
  if (fixes.length > 0) {
    out.push('', c.bold('Fixes'));
    for (const x of fixes) {
      out.push(`${x.id} (${x.fix!.kind}):`);
      for (const line of x.fix!.text.split('\n')) out.push(`  ${line}`);
    }
  }
  const n = report.counts;
  out.push(
    '',
    `${n.ok} ok, ${n.warning} warning${n.warning === 1 ? '' : 's'}, ${n.problem} problem${n.problem === 1 ? '' : 's'}, ${n['n/a']} not applicable`,
  );
  return out.join('\n');
}
