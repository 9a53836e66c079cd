import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../context.js';
import { sqlComment, table, wrapSql } from './table.js';
import type { ApplyResult, StepResult } from '../../db/plan.js';

/** Print a plan's results: a table for people (with SQL on --dry-run), or JSON. */
export function printPlanResult(
  ctx: CommandContext,
  command: string,
  result: ApplyResult & { warnings?: string[] },
  extra: Record<string, unknown> = {},
): void {
  if (ctx.options.json) {
    ctx.printJson({
      command,
      ...extra,
      dryRun: result.dryRun,
      changed: result.changed,
      failedStep: result.failedStep,
      steps: result.steps,
      warnings: result.warnings ?? [],
    });
    return;
  }
  for (const w of result.warnings ?? []) ctx.logger.warn(w);
  const c = ctx.chalk;
  ctx.print(
    table(
      ['step', 'state', result.dryRun ? 'would' : 'outcome', 'detail'],
      result.steps.map((s) => [s.title, stateText(s, c), outcomeText(s, c, result.dryRun), detail(s)]),
      c,
      { wrap: ['step', 'detail'] },
    ),
  );
  if (result.dryRun) {
    const pending = result.steps.filter(
      (s) => (s.state === 'needed' || s.state === 'different') && s.statements.length > 0 && s.reason === 'dry run',
    );
    if (pending.length > 0) {
      ctx.print('\n' + c.bold('SQL that would run (one transaction per step):'));
      for (const s of pending) {
        ctx.print(c.dim(sqlComment(s.title)));
        for (const st of s.statements) ctx.print(wrapSql(st + ';'));
      }
    }
  }
  // A failed step ends in the error line, which names the step and says the earlier ones are kept.
  if (!result.failedStep) ctx.logger.info(summary(result));
}

export function summary(result: ApplyResult): string {
  const count = (o: string) => result.steps.filter((s) => s.outcome === o).length;
  if (result.dryRun) {
    const would = result.steps.filter((s) => s.reason === 'dry run').length;
    return would === 0
      ? 'dry run: nothing to change, every step is in place.'
      : `dry run: ${would} step${would > 1 ? 's' : ''} would change; nothing was changed.`;
  }
  if (result.failedStep)
    return `stopped: step "${result.failedStep}" failed; ${count('created') + count('updated')} earlier step(s) applied and kept.`;
  if (!result.changed) return 'nothing to change: every available step is already in place.';
  return `done: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged, ${count('skipped')} skipped.`;
}

function stateText(s: StepResult, c: ChalkInstance): string {
  switch (s.state) {
    case 'in-place':
      return c.green('in place');
    case 'needed':
      return c.yellow('needed');
    case 'different':
      return c.yellow('different');
    case 'not-available':
      return c.dim('not available');
  }
}

function outcomeText(s: StepResult, c: ChalkInstance, dryRun: boolean): string {
  if (dryRun && s.reason === 'dry run') return c.yellow(s.state === 'needed' ? 'create' : 'update');
  switch (s.outcome) {
    case 'created':
      return c.green('created');
    case 'updated':
      return c.green('updated');
    case 'unchanged':
      return 'unchanged';
    case 'skipped':
      return c.dim('skipped');
    case 'failed':
      return c.red('FAILED');
  }
}

function detail(s: StepResult): string {
  if (s.outcome === 'failed') return s.error?.message ?? '';
  if (s.state === 'not-available') return s.reason ?? '';
  if (s.state === 'different') return `${s.current ?? '?'} → ${s.wanted ?? '?'}`;
  return s.current ?? s.wanted ?? '';
}
