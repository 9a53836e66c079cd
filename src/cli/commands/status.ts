import * as kinds from '../parse/values.js';
import { type CommandContext, type GlobalOptions, type RunCommand, withConnection } from '../context.js';
import { printStatus } from '../render/status.js';
import { renderTargetSummaries } from '../render/targets.js';
import { resolveSetting } from '../options.js';
import type { Command } from 'commander';
import { getStatus } from '../../status.js';
import { summarizeTargets, type TargetToSummarize } from '../../status-targets.js';
import { configForTarget, targetNames } from '../../core/config-targets.js';
import { HomepotError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { resolveTarget } from '../../db/target.js';

export function registerStatus(program: Command, run: RunCommand): void {
  program
    .command('status')
    .description('show the server, TimescaleDB edition, hypertables, aggregates, jobs and recent job errors')
    .option('--errors <n>', 'recent job errors to show', kinds.count('--errors'), 5)
    .option('--all-targets', "one line per named target of the config file (read-only); exit 3 if one can't be reached")
    .action((opts: { errors: number; allTargets?: boolean }, cmd: Command) => {
      if (opts.allTargets) {
        const flags = allTargetsAlone(cmd);
        return run(cmd, (ctx) => statusAllTargets(ctx, flags.connectTimeout));
      }
      return run(cmd, async (ctx) => {
        const report = await withConnection(ctx, async (conn) => {
          const r = await getStatus(conn.sql, { jobErrorLimit: opts.errors });
          return { ...r, endpoint: conn.endpoint };
        });
        printStatus(ctx, report);
      });
    });
}

/** --all-targets reads every target's own connection: a flag choosing one server contradicts it (exit 2). */
function allTargetsAlone(cmd: Command): GlobalOptions {
  const flags = cmd.optsWithGlobals<GlobalOptions>();
  const clash = [
    flags.target !== undefined && '--target',
    flags.databaseUrl !== undefined && '--database-url',
    flags.embedded !== undefined && flags.embedded !== false && '--embedded',
  ].filter(Boolean);
  if (clash.length > 0) {
    throw new HomepotError('usage', `--all-targets cannot be used with ${clash.join(' or ')}`, {
      hint: 'status --all-targets reaches every target of the config file; for one server, drop --all-targets.',
    });
  }
  return flags;
}

/**
 * Every target's connection is resolved before any is reached (an unset
 * variable is exit 2, nothing connected); then each gets one summary line.
 */
async function statusAllTargets(ctx: CommandContext, connectTimeoutFlag: number | undefined): Promise<void> {
  const names = targetNames(ctx.fileConfig);
  if (names.length === 0) {
    throw new HomepotError('config', 'status --all-targets: the config file defines no targets', {
      hint: 'Add named targets under "targets" in the config file (README, "Named targets").',
    });
  }
  const list: TargetToSummarize[] = names.map((name) => {
    const settings = ctx.fileConfig.targets![name]!;
    const sources = { config: configForTarget(ctx.fileConfig, settings), env: ctx.env };
    return {
      name,
      target: resolveTarget({ config: sources.config, env: ctx.env, target: { name, settings } }),
      connectTimeout: resolveSetting('connectTimeout', connectTimeoutFlag, sources),
      table: resolveSetting('table', undefined, sources),
    };
  });
  const spin = ctx.spinner(`reaching ${list.length} targets`);
  const summaries = await summarizeTargets(list, { logger: ctx.logger }).finally(() => spin.stop());
  if (ctx.options.json) ctx.printJson(summaries);
  else ctx.print(renderTargetSummaries(summaries, ctx.chalk));
  const failed = summaries.filter((s) => s.error);
  if (failed.length > 0) {
    throw new HomepotError(
      failed[0]!.error!.kind,
      `${failed.length} of ${summaries.length} targets could not be reached: ${failed.map((s) => `${s.target} (${s.error!.message.replace(/\.$/, '')})`).join('; ')}`,
      { hint: 'Each target has its line on stdout (--json: its "error").', exitCode: ExitCode.connection },
    );
  }
}
