/**
 * How the aggregates read for people: the aggregates table (aggregates list, and
 * the freshness section of status), the materialized windows of create-aggregates
 * and aggregates refresh, and the refresh result (table or JSON). Nothing here
 * talks to the database: it gets what the library returned.
 */
import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration, formatTime } from './format.js';
import { table } from './table.js';
import { describePolicy } from '../../aggregates/definitions.js';
import { formatCount } from '../../core/numbers.js';
import type { AggregateInfo, MaterializeResult, RefreshResult } from '../../index.js';

export function renderAggregatesTable(list: AggregateInfo[], ctx: Pick<CommandContext, 'chalk'>): string {
  const c = ctx.chalk;
  return table(
    ['aggregate', 'kind', 'policy', 'materialized up to', 'rows', 'size'],
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
        ? `job ${a.policy.jobId}, ${describePolicy(a.policy)}`
        : a.kind === 'table' || a.kind === 'materialized'
          ? c.dim('none: cron aggregates refresh')
          : a.exists
            ? c.yellow('none')
            : '-',
      a.materializedUpTo
        ? `${formatTime(a.materializedUpTo)} (${formatDuration((a.behindSeconds ?? 0) * 1000)} ago)`
        : a.exists
          ? c.yellow('nothing yet')
          : '-',
      formatCount(a.rows),
      formatBytes(a.totalBytes),
    ]),
    c,
  );
}

/** The windows materialized (or, on --dry-run, that would be, with their SQL). */
export function renderMaterialized(ctx: CommandContext, results: MaterializeResult[], dryRun: boolean): void {
  if (results.length === 0) return;
  const c = ctx.chalk;
  ctx.print('\n' + c.bold(dryRun ? 'Would materialize:' : 'Materialized:'));
  ctx.print(
    table(
      ['aggregate', 'kind', 'from', 'to', 'windows', 'time'],
      results.map((m) => [
        m.aggregate,
        m.kind === 'continuous' ? 'continuous' : 'table',
        m.from ? formatTime(m.from) : '-',
        m.to ? formatTime(m.to) : '-',
        m.note ?? (dryRun ? `${m.windows}` : `${m.windowsDone}/${m.windows}`),
        dryRun ? '-' : formatDuration(m.elapsedMs),
      ]),
      c,
    ),
  );
  if (dryRun) {
    for (const m of results) for (const st of m.statements) ctx.print(st + ';');
  }
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
