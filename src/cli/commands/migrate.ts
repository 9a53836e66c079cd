import type { ExitCodeValue } from '../../core/exit-codes.js';
import type { Sql } from '../../db/connection.js';
import { lockWaitNote, progressReporter, withChangeFeedback } from '../feedback.js';
import { printPlanResult } from '../render/plan.js';
import { printMigrateCleanup, printMigrateFinish, printMigrateResult } from '../render/migrate.js';
import { resolveAggregateOptions, resolveSetting, resolveSettings, resolveSetupOptions } from '../options.js';
import { changeOptions, checkOption, hypertableOptions, TABLE_FLAG, tableOption } from '../parse/flags.js';
import { checkFields, endCheck } from './change.js';
import * as kinds from '../parse/values.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import { Option, type Command } from 'commander';
import { runSetupAfterMigrate } from '../../migrate/then-setup.js';
import { HomepotError } from '../../core/errors.js';

import {
  MIGRATE_DEFAULTS,
  runMigrate,
  runMigrateCleanup,
  type MigrateOptions,
  type MigrateResult,
} from '../../migrate/migrate.js';
import { planFailure } from '../../db/plan.js';
import { resolveSourceUrl } from '../../db/target.js';

interface MigrateFlags {
  table?: string;
  timeColumn?: string;
  chunkInterval?: import('../../core/intervals.js').Interval;
  strategy?: 'auto' | 'in-place' | 'online';
  onlineAbove?: number;
  batchRows?: number;
  jobs?: number;
  source?: string;
  dropOld?: boolean;
  setup?: boolean;
  dryRun?: boolean;
  check?: boolean;
  lockTimeout?: import('../../core/intervals.js').Interval;
}

function resolveOptions(flags: MigrateFlags, ctx: CommandContext): MigrateOptions {
  return {
    ...resolveSettings(['table', 'timeColumn', 'chunkInterval', 'lockTimeout'], flags, ctx.sources),
    strategy: flags.strategy ?? 'auto',
    onlineAbove: flags.onlineAbove ?? MIGRATE_DEFAULTS.onlineAbove,
    batchRows: flags.batchRows ?? MIGRATE_DEFAULTS.batchRows,
    jobs: flags.jobs ?? MIGRATE_DEFAULTS.jobs,
    dryRun: Boolean(flags.dryRun || flags.check),
    dropOld: Boolean(flags.dropOld),
  };
}

/** migrate-from-postgres, with its subcommands finish, cleanup and abort. */
export function registerMigrate(program: Command, run: RunCommand): void {
  const cmd = migrateCommand(program);
  checkOption(changeOptions(hypertableOptions(tableOption(cmd)))).action((flags: MigrateFlags, c: Command) =>
    run(c, (ctx) => migrate(ctx, flags)),
  );
  registerMigrateFinish(cmd, run);
  registerMigrateCleanup(
    cmd,
    run,
    'cleanup',
    false,
    'after a finished migration: drop the old table (<table>_pre_timescaledb) and forget the migration',
  );
  registerMigrateCleanup(
    cmd,
    run,
    'abort',
    true,
    'undo an unfinished online migration: drop the new table, the change log and the capture trigger (the original table is untouched)',
  );
}

/** The command and its own options (tableOption, hypertableOptions and changeOptions add the shared ones). */
function migrateCommand(program: Command): Command {
  return program
    .command('migrate-from-postgres')
    .description(
      'move an existing health_checks table onto TimescaleDB: in place, or online (copy in batches, capture writes, short final swap), or from another server (--source); verified by row counts and checksums',
    )
    .addOption(
      new Option(
        '--strategy <strategy>',
        'in-place: one long lock; online: batches, writes keep flowing; auto: by size (--online-above)',
      )
        .choices(['auto', 'in-place', 'online'])
        .argParser(kinds.choice('--strategy', ['auto', 'in-place', 'online'] as const)),
    )
    .addOption(
      new Option('--online-above <size>', 'auto chooses online above this table size (default 100MB)').argParser(
        kinds.size('--online-above'),
      ),
    )
    .addOption(
      new Option('--batch-rows <n>', `rows per copy batch (default ${MIGRATE_DEFAULTS.batchRows})`).argParser(
        kinds.count('--batch-rows', kinds.COUNT_MAX.batchRows),
      ),
    )
    .addOption(
      new Option(
        '--jobs <n>',
        `connections copying and verifying at once, online (default ${MIGRATE_DEFAULTS.jobs}; 1 on the embedded database)`,
      ).argParser(kinds.count('--jobs', kinds.COUNT_MAX.jobs)),
    )
    .option(
      '--source <url>',
      'copy from another (plain PostgreSQL) server into this one (else HOMEPOT_TS_SOURCE_URL, then config migrate.source: unlike a flag, neither shows the password in ps)',
      kinds.url('--source'),
    )
    .option(
      '--drop-old',
      'drop the old table once the migration is verified (default: keep it as <table>_pre_timescaledb)',
    )
    .option('--setup', 'then run setup and create-aggregates');
}

async function migrate(ctx: CommandContext, flags: MigrateFlags): Promise<ExitCodeValue | void> {
  const opts = resolveOptions(flags, ctx);
  const source = resolveSourceUrl({ source: flags.source, config: ctx.config, env: ctx.env });
  let result: MigrateResult;
  if (source) {
    ctx.logger.debug(`source server from: ${source.origin}`);
    const { runMigrateRemote } = await import('../../migrate/migrate.js');
    result = await withConnection(ctx, (conn) =>
      withMigrateFeedback(ctx, (hooks) => runMigrateRemote(conn.sql, source.url, opts, hooks, ctx.logger)),
    );
  } else {
    result = await withConnection(ctx, async (conn) => {
      const r = await withMigrateFeedback(ctx, (hooks) => runMigrate(conn.sql, opts, hooks));
      return flags.setup ? await thenSetup(ctx, conn.sql, opts, r) : r;
    });
  }
  // --check: "is there anything to do": a table already a hypertable (or migrated) is not.
  const check = Boolean(flags.check);
  const pending = check && !['already-hypertable', 'already-migrated'].includes(result.outcome) ? [result.table] : [];
  const shown: MigrateResult = Object.assign({}, result, checkFields(check, pending));
  printMigrateResult(ctx, shown);
  if (ctx.signal.aborted && result.outcome !== 'migrated') {
    throw new HomepotError('interrupted', 'interrupted', { hint: 'Run migrate-from-postgres again to continue.' });
  }
  if (check) return endCheck(ctx, 'migrate-from-postgres', pending);
}

/** --setup: setup and create-aggregates once the table is a hypertable; setup's plan is printed. */
async function thenSetup(
  ctx: CommandContext,
  sql: Sql,
  opts: MigrateOptions,
  r: MigrateResult,
): Promise<MigrateResult> {
  const then = await withChangeFeedback(ctx, (hooks) =>
    runSetupAfterMigrate(
      sql,
      r,
      {
        setup: resolveSetupOptions({ table: opts.table, lockTimeout: opts.lockTimeout }, ctx.sources),
        aggregates: resolveAggregateOptions({}, ctx.sources),
      },
      hooks,
    ),
  );
  if (!then) return r;
  if (!ctx.options.json) printPlanResult(ctx, 'setup', then.setup);
  const failure = planFailure(then.setup);
  if (failure) throw failure;
  return then.result;
}

function registerMigrateFinish(cmd: Command, run: RunCommand): void {
  cmd
    .command('finish')
    .description(
      "after a --source copy, once HOMEPOT writes to this server: record that the copy has ended and give the copied tables to their owners on the source (roles that exist here); later --source runs refuse (nothing is copied over HOMEPOT's rows)",
    )
    .option(...TABLE_FLAG)
    .action((_: unknown, sub: Command) =>
      run(sub, async (ctx) => {
        const f = sub.optsWithGlobals<{ table?: string }>();
        const table = resolveSetting('table', f.table, ctx.sources);
        const { runMigrateFinish } = await import('../../migrate/migrate.js');
        const result = await withConnection(ctx, (conn) =>
          withChangeFeedback(ctx, (hooks) => runMigrateFinish(conn.sql, { table }, hooks)),
        );
        printMigrateFinish(ctx, result);
      }),
    );
}

/** migrate-from-postgres cleanup (abort false) and abort (abort true). */
function registerMigrateCleanup(
  cmd: Command,
  run: RunCommand,
  name: 'cleanup' | 'abort',
  abort: boolean,
  description: string,
): void {
  cmd
    .command(name)
    .description(description)
    .option(...TABLE_FLAG)
    .option('--dry-run', 'show what would be dropped; change nothing')
    .action((_: unknown, sub: Command) =>
      run(sub, async (ctx) => {
        // The parent command has --table and --dry-run too, and commander gives an
        // option to the parent when both define it: read it from either.
        const f = sub.optsWithGlobals<{ table?: string; dryRun?: boolean }>();
        const table = resolveSetting('table', f.table, ctx.sources);
        const result = await withConnection(ctx, (conn) =>
          withChangeFeedback(ctx, (hooks) =>
            runMigrateCleanup(conn.sql, { table, dryRun: Boolean(f.dryRun), abort }, hooks),
          ),
        );
        printMigrateCleanup(ctx, result, abort, f.dryRun);
      }),
    );
}

type Hooks = Parameters<typeof runMigrate>[2];

/** Lock wait, phases, progress with rate and ETA, Ctrl-C. */
async function withMigrateFeedback<T>(ctx: CommandContext, fn: (hooks: NonNullable<Hooks>) => Promise<T>): Promise<T> {
  const copy = progressReporter(ctx, 'copying');
  const replay = progressReporter(ctx, 'replaying captured writes', 'changes');
  const spin = ctx.spinner('waiting for the change lock');
  try {
    return await fn({
      onWait: () => lockWaitNote(ctx),
      onPhase: (text) => {
        spin.update(text);
        if (!ctx.interactive) ctx.logger.info(text);
      },
      onProgress: (p) => (p.phase === 'copy' ? copy : replay).update(p),
      signal: ctx.signal,
    });
  } finally {
    spin.stop();
  }
}
