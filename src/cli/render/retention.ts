/**
 * How retention reads for people: retention show (the policy, its schedule and
 * runs, and how retention run would enforce it) and the outcome of retention run
 * (chunks dropped or rows deleted, older than what). Nothing here talks to the
 * database.
 */
import type { CommandContext } from '../context.js';
import { formatInterval, formatTime } from './format.js';
import { printPlanResult } from './plan.js';
import { wrapped } from './table.js';
import { formatCount } from '../../core/numbers.js';
import type { RetentionReport, RetentionRunResult } from '../../index.js';

export function printRetention(ctx: CommandContext, r: RetentionReport): void {
  if (ctx.options.json) {
    ctx.printJson({ command: 'retention show', ...r });
    return;
  }
  const c = ctx.chalk;
  const p = r.policy;
  const lines: [string, string][] = [
    ['table', r.table],
    ['server', r.server],
    [
      'retention policy',
      p
        ? `job ${p.jobId}: drop chunks older than ${formatInterval(p.dropAfter ?? '?')}`
        : c.dim(r.policiesAvailable ? 'none' : 'none (not available here)'),
    ],
  ];
  if (p) {
    lines.push(
      ['schedule', p.scheduled ? `every ${formatInterval(p.scheduleInterval ?? '?')}` : c.yellow('paused')],
      [
        'last run',
        p.lastRunStartedAt
          ? `${formatTime(p.lastRunStartedAt)} (${p.lastRunStatus === 'Failed' ? c.red('Failed') : (p.lastRunStatus ?? '?')})`
          : c.dim('never'),
      ],
      ['next start', p.scheduled ? formatTime(p.nextStart) : '-'],
      ['failures', p.totalFailures > 0 ? c.red(String(p.totalFailures)) : '0'],
    );
  }
  if (r.compressAfter) lines.push(['compression', `after ${formatInterval(r.compressAfter)}`]);
  lines.push([
    'retention run',
    r.runMethod === 'drop_chunks' ? 'drops old chunks (drop_chunks)' : 'deletes old rows in batches (DELETE)',
  ]);
  const width = Math.max(...lines.map(([k]) => k.length));
  ctx.print(lines.map(([k, v]) => wrapped(`${c.bold(k.padEnd(width))}  ${v}`)).join('\n'));
  if (r.note) ctx.logger.info(r.note);
}

/** retention run's plan result (JSON or table) and a one-line summary. */
export function printRetentionRun(ctx: CommandContext, r: RetentionRunResult): void {
  printPlanResult(ctx, 'retention run', r, {
    table: r.table,
    server: r.server,
    edition: r.edition,
    method: r.method,
    olderThan: r.olderThan,
    olderThanSource: r.olderThanSource,
    cutoff: r.cutoff,
    timeColumn: r.timeColumn,
    chunksDropped: r.chunksDropped,
    chunks: r.chunks,
    rowsDeleted: r.rowsDeleted,
    rowsEstimate: r.rowsEstimate,
    rowsCounted: r.rowsCounted,
    batches: r.batches,
    interrupted: r.interrupted,
  });
  ctx.logger.info(runSummary(r));
}

/** Where retention run's age came from, as the summary says it. */
const OLDER_THAN_FROM: Record<RetentionRunResult['olderThanSource'], string> = {
  option: '--older-than',
  policy: "the retention policy's drop_after",
  config: 'config setup.retention or its default',
};

function runSummary(r: RetentionRunResult): string {
  const older = `older than ${r.olderThan} (${OLDER_THAN_FROM[r.olderThanSource]}; before ${formatTime(r.cutoff)})`;
  if (r.method === 'drop_chunks') {
    if (!r.chunksDropped) return `no chunk of ${r.table} lies entirely ${older}: nothing to drop.`;
    const rows =
      r.rowsEstimate === null
        ? 'rows not counted (chunks not analyzed yet)'
        : r.rowsCounted === r.rowsEstimate
          ? `${formatCount(r.rowsEstimate)} rows (counted)`
          : `about ${formatCount(r.rowsEstimate)} rows${r.rowsCounted ? ` (${formatCount(r.rowsCounted)} counted in compressed chunks, the rest estimated from statistics)` : ''}`;
    return `${r.dryRun ? 'would drop' : 'dropped'} ${r.chunksDropped} chunk${r.chunksDropped === 1 ? '' : 's'} of ${r.table} ${older}: ${rows}.`;
  }
  if (!r.rowsDeleted) return `no row of ${r.table} is ${older}: nothing to delete.`;
  return r.dryRun
    ? `would delete ${formatCount(r.rowsDeleted)} rows of ${r.table} ${older}, in batches.`
    : `deleted ${formatCount(r.rowsDeleted)} rows of ${r.table} ${older} in ${r.batches} batch${r.batches === 1 ? '' : 'es'}.`;
}
