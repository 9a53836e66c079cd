/**
 * How migrate-from-postgres reads for people: the plan of a --dry-run (estimate and
 * SQL), the outcome of a migration or copy (rows copied, locks held, catch-up,
 * verification, the old table), and the outcomes of finish, cleanup and abort.
 * JSON is the library's result as it is. Nothing here talks to the database.
 */
import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration } from './format.js';
import { sqlComment, table, wrapSql } from './table.js';
import { formatCount } from '../../core/numbers.js';
import type { CleanupResult, FinishResult, MigrateResult } from '../../index.js';

export function printMigrateResult(ctx: CommandContext, r: MigrateResult): void {
  if (ctx.options.json) return ctx.printJson(r);
  for (const w of r.warnings) ctx.logger.warn(w);
  if (r.outcome === 'already-hypertable' || r.outcome === 'already-migrated') {
    ctx.logger.info(
      `nothing to change: ${r.strategyReason}.${r.oldTable ? ` The old table is kept as ${r.oldTable} (migrate-from-postgres cleanup drops it).` : ''}`,
    );
  }
  if (r.outcome === 'planned') return printPlanned(ctx, r);
  if (r.outcome === 'migrated' || r.outcome === 'copied') ctx.print(table([], doneRows(ctx, r), ctx.chalk));
  if (r.nextSteps.length > 0) ctx.logger.info(`next: ${r.nextSteps.join('; ')}`);
}

/** --dry-run: the estimate, then each step's SQL. */
function printPlanned(ctx: CommandContext, r: MigrateResult): void {
  const c = ctx.chalk;
  ctx.print(
    table(
      [],
      [
        ['table', r.table],
        ['server', r.server],
        ['strategy', `${r.strategy} (${r.strategyReason})`],
        ['rows (estimate)', formatCount(r.estimate.rows)],
        ['size', formatBytes(r.estimate.bytes)],
        [
          'expected time',
          r.estimate.rows === 0
            ? '-'
            : r.estimate.seconds < 1
              ? 'under a second'
              : formatDuration(r.estimate.seconds * 1000),
        ],
        ['lock', r.estimate.lock],
      ],
      c,
    ),
  );
  ctx.print('\n' + c.bold('Plan (nothing was changed):'));
  for (const s of r.plan) {
    ctx.print(c.dim(sqlComment(`${s.id}: ${s.title}`)));
    for (const st of s.statements) ctx.print(wrapSql(st + ';'));
  }
  ctx.logger.info('dry run: nothing was changed.');
}

/** A migration or copy that ran: what was copied, replayed, locked, caught up and verified. */
function doneRows(ctx: CommandContext, r: MigrateResult): (string | number)[][] {
  const c = ctx.chalk;
  const rows: (string | number)[][] = [
    ['table', r.table],
    ['strategy', `${r.strategy}${r.resumed ? ' (continued)' : ''}`],
    [
      'copied',
      r.strategy === 'remote' && r.copied.batches === 0
        ? 'no new blocks on the source since the last run'
        : `${formatCount(r.copied.rows)} rows in ${r.copied.seconds} s (${formatCount(r.copied.rowsPerSecond)} rows/s, ${r.copied.batches} batch${r.copied.batches === 1 ? '' : 'es'})`,
    ],
  ];
  if (r.strategy !== 'in-place' && r.replayed !== undefined) rows.push(['writes replayed', formatCount(r.replayed)]);
  for (const l of r.locks) rows.push([`lock: ${l.mode}`, `${l.ms} ms (${l.what})`]);
  if (r.caughtUp) {
    const u = r.caughtUp;
    rows.push([
      'caught up',
      u.windows === 0
        ? 'no window differed'
        : `${u.windows} window(s) of ${formatDuration((r.verification?.windowSeconds ?? 0) * 1000)} re-copied from the source (${formatCount(u.rows)} rows read) and reconciled by key: ${formatCount(u.inserted)} inserted, ${formatCount(u.updated)} updated, ${formatCount(u.deleted)} deleted${u.keyColumn ? '' : ' (no integer key: nothing is ever deleted here)'}`,
    ]);
  }
  for (const d of r.referenced ?? []) {
    rows.push([
      d.table,
      `${formatCount(d.rows)} rows matched by ${d.naturalKey.join(', ')}: ${formatCount(d.inserted)} inserted, ${formatCount(d.updated)} updated${d.keptHere ? `, ${formatCount(d.keptHere)} changed here kept` : ''}${d.goneFromSource ? `, ${formatCount(d.goneFromSource)} gone from the source kept` : ''}${d.translated ? ' (other ids here: references translated)' : ''}`,
    ]);
  }
  if (r.verification) {
    rows.push([
      'verified',
      `${formatCount(r.verification.rows)} rows in ${r.verification.windows} windows of ${formatDuration(r.verification.windowSeconds * 1000)}: ${r.verification.ok ? c.green('counts and checksums match') : c.red(`${r.verification.mismatches.length} window(s) differ`)}`,
    ]);
  }
  if (r.oldTable && r.keptBy.length > 0)
    rows.push(['old table', `${r.oldTable} (kept: used by ${r.keptBy.join(', ')})`]);
  else if (r.oldTable) rows.push(['old table', `${r.oldTable} (kept; migrate-from-postgres cleanup drops it)`]);
  if (r.droppedOld) rows.push(['old table', 'dropped (--drop-old)']);
  return rows;
}

export function printMigrateFinish(ctx: CommandContext, result: FinishResult): void {
  if (ctx.options.json) return ctx.printJson(result);
  for (const w of result.warnings) ctx.logger.warn(w);
  for (const o of result.owners) ctx.logger.info(`${o.relation} is owned by ${o.owner} now, as on the source.`);
  if (!result.changed)
    ctx.logger.info(`nothing to change: the copy of ${result.table} was already finished at ${result.finishedAt}.`);
  else
    ctx.logger.info(
      `done: the copy of ${result.table}${result.source ? ` from ${result.source}` : ''} is finished (${result.finishedAt}); migrate-from-postgres --source now refuses to copy into it.`,
    );
}

/** cleanup and abort: what was (or, on --dry-run, would be) dropped. */
export function printMigrateCleanup(
  ctx: CommandContext,
  result: CleanupResult,
  abort: boolean,
  dryRun?: boolean,
): void {
  if (ctx.options.json) return ctx.printJson(result);
  for (const w of result.warnings) ctx.logger.warn(w);
  if (result.statements.length === 0) {
    ctx.logger.info(
      abort
        ? `nothing to abort: no migration of ${result.table} is in progress.`
        : `nothing to clean up for ${result.table}.`,
    );
    return;
  }
  if (dryRun) {
    ctx.print(ctx.chalk.bold('SQL that would run (one transaction):'));
    for (const s of result.statements) ctx.print(wrapSql(s + ';'));
    ctx.logger.info('dry run: nothing was changed.');
  } else ctx.logger.info(`done: dropped ${result.dropped.join(', ')}.`);
}
