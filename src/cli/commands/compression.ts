import { lockWaitNote, progressReporter, withChangeFeedback } from '../feedback.js';
import { printPlanResult } from '../render/plan.js';
import {
  compressedText,
  printCompressionRun,
  printCompressionShow,
  printCompressionStats,
} from '../render/compression.js';
import { type RunCommand, withConnection } from '../context.js';
import type { Command } from 'commander';
import { removeCompressionPolicy, setCompression, showCompression } from '../../tuning/compression.js';
import { runCompression } from '../../tuning/compression-run.js';
import { compressionStats } from '../../tuning/compression-stats.js';
import type { CommandContext } from '../context.js';
import type { Interval } from '../../core/intervals.js';
import * as kinds from '../parse/values.js';
import { changeOptions, ORDER_BY_FLAG, SEGMENT_BY_FLAG, TABLE_FLAG } from '../parse/flags.js';
import { resolveSetting, resolveSettings, resolveSetupOptions, SETUP_DEFAULTS } from '../options.js';
import { resolveTuning, throwIfFailed, type TuningFlags } from './change.js';
import type { CompressionRunResult } from '../../index.js';

/** compression, with its subcommands show, set, remove, run and stats. */
export function registerCompression(program: Command, run: RunCommand): void {
  const compression = program
    .command('compression')
    .description(
      'compression (columnstore) of a hypertable: settings, policy, compressing old chunks now, sizes (Community)',
    );
  registerCompressionShow(compression, run);
  registerCompressionSet(compression, run);
  registerCompressionRemove(compression, run);
  registerCompressionRun(compression, run);
  registerCompressionStats(compression, run);
}

function registerCompressionShow(compression: Command, run: RunCommand): void {
  compression
    .command('show', { isDefault: true })
    .description(
      'compression settings, policy (job, compress_after, last run, next start) and compressed chunks (the default)',
    )
    .option(...TABLE_FLAG)
    .action((flags: { table?: string }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const tableName = resolveSetting('table', flags.table, ctx.sources);
        const report = await withConnection(ctx, (conn, caps) => showCompression(conn.sql, caps, tableName));
        printCompressionShow(ctx, report);
      }),
    );
}

function registerCompressionSet(compression: Command, run: RunCommand): void {
  changeOptions(
    compression
      .command('set')
      .description(
        'make compression settings and policy match (flags > config setup.* > the design defaults); only what differs changes',
      )
      .option(
        '--after <interval>',
        `compress chunks older than this (default ${SETUP_DEFAULTS.compressAfter})`,
        kinds.interval('--after'),
      )
      .option(...SEGMENT_BY_FLAG)
      .option(...ORDER_BY_FLAG)
      .option(...TABLE_FLAG),
  ).action((flags: TuningFlags & { after?: Interval; segmentBy?: string; orderBy?: string }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = resolveSetupOptions({ ...flags, compressAfter: flags.after }, ctx.sources);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => setCompression(conn.sql, opts, hooks)),
      );
      printPlanResult(ctx, 'compression set', result, { hypertable: result.hypertable });
      throwIfFailed(ctx, result, 'compression set');
    }),
  );
}

function registerCompressionRemove(compression: Command, run: RunCommand): void {
  changeOptions(
    compression
      .command('remove')
      .description('remove the compression policy; compressed chunks stay compressed')
      .option(...TABLE_FLAG),
  ).action((flags: TuningFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = resolveTuning(flags, ctx);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => removeCompressionPolicy(conn.sql, opts, hooks)),
      );
      const n = result.compressedChunks;
      const note = `Removing the policy does not decompress anything: ${n} compressed chunk${n === 1 ? '' : 's'} of ${result.hypertable.schema}.${result.hypertable.name} stay${n === 1 ? 's' : ''} compressed. To decompress them (they grow back to their full size): ${result.decompressHint}`;
      printPlanResult(ctx, 'compression remove', result, {
        hypertable: result.hypertable,
        compressedChunks: n,
        note,
      });
      ctx.logger.info(note);
      throwIfFailed(ctx, result, 'compression remove');
    }),
  );
}

function registerCompressionRun(compression: Command, run: RunCommand): void {
  changeOptions(
    compression
      .command('run')
      .description(
        "compress the uncompressed chunks older than the policy's compress_after (or --older-than) now, one chunk per transaction",
      )
      .option(
        '--older-than <interval>',
        "compress chunks older than this (default: the policy's compress_after, else config setup.compressAfter, else 7 days)",
        kinds.interval('--older-than'),
      )
      .option(...TABLE_FLAG),
  ).action((flags: TuningFlags & { olderThan?: Interval }, cmd: Command) => run(cmd, (ctx) => compressNow(ctx, flags)));
}

async function compressNow(ctx: CommandContext, flags: TuningFlags & { olderThan?: Interval }): Promise<void> {
  const resolved = resolveSettings(['table', 'lockTimeout', 'compressAfter'], flags, ctx.sources);
  const dryRun = Boolean(flags.dryRun);
  const feedback = compressionFeedback(ctx, dryRun);
  const result = await withConnection(ctx, (conn) =>
    runCompression(
      conn.sql,
      {
        table: resolved.table,
        olderThan: flags.olderThan ?? null,
        defaultOlderThan: resolved.compressAfter,
        lockTimeout: resolved.lockTimeout,
        dryRun,
      },
      feedback.hooks,
    ),
  );
  feedback.done(result);
  printCompressionRun(ctx, result, dryRun);
  // On success, done() already said it to people on a terminal or in a log.
  if (result.steps.length > 0) throwIfFailed(ctx, result, 'compression run');
}

/** Lock wait, Ctrl-C, and a chunk counter once the chunks to compress are known (not on --dry-run). */
function compressionFeedback(ctx: CommandContext, dryRun: boolean) {
  let progress: ReturnType<typeof progressReporter> | undefined;
  let total = 0;
  let started = 0;
  return {
    hooks: {
      onWait: () => lockWaitNote(ctx),
      onPlan: (n: number) => {
        total = n;
        started = Date.now();
        if (n > 0 && !dryRun) progress = progressReporter(ctx, 'compressing', 'chunks');
      },
      onStep: (_s: unknown, i: number) => progress?.update({ done: i, total, elapsedMs: Date.now() - started }),
      signal: ctx.signal,
    },
    done(result: CompressionRunResult) {
      if (!progress) return;
      const saved = compressedText(result);
      if (result.chunksCompressed > 0)
        progress.update({ done: result.chunksCompressed, total, elapsedMs: Date.now() - started });
      if (saved && !result.failedStep) progress.succeed(saved);
      else progress.fail(saved ?? 'no chunk compressed');
    },
  };
}

function registerCompressionStats(compression: Command, run: RunCommand): void {
  compression
    .command('stats')
    .description('sizes before and after compression, and the ratio, per hypertable and per chunk')
    .option(
      '--table <name>',
      'only this hypertable (default: every hypertable with compression enabled)',
      kinds.tableName('--table'),
    )
    .action((flags: { table?: string }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const stats = await withConnection(ctx, (conn, caps) => compressionStats(conn.sql, caps, flags.table ?? null));
        printCompressionStats(ctx, stats);
      }),
    );
}
