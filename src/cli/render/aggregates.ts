/**
 * How the aggregates read for people: the aggregates table (aggregates list, and
 * the freshness section of status), the materialized windows of create-aggregates
 * and aggregates refresh, and the refresh result (table or JSON). Nothing here
 * talks to the database: it gets what the library returned.
 */
import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration, formatInterval, formatTime } from './format.js';
import { getOutputWidth, table, wrapSql } from './table.js';
import { describePolicy } from '../../aggregates/definitions.js';
import { formatCount } from '../../core/numbers.js';
import type { AggregateInfo, MaterializeResult, RefreshResult } from '../../index.js';

export function renderAggregatesTable(list: AggregateInfo[], ctx: Pick<CommandContext, 'chalk'>): string {
  const c = ctx.chalk;
  return table(
    ['aggregate', 'kind', 'policy', 'last refresh', 'materialized up to', 'rows', 'size'],
    list.map((a) => [
      a.name + (a.definitionMatches === false ? c.yellow(' (definition differs)') : ''),
      !a.exists
        ? c.red('missing')
        : a.kind === 'continuous'
          ? `continuous${a.realTime ? ', real-time' : ''}`
          : a.kind === 'table'
            ? 'table'
            : a.kind === 'materialized'
              ? c.yellow('materialized view')
              : String(a.kind),
      a.policy
        ? `job ${a.policy.jobId}, ${describePolicy({
            schedule: formatInterval(a.policy.schedule),
            startOffset: a.policy.startOffset === null ? null : formatInterval(a.policy.startOffset),
            endOffset: a.policy.endOffset === null ? null : formatInterval(a.policy.endOffset),
          })}`
        : a.kind === 'table' || a.kind === 'materialized'
          ? c.dim('none: cron aggregates refresh')
          : a.exists
            ? c.yellow('none')
            : '-',
      !a.policy
        ? '-'
        : a.policy.lastSuccess
          ? formatTime(a.policy.lastSuccess)
          : a.policy.neverSucceeded
            ? c.red('never')
            : c.dim('not run yet'),
      a.materializedUpTo
        ? `${formatTime(a.materializedUpTo)} (${formatDuration((a.behindSeconds ?? 0) * 1000)} ago)`
        : a.exists
          ? c.yellow('nothing yet')
          : '-',
      formatCount(a.rows),
      formatBytes(a.totalBytes),
    ]),
    c,
    { wrap: ['kind', 'policy', 'materialized up to'], drop: ['size', 'rows', 'kind', 'materialized up to'] },
  );
}

/** How a result recomputed, in a few words. */
const MODE_TEXT: Record<MaterializeResult['mode'], string> = {
  forced: 'all buckets',
  'changed-only': 'changed',
};

/** A time for the narrow table: month, day, hours and minutes in UTC (--json has the full time). */
const shortTime = (d: Date | string | null) => (d ? formatTime(d).slice(5, 16) : '-');

/**
 * The windows materialized (or, on --dry-run, that would be, with their SQL):
 * one row each with what was recomputed (all buckets of the range, only the
 * changed ones), then the notes (why nothing was done, a
 * window rounded up to whole buckets, a start clipped to complete raw data)
 * and the time taken, within 80 columns.
 */
export function renderMaterialized(ctx: CommandContext, results: MaterializeResult[], dryRun: boolean): void {
  if (results.length === 0) return;
  const c = ctx.chalk;
  ctx.print('\n' + c.bold(dryRun ? 'Would materialize:' : 'Materialized:'));
  ctx.print(
    table(
      ['aggregate', 'recomputes', 'from → to (UTC)', 'windows'],
      results.map((m) => [
        m.aggregate,
        MODE_TEXT[m.mode],
        m.from ? `${shortTime(m.from)} → ${shortTime(m.to)}` : '-',
        m.note ?? (m.windows === 0 ? '-' : dryRun ? `${m.windows}` : `${m.windowsDone}/${m.windows}`),
      ]),
      c,
    ),
  );
  for (const m of results) {
    for (const n of [...(m.note ? [m.note] : []), ...m.notes]) ctx.print(wrapNote(`${m.aggregate}: ${n}`));
  }
  if (!dryRun) ctx.print(`in ${formatDuration(results.reduce((t, m) => t + m.elapsedMs, 0))}`);
  if (dryRun) {
    for (const m of results) for (const st of m.statements) ctx.print(wrapSql(st + ';'));
  }
}

/** A note in lines of at most 80 columns, continuation lines indented. */
function wrapNote(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && (line + ' ' + word).length > Math.min(getOutputWidth(), 80) - 2) {
      lines.push(line);
      line = '  ' + word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join('\n');
}

/** aggregates refresh: JSON, or the warnings and the windows refreshed. */
export function printRefreshResult(ctx: CommandContext, result: RefreshResult, dryRun: boolean): void {
  if (ctx.options.json) {
    ctx.printJson({
      command: 'aggregates refresh',
      server: result.server,
      dryRun,
      results: result.results,
      warnings: result.warnings,
    });
  } else {
    for (const w of result.warnings) ctx.logger.warn(w);
    renderMaterialized(ctx, result.results, dryRun);
  }
}
