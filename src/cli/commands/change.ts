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
import { pendingSteps, planFailure, type ApplyResult } from '../../db/plan.js';
import { ExitCode, type ExitCodeValue } from '../../core/exit-codes.js';
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

/**
 * --check's fields in the --json result (beside the dry run's): `pending`,
 * and `changesPending`, the ids of the steps a run would apply.
 */
export function checkFields(check: boolean, pending: string[]): Record<string, unknown> {
  return check ? { check: true, pending: pending.length > 0, changesPending: pending } : {};
}

/** The plan's pending step ids, for a --check run (empty otherwise). */
export function pendingOf(check: boolean, result: ApplyResult): string[] {
  return check ? pendingSteps(result) : [];
}

/**
 * After --check printed its plan (and nothing failed): exit 7 when changes are
 * pending, naming them on stderr; 0 when everything is in place.
 */
export function endCheck(ctx: CommandContext, command: string, pending: string[]): ExitCodeValue {
  if (pending.length === 0) {
    ctx.logger.info(`check: ${command} has nothing to change.`);
    return ExitCode.ok;
  }
  ctx.logger.info(`check: ${command} has changes pending (exit 7): ${pending.join(', ')}.`);
  return ExitCode.changesPending;
}
