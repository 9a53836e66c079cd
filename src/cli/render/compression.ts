/**
 * How compression reads for people: compression show (settings, policy, compressed
 * chunks), compression stats (sizes and ratios per hypertable and chunk), and the
 * outcome of compression run (what was compressed, and how much smaller it got).
 * Nothing here talks to the database.
 */
import type { CommandContext } from '../context.js';
import { formatBytes, formatInterval, formatTime } from './format.js';
import { printPlanResult } from './plan.js';
import { table } from './table.js';
import { describeSettings } from '../../tuning/compression.js';
import type { CompressionRunResult, CompressionShow, HypertableCompressionStats } from '../../index.js';

export function printCompressionShow(ctx: CommandContext, r: CompressionShow): void {
  if (ctx.options.json) return ctx.printJson(r);
  const c = ctx.chalk;
  const name = `${r.hypertable.schema}.${r.hypertable.name}`;
  const rows: (string | number)[][] = [];
  if (!r.available) {
    rows.push(['compression (columnstore)', c.dim('not available')], ['why', r.reason ?? '']);
  } else {
    rows.push(['compression (columnstore)', r.enabled ? c.green('enabled') : c.yellow('off')]);
    if (r.enabled) rows.push(['settings', describeSettings(r)]);
    const p = r.policy;
    rows.push([
      'policy',
      p
        ? `job ${p.jobId}: compress after ${formatInterval(p.compressAfter ?? '?')}, every ${formatInterval(p.scheduleInterval ?? '?')}${p.scheduled ? '' : c.yellow(' (paused)')}`
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

export function printCompressionStats(ctx: CommandContext, stats: HypertableCompressionStats[]): void {
  if (ctx.options.json) return ctx.printJson({ hypertables: stats });
  if (stats.length === 0) {
    ctx.logger.info('No hypertable has compression enabled (homepot-ts compression set enables it).');
    return;
  }
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
      { middle: ['hypertable'], drop: ['before', 'after'] },
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
        { middle: ['chunk'], drop: ['to', 'before', 'after', 'status'] },
      ),
    );
  }
}

function ratioText(r: number | null): string {
  return r === null ? '-' : `${r.toFixed(1)}×`;
}

/** "compressed 3 chunks of public.health_checks: 40 MB → 4.0 MB (10.0× smaller)", or null when none was. */
export function compressedText(result: CompressionRunResult): string | null {
  if (result.chunksCompressed === 0) return null;
  const name = `${result.hypertable.schema}.${result.hypertable.name}`;
  const smaller = result.afterBytes > 0 ? ` (${(result.beforeBytes / result.afterBytes).toFixed(1)}× smaller)` : '';
  return `compressed ${result.chunksCompressed} chunk${result.chunksCompressed === 1 ? '' : 's'} of ${name}: ${formatBytes(result.beforeBytes)} → ${formatBytes(result.afterBytes)}${smaller}`;
}

/** compression run's plan result (JSON or table); when there was nothing to compress, say so. */
export function printCompressionRun(ctx: CommandContext, result: CompressionRunResult, dryRun: boolean): void {
  const name = `${result.hypertable.schema}.${result.hypertable.name}`;
  const cutoff = `older than ${result.olderThan}${result.olderThanSource === 'policy' ? " (the policy's compress_after)" : result.olderThanSource === 'default' ? ' (the default; no compression policy)' : ''}`;
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
}
