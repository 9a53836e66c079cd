import { printPlanResult } from '../render/plan.js';
import { withChangeFeedback } from '../feedback.js';
import { type RunCommand, withConnection } from '../context.js';
import { Option, type Command } from 'commander';
import { HomepotError } from '../../core/errors.js';
import * as kinds from '../parse/values.js';
import { planFailure } from '../../db/plan.js';
import { runSetup } from '../../setup.js';
import { resolveSetupOptions, SETUP_DEFAULTS, type SetupFlags } from '../options.js';
import {
  changeOptions,
  checkOption,
  compressionSettingOptions,
  hypertableOptions,
  tableOption,
} from '../parse/flags.js';
import { checkFields, endCheck, pendingOf } from './change.js';

export function registerSetup(program: Command, run: RunCommand): void {
  const cmd = program
    .command('setup')
    .description(
      "make the database match HOMEPOT's TimescaleDB design: extension, hypertable, indexes, compression, retention (idempotent)",
    )
    .option(
      '--compress-after <interval>',
      `compress chunks older than this (default ${SETUP_DEFAULTS.compressAfter})`,
      kinds.interval('--compress-after'),
    )
    .option(
      '--retention <interval>',
      `drop chunks older than this (default ${SETUP_DEFAULTS.retention})`,
      kinds.interval('--retention'),
    )
    .option('--no-retention', 'no retention policy (leave any existing one alone)')
    .option('--compression', 'set up compression (the default)')
    .option('--no-compression', 'no compression settings or policy (leave any existing ones alone)')
    .addOption(
      new Option('--require <feature>', 'fail (exit 5) unless the server has it')
        .choices(['timescaledb', 'community'])
        .argParser(kinds.choice('--require', ['timescaledb', 'community'] as const)),
    );
  tableOption(cmd);
  hypertableOptions(cmd);
  compressionSettingOptions(cmd);
  checkOption(changeOptions(cmd)).action((flags: SetupFlags & { check?: boolean }, c: Command) =>
    run(c, async (ctx) => {
      // commander gives retention: true for neither flag; treat that as "not given".
      const { check: checkFlag, ...rest } = flags;
      const check = Boolean(checkFlag);
      const f: SetupFlags = { ...rest, ...(rest.retention === (true as unknown) ? { retention: undefined } : {}) };
      if (f.retention === undefined) delete f.retention;
      if (check) f.dryRun = true;
      const opts = resolveSetupOptions(f, ctx.sources);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => runSetup(conn.sql, opts, hooks)),
      );
      const pending = pendingOf(check, result);
      printPlanResult(ctx, 'setup', result, {
        server: result.server,
        edition: result.edition,
        ...checkFields(check, pending),
      });
      if (ctx.signal.aborted)
        throw new HomepotError('interrupted', 'interrupted: the steps before the interruption are applied', {
          hint: 'Run setup again to finish.',
        });
      const failure = planFailure(result);
      if (failure) throw failure;
      if (check) return endCheck(ctx, 'setup', pending);
    }),
  );
}
