import { lockWaitNote, progressReporter, withChangeFeedback } from '../feedback.js';
import { formatBytes, formatTime } from '../render/format.js';
import { table } from '../render/table.js';
import { printPlanResult } from '../render/plan.js';
import { type RunCommand, withConnection } from '../context.js';
import type { Command } from 'commander';
import {
  describeSettings,
  removeCompressionPolicy,
  setCompression,
  showCompression,
  type CompressionShow,
} from '../../tuning/compression.js';
import { runCompression } from '../../tuning/compression-run.js';
import { compressionStats, type HypertableCompressionStats } from '../../tuning/compression-stats.js';
import type { CommandContext } from '../context.js';
import { HomepotError } from '../../core/errors.js';
import { intervalOption, type Interval } from '../../core/intervals.js';
import { planFailure, type ApplyResult } from '../../db/plan.js';
import {
  changeOptions,
  ORDER_BY_FLAG,
  resolveSetting,
  resolveSettings,
  resolveSetupOptions,
  SEGMENT_BY_FLAG,
  SETUP_DEFAULTS,
  TABLE_FLAG,
} from '../options.js';

interface TableFlag {
  table?: string;
}
interface ChangeFlags extends TableFlag {
  dryRun?: boolean;
  lockTimeout?: Interval;
}

export function registerCompression(program: Command, run: RunCommand): void {
  const compression = program
    .command('compression')
    .description(
      'compression of a hypertable: settings, policy, compressing old chunks now, sizes (Community edition)',
    );

  compression
    .command('show')
    .description('compression settings, policy (job, compress_after, last run, next start) and compressed chunks')
    .option(...TABLE_FLAG)
    .action((flags: TableFlag, cmd: Command) =>
      run(cmd, async (ctx) => {
        const tableName = resolveSetting('table', flags.table, ctx.sources);
        const report = await withConnection(ctx, (conn, caps) => showCompression(conn.sql, caps, tableName));
        if (ctx.options.json) return ctx.printJson(report);
        printShow(ctx, report);
      }),
    );

  changeOptions(
    compression
      .command('set')
      .description(
        'make compression settings and policy match (flags > config setup.* > the seed); only what differs changes',
      )
      .option(
        '--after <interval>',
        `compress chunks older than this (default ${SETUP_DEFAULTS.compressAfter})`,
        intervalOption('--after'),
      )
      .option(...SEGMENT_BY_FLAG)
      .option(...ORDER_BY_FLAG)
      .option(...TABLE_FLAG),
  ).action((flags: ChangeFlags & { after?: Interval; segmentBy?: string; orderBy?: string }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = resolveSetupOptions({ ...flags, compressAfter: flags.after }, ctx.sources);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => setCompression(conn.sql, opts, hooks)),
      );
      printPlanResult(ctx, 'compression set', result, { hypertable: result.hypertable });
      finish(ctx, result, 'compression set');
    }),
  );

  changeOptions(
    compression
      .command('remove')
      .description('remove the compression policy; compressed chunks stay compressed')
      .option(...TABLE_FLAG),
  ).action((flags: ChangeFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = tableAndLock(ctx, flags);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => removeCompressionPolicy(conn.sql, opts, hooks)),
      );
      const note = `Removing the policy does not decompress anything: ${result.compressedChunks} compressed chunk${result.compressedChunks === 1 ? '' : 's'} of ${result.hypertable.schema}.${result.hypertable.name} stay${result.compressedChunks === 1 ? 's' : ''} compressed. To decompress them (they grow back to their full size): ${result.decompressHint}`;
      printPlanResult(ctx, 'compression remove', result, {
        hypertable: result.hypertable,
        compressedChunks: result.compressedChunks,
        note,
      });
      ctx.logger.info(note);
      finish(ctx, result, 'compression remove');
    }),
  );

  changeOptions(
    compression
      .command('run')
      .description(
        "compress the uncompressed chunks older than the policy's compress_after (or --older-than) now, one chunk per transaction",
      )
      .option(
        '--older-than <interval>',
        "compress chunks older than this (default: the policy's compress_after, else config setup.compressAfter, else 7 days)",
        intervalOption('--older-than'),
      )
      .option(...TABLE_FLAG),
  ).action((flags: ChangeFlags & { olderThan?: Interval }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const resolved = resolveSettings(['table', 'lockTimeout', 'compressAfter'], flags, ctx.sources);
      const dryRun = Boolean(flags.dryRun);
      let progress: ReturnType<typeof progressReporter> | undefined;
      let total = 0;
      let started = 0;
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
          {
            onWait: () => lockWaitNote(ctx),
            onPlan: (n) => {
              total = n;
              started = Date.now();
              if (n > 0 && !dryRun) progress = progressReporter(ctx, 'compressing', 'chunks');
            },
            onStep: (_s, i) => progress?.update({ done: i, total, elapsedMs: Date.now() - started }),
            signal: ctx.signal,
          },
        ),
      );
      const name = `${result.hypertable.schema}.${result.hypertable.name}`;
      const cutoff = `older than ${result.olderThan}${result.olderThanSource === 'policy' ? " (the policy's compress_after)" : result.olderThanSource === 'default' ? ' (the default; no compression policy)' : ''}`;
      const saved =
        result.chunksCompressed > 0
          ? `compressed ${result.chunksCompressed} chunk${result.chunksCompressed === 1 ? '' : 's'} of ${name}: ${formatBytes(result.beforeBytes)} → ${formatBytes(result.afterBytes)}${result.afterBytes > 0 ? ` (${(result.beforeBytes / result.afterBytes).toFixed(1)}× smaller)` : ''}`
          : null;
      if (progress) {
        if (result.chunksCompressed > 0)
          progress.update({ done: result.chunksCompressed, total, elapsedMs: Date.now() - started });
        if (saved && !result.failedStep) progress.succeed(saved);
        else progress.fail(saved ?? 'no chunk compressed');
      }
      const extra = {
        hypertable: result.hypertable,
        olderThan: result.olderThan,
        olderThanSource: result.olderThanSource,
        chunksCompressed: result.chunksCompressed,
        beforeBytes: result.beforeBytes,
        afterBytes: result.afterBytes,
      };
      if (result.steps.length === 0) {
        if (ctx.options.json) printPlanResult(ctx, 'compression run', result, extra);
        else ctx.logger.info(`nothing to compress: ${name} has no uncompressed chunks ${cutoff}.`);
        return;
      }
      printPlanResult(ctx, 'compression run', result, extra);
      if (!ctx.options.json && dryRun) ctx.logger.info(`chunks ${cutoff}.`);
      // succeed() already said it to people on a terminal or in a log.
      finish(ctx, result, 'compression run');
    }),
  );

  compression
    .command('stats')
    .description('sizes before and after compression, and the ratio, per hypertable and per chunk')
    .option('--table <name>', 'only this hypertable (default: every hypertable with compression enabled)')
    .action((flags: TableFlag, cmd: Command) =>
      run(cmd, async (ctx) => {
        const stats = await withConnection(ctx, (conn, caps) => compressionStats(conn.sql, caps, flags.table ?? null));
        if (ctx.options.json) return ctx.printJson({ hypertables: stats });
        if (stats.length === 0) {
          ctx.logger.info('No hypertable has compression enabled (homepot-ts compression set enables it).');
          return;
        }
        printStats(ctx, stats);
      }),
    );
}

/** --table and --lock-timeout: flags > environment > config > defaults. */
function tableAndLock(
  ctx: CommandContext,
  flags: ChangeFlags,
): { table: string; lockTimeout: Interval; dryRun: boolean } {
  return {
    ...resolveSettings(['table', 'lockTimeout'], flags, ctx.sources),
    dryRun: Boolean(flags.dryRun),
  };
}

/** After the result is printed: Ctrl-C is exit 130, a failed step its own exit code. */
function finish(ctx: CommandContext, result: ApplyResult, command: string): void {
  if (ctx.signal.aborted && result.steps.some((s) => s.reason === 'interrupted')) {
    throw new HomepotError('interrupted', 'interrupted: the steps before the interruption are applied', {
      hint: `Run ${command} again to finish.`,
    });
  }
  const failure = planFailure(result);
  if (failure) throw failure;
}

function printShow(ctx: CommandContext, r: CompressionShow): void {
  const c = ctx.chalk;
  const name = `${r.hypertable.schema}.${r.hypertable.name}`;
  const rows: (string | number)[][] = [];
  if (!r.available) {
    rows.push(['compression', c.dim('not available')], ['why', r.reason ?? '']);
  } else {
    rows.push(['compression', r.enabled ? c.green('enabled') : c.yellow('off')]);
    if (r.enabled) rows.push(['settings', describeSettings(r)]);
    const p = r.policy;
    rows.push([
      'policy',
      p
        ? `job ${p.jobId}: compress after ${p.compressAfter ?? '?'}, every ${p.scheduleInterval ?? '?'}${p.scheduled ? '' : c.yellow(' (paused)')}`
        : c.dim('none'),
    ]);
    if (p) {
      rows.push([
        'last run',
        p.lastRunStartedAt ? `${formatTime(p.lastRunStartedAt)} (${p.lastRunStatus ?? '?'})` : c.dim('never'),
      ]);
      rows.push(['next start', p.scheduled ? formatTime(p.nextStart) : c.yellow('paused')]);
    }
  }
  rows.push(['compressed chunks', `${r.chunks.compressed} of ${r.chunks.total}`]);
  ctx.print(table([name, ''], rows, c));
  if (r.available && r.policy && !r.jobScheduler) {
    ctx.logger.info(
      `No job scheduler runs here: the policy runs only by hand (homepot-ts compression run, or homepot-ts jobs run ${r.policy.jobId}).`,
    );
  }
}

function printStats(ctx: CommandContext, stats: HypertableCompressionStats[]): void {
  const c = ctx.chalk;
  ctx.print(
    table(
      ['hypertable', 'compressed chunks', 'before', 'after', 'ratio'],
      stats.map((h) => [
        `${h.schema}.${h.name}`,
        `${h.compressedChunks} of ${h.totalChunks}`,
        formatBytes(h.beforeBytes),
        formatBytes(h.afterBytes),
        ratioText(h.ratio),
      ]),
      c,
    ),
  );
  for (const h of stats) {
    if (h.chunks.length === 0) continue;
    ctx.print(`\n${c.bold(`${h.schema}.${h.name}`)} chunks:`);
    ctx.print(
      table(
        ['chunk', 'from', 'to', 'status', 'before', 'after', 'ratio'],
        h.chunks.map((ch) => [
          `${ch.schema}.${ch.name}`,
          formatTime(ch.rangeStart),
          formatTime(ch.rangeEnd),
          ch.status === 'Compressed' ? c.green(ch.status) : (ch.status ?? '-'),
          formatBytes(ch.beforeBytes),
          formatBytes(ch.afterBytes),
          ratioText(ch.ratio),
        ]),
        c,
      ),
    );
  }
}

function ratioText(r: number | null): string {
  return r === null ? '-' : `${r.toFixed(1)}×`;
}
