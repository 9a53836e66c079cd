import { InvalidArgumentError, type Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { ChangeHooks } from '../../db/plan.js';

/** Runs a command's body with a context; defined in src/cli.ts. */
export type RunCommand = (cmd: Command, body: (ctx: CommandContext) => Promise<void>) => Promise<void>;

/** commander argParser for counts: a usage error (exit 2) on anything but a whole number >= 1. */
export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`${flag} must be a whole number of at least 1, got "${value}".`);
  }
  return n;
}

/** Wait/step feedback for a changing command, shared by every changing command. */
export async function withChangeFeedback<T>(
  ctx: CommandContext,
  fn: (hooks: Required<ChangeHooks>) => Promise<T>,
): Promise<T> {
  const spin = ctx.spinner('waiting for the change lock');
  try {
    return await fn({
      onWait: () => ctx.logger.info('another homepot-ts run is changing this database: waiting for it to finish'),
      onStep: (s) => spin.update(`applying: ${s.title}`),
      signal: ctx.signal,
    });
  } finally {
    spin.stop();
  }
}
