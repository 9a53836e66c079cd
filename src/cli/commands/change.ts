/**
 * What the changing commands share (compression, retention, chunk-interval): the
 * settings every one of them takes (--table, --lock-timeout, --dry-run, resolved
 * by cli/options.ts) and how a change ends: print the plan result, then exit 130
 * when Ctrl-C interrupted a step, or with the failed step's exit code.
 */
import { printPlanResult } from '../render/plan.js';
import { resolveSettings } from '../options.js';
import type { CommandContext } from '../context.js';
import { HomepotError } from '../../core/errors.js';
import type { Interval } from '../../core/intervals.js';
import { planFailure, type ApplyResult } from '../../db/plan.js';
import type { TuningResult } from '../../index.js';

export interface TuningFlags {
  table?: string;
  dryRun?: boolean;
  lockTimeout?: Interval;
}

/** --table, --lock-timeout and --dry-run of a tuning command (cli/options.ts resolves them). */
export function resolveTuning(
  flags: TuningFlags,
  ctx: CommandContext,
): { table: string; lockTimeout: Interval; dryRun: boolean } {
  return { ...resolveSettings(['table', 'lockTimeout'], flags, ctx.sources), dryRun: Boolean(flags.dryRun) };
}

/** Print a tuning command's plan result and end with its failure, if any. */
export function finishChange(
  ctx: CommandContext,
  command: string,
  result: TuningResult,
  extra: Record<string, unknown> = {},
): void {
  printPlanResult(ctx, command, result, {
    table: result.table,
    server: result.server,
    edition: result.edition,
    ...extra,
  });
  const failure = planFailure(result);
  if (failure) throw failure;
}

/** After the result is printed: Ctrl-C is exit 130, a failed step its own exit code. */
export function throwIfFailed(ctx: CommandContext, result: ApplyResult, command: string): void {
  if (ctx.signal.aborted && result.steps.some((s) => s.reason === 'interrupted')) {
    throw new HomepotError('interrupted', 'interrupted: the steps before the interruption are applied', {
      hint: `Run ${command} again to finish.`,
    });
  }
  const failure = planFailure(result);
  if (failure) throw failure;
}
