import { lockWaitNote, progressReporter, withChangeFeedback } from '../feedback.js';
import { formatBytes, formatDuration } from '../render/format.js';
import { table } from '../render/table.js';
import { printPlanResult } from '../render/plan.js';
import {
  parsePositiveInt,
  changeOptions,
  hypertableOptions,
  resolveAggregateOptions,
  resolveSetting,
  resolveSettings,
  resolveSetupOptions,
  TABLE_FLAG,
  tableOption,
} from '../options.js';
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
import { formatCount } from '../../core/numbers.js';
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
  lockTimeout?: import('../../core/intervals.js').Interval;
}

/** "100MB", "1.5 GB", "512k", "1048576": a size in bytes; a usage error otherwise. */
export function parseSize(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb|g|gb|t|tb)?\s*$/i.exec(value);
  if (!m)
    throw new HomepotError('usage', `${flag} must be a size such as 100MB or 2GB, got "${value}"`, {
      hint: 'Units: B, kB, MB, GB, TB (powers of 1024).',
    });
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const power = { b: 0, k: 1, m: 2, g: 3, t: 4 }[unit as 'b'] ?? 0;
  return Math.round(Number(m[1]) * 1024 ** power);
}

function resolveOptions(flags: MigrateFlags, ctx: CommandContext): MigrateOptions {
  return {
    ...resolveSettings(['table', 'timeColumn', 'chunkInterval', 'lockTimeout'], flags, ctx.sources),
    strategy: flags.strategy ?? 'auto',
    onlineAbove: flags.onlineAbove ?? MIGRATE_DEFAULTS.onlineAbove,
    batchRows: flags.batchRows ?? MIGRATE_DEFAULTS.batchRows,
    jobs: flags.jobs ?? MIGRATE_DEFAULTS.jobs,
    dryRun: Boolean(flags.dryRun),
    dropOld: Boolean(flags.dropOld),
  };
}

export function registerMigrate(program: Command, run: RunCommand): void {
  const cmd = program
    .command('migrate-from-postgres')
    .description(
      'move an existing health_checks table onto TimescaleDB: in place, or online (copy in batches, capture writes, short final swap), or from another server (--source); verified by row counts and checksums',
    )
    .addOption(
      new Option(
        '--strategy <strategy>',
        'in-place: one long lock; online: batches, writes keep flowing; auto: by size (--online-above)',
      ).choices(['auto', 'in-place', 'online']),
    )
    .addOption(
      new Option('--online-above <size>', 'auto chooses online above this table size (default 100MB)').argParser((v) =>
        parseSize(v, '--online-above'),
      ),
    )
    .addOption(
      new Option('--batch-rows <n>', `rows per copy batch (default ${MIGRATE_DEFAULTS.batchRows})`).argParser((v) =>
        parsePositiveInt(v, '--batch-rows'),
      ),
    )
    .addOption(
      new Option(
        '--jobs <n>',
        `connections copying and verifying at once, online (default ${MIGRATE_DEFAULTS.jobs}; 1 on the embedded database)`,
      ).argParser((v) => parsePositiveInt(v, '--jobs')),
    )
    .option(
      '--source <url>',
      'copy from another (plain PostgreSQL) server into this one (else HOMEPOT_TS_SOURCE_URL, then config migrate.source: unlike a flag, neither shows the password in ps)',
    )
    .option(
      '--drop-old',
      'drop the old table once the migration is verified (default: keep it as <table>_pre_timescaledb)',
    )
    .option('--setup', 'then run setup and create-aggregates');
  changeOptions(hypertableOptions(tableOption(cmd))).action((flags: MigrateFlags, c: Command) =>
    run(c, async (ctx) => {
      const opts = resolveOptions(flags, ctx);
      const source = resolveSourceUrl({ source: flags.source, config: ctx.config, env: process.env });
      if (source) {
        ctx.logger.debug(`source server from: ${source.origin}`);
        const { runMigrateRemote } = await import('../../migrate/migrate.js');
        const result = await withConnection(ctx, (conn) =>
          withMigrateFeedback(ctx, (hooks) => runMigrateRemote(conn.sql, source.url, opts, hooks, ctx.logger)),
        );
        report(ctx, result);
        return;
      }
      const result = await withConnection(ctx, async (conn) => {
        const r = await withMigrateFeedback(ctx, (hooks) => runMigrate(conn.sql, opts, hooks));
        if (
          flags.setup &&
          !opts.dryRun &&
          (r.outcome === 'migrated' || r.outcome === 'already-migrated' || r.outcome === 'already-hypertable')
        ) {
          const then = await withChangeFeedback(ctx, (hooks) =>
            runSetupAfterMigrate(
              conn.sql,
              {
                setup: resolveSetupOptions({ table: opts.table, lockTimeout: opts.lockTimeout }, ctx.sources),
                aggregates: resolveAggregateOptions({}, ctx.sources),
              },
              hooks,
            ),
          );
          if (!ctx.options.json) printPlanResult(ctx, 'setup', then.setup);
          const failure = planFailure(then.setup);
          if (failure) throw failure;
          (r as MigrateResult & { setup?: unknown }).setup = {
            steps: then.setup.steps.map((s) => ({ id: s.id, outcome: s.outcome })),
            aggregates: (then.aggregates?.steps ?? []).map((s) => ({ id: s.id, outcome: s.outcome })),
          };
          r.nextSteps = ['homepot-ts status'];
        }
        return r;
      });
      report(ctx, result);
    }),
  );

  cmd
    .command('finish')
    .description(
      "after a --source copy, once HOMEPOT writes to this server: record that the copy has ended; later --source runs refuse (nothing is copied over HOMEPOT's rows)",
    )
    .option(...TABLE_FLAG)
    .action((_: unknown, sub: Command) =>
      run(sub, async (ctx) => {
        const f = sub.optsWithGlobals<{ table?: string }>();
        const table = resolveSetting('table', f.table, ctx.sources);
        const { runMigrateFinish } = await import('../../migrate/migrate.js');
        const result = await withConnection(ctx, (conn) => runMigrateFinish(conn.sql, { table }));
        if (ctx.options.json) return ctx.printJson(result);
        if (!result.changed)
          ctx.logger.info(
            `nothing to change: the copy of ${result.table} was already finished at ${result.finishedAt}.`,
          );
        else
          ctx.logger.info(
            `done: the copy of ${result.table}${result.source ? ` from ${result.source}` : ''} is finished (${result.finishedAt}); migrate-from-postgres --source now refuses to copy into it.`,
          );
      }),
    );

  for (const [name, abort, description] of [
    [
      'cleanup',
      false,
      'after a finished migration: drop the old table (<table>_pre_timescaledb) and forget the migration',
    ],
    [
      'abort',
      true,
      'undo an unfinished online migration: drop the new table, the change log and the capture trigger (the original table is untouched)',
    ],
  ] as const) {
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
          if (f.dryRun) {
            ctx.print(ctx.chalk.bold('SQL that would run (one transaction):'));
            for (const s of result.statements) ctx.print(s + ';');
            ctx.logger.info('dry run: nothing was changed.');
          } else ctx.logger.info(`done: dropped ${result.dropped.join(', ')}.`);
        }),
      );
  }
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

function report(ctx: CommandContext, r: MigrateResult): void {
  if (ctx.options.json) {
    ctx.printJson(r);
  } else {
    render(ctx, r);
  }
  if (ctx.signal.aborted && r.outcome !== 'migrated') {
    throw new HomepotError('interrupted', 'interrupted', { hint: 'Run migrate-from-postgres again to continue.' });
  }
}

function render(ctx: CommandContext, r: MigrateResult): void {
  const c = ctx.chalk;
  for (const w of r.warnings) ctx.logger.warn(w);
  if (r.outcome === 'already-hypertable' || r.outcome === 'already-migrated') {
    ctx.logger.info(
      `nothing to change: ${r.strategyReason}.${r.oldTable ? ` The old table is kept as ${r.oldTable} (migrate-from-postgres cleanup drops it).` : ''}`,
    );
  }
  if (r.outcome === 'planned') {
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
      ctx.print(c.dim(`-- ${s.id}: ${s.title}`));
      for (const st of s.statements) ctx.print(st + ';');
    }
    ctx.logger.info('dry run: nothing was changed.');
    return;
  }
  if (r.outcome === 'migrated' || r.outcome === 'copied') {
    const rows: (string | number)[][] = [
      ['table', r.table],
      ['strategy', `${r.strategy}${r.resumed ? ' (continued)' : ''}`],
      [
        'copied',
        `${formatCount(r.copied.rows)} rows in ${r.copied.seconds} s (${formatCount(r.copied.rowsPerSecond)} rows/s, ${r.copied.batches} batch${r.copied.batches === 1 ? '' : 'es'})`,
      ],
    ];
    if (r.strategy !== 'in-place') rows.push(['writes replayed', formatCount(r.replayed)]);
    for (const l of r.locks) rows.push([`lock: ${l.mode}`, `${l.ms} ms (${l.what})`]);
    if (r.caughtUp) {
      const u = r.caughtUp;
      rows.push([
        'caught up',
        u.windows === 0
          ? 'no window differed'
          : `${u.windows} window(s) reconciled by key: ${formatCount(u.inserted)} inserted, ${formatCount(u.updated)} updated, ${formatCount(u.deleted)} deleted${u.keyColumn ? '' : ' (no integer key: nothing is ever deleted here)'}`,
      ]);
    }
    if (r.verification) {
      rows.push([
        'verified',
        `${formatCount(r.verification.rows)} rows in ${r.verification.windows} windows of ${formatDuration(r.verification.windowSeconds * 1000)}: ${r.verification.ok ? c.green('counts and checksums match') : c.red(`${r.verification.mismatches.length} window(s) differ`)}`,
      ]);
    }
    if (r.oldTable) rows.push(['old table', `${r.oldTable} (kept; migrate-from-postgres cleanup drops it)`]);
    if (r.droppedOld) rows.push(['old table', 'dropped (--drop-old)']);
    ctx.print(table([], rows, c));
  }
  if (r.nextSteps.length > 0) ctx.logger.info(`next: ${r.nextSteps.join('; ')}`);
}
