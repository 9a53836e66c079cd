/**
 * How `chunks` reads for people: a hypertable's chunks (time range, size,
 * compression) and a line saying how many are shown; JSON is the library's
 * report as it is. Also chunk-interval show. Nothing here talks to the database.
 */
import type { CommandContext } from '../context.js';
import { formatBytes, formatInterval, formatTime } from './format.js';
import { table } from './table.js';
import type { ChunkIntervalReport, ChunksReport } from '../../index.js';

export function printChunks(ctx: CommandContext, report: ChunksReport): void {
  if (ctx.options.json) return ctx.printJson(report);
  const c = ctx.chalk;
  const name = `${report.hypertable.schema}.${report.hypertable.name}`;
  if (report.total === 0) {
    ctx.logger.info(`${name} has no chunks yet (no rows).`);
    return;
  }
  ctx.print(
    table(
      ['chunk', 'from', 'to', 'size', 'compressed', 'before → after'],
      report.chunks.map((ch) => [
        `${ch.schema}.${ch.name}`,
        ch.rangeStart instanceof Date ? formatTime(ch.rangeStart) : String(ch.rangeStart ?? '-'),
        ch.rangeEnd instanceof Date ? formatTime(ch.rangeEnd) : String(ch.rangeEnd ?? '-'),
        formatBytes(ch.totalBytes),
        ch.partiallyCompressed ? c.yellow('partially') : ch.compressed ? c.green('yes') : 'no',
        ch.compressed && ch.beforeCompressionBytes
          ? `${formatBytes(ch.beforeCompressionBytes)} → ${formatBytes(ch.afterCompressionBytes)} (${ratio(ch.beforeCompressionBytes, ch.afterCompressionBytes)})`
          : '-',
      ]),
      c,
      { middle: ['chunk'], drop: ['before → after', 'to'] },
    ),
  );
  ctx.logger.info(
    `${name}: ${report.chunks.length} of ${report.total} chunks shown (${report.order} first), ${report.compressed} compressed${report.partiallyCompressed ? ` (${report.partiallyCompressed} partially compressed: rows inserted after compression; homepot-ts compression run compresses them)` : ''}.`,
  );
}

function ratio(before: number, after: number | null): string {
  return after && after > 0 ? `${(before / after).toFixed(1)}×` : '-';
}

/** chunk-interval show: the table, its time column, the interval new chunks get, and the chunk count. */
export function printChunkInterval(ctx: CommandContext, r: ChunkIntervalReport): void {
  if (ctx.options.json) return ctx.printJson({ command: 'chunk-interval show', ...r });
  const c = ctx.chalk;
  ctx.print(
    [
      `${c.bold('table         ')}  ${r.table}`,
      `${c.bold('time column   ')}  ${r.timeColumn}`,
      `${c.bold('chunk interval')}  ${r.chunkInterval ? formatInterval(r.chunkInterval) : `${r.integerInterval} (integer)`}`,
      `${c.bold('chunks        ')}  ${r.chunks}`,
    ].join('\n'),
  );
}
