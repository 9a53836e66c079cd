/**
 * How `chunks` reads for people: a hypertable's chunks (time range, size,
 * compression) and a line saying how many are shown; JSON is the library's
 * report as it is. Also chunk-interval show. Nothing here talks to the database.
 */
import type { CommandContext } from '../context.js';
import { formatBytes, formatInterval, formatTime } from './format.js';
import { table, wrapped } from './table.js';
import { formatCount } from '../../core/numbers.js';
import type { ChunkIntervalReport, ChunksReport } from '../../index.js';

export function printChunks(ctx: CommandContext, report: ChunksReport): void {
  if (ctx.options.json) return ctx.printJson(report);
  const c = ctx.chalk;
  const name = `${report.hypertable.schema}.${report.hypertable.name}`;
  if (report.total === 0) {
    ctx.logger.info(`${name} has no chunks yet (no rows).`);
    return;
  }
  ctx.print(wrapped(chunksSummary(report)));
  if (report.chunks.length > 0) ctx.print(chunksTable(report, c));
  const more = report.matching - report.chunks.length;
  const which = report.filters.since !== null || report.filters.compressed !== null ? ' matching' : '';
  if (report.chunks.length === 0) ctx.logger.info(`no chunks of ${name} match ${filterText(report)}.`);
  else if (more > 0)
    ctx.logger.info(
      `${report.chunks.length} ${report.order} of ${report.matching}${which} chunks shown; ${more} more: --limit n or --all shows them, --since <time> and --compressed / --uncompressed choose which.`,
    );
  if (report.partiallyCompressed)
    ctx.logger.info(
      `${report.partiallyCompressed} partially compressed: rows inserted after compression; homepot-ts compression run compresses them.`,
    );
}

/** One line: chunk count, size, compressed share, and the time the chunks cover. */
function chunksSummary(r: ChunksReport): string {
  const percent = r.total > 0 ? (r.compressed / r.total) * 100 : 0;
  const share = percent > 0 && percent < 1 ? '<1' : String(Math.round(percent));
  const range = (v: Date | number | null) => (v instanceof Date ? formatTime(v) : String(v ?? '-'));
  return `${r.hypertable.schema}.${r.hypertable.name}: ${formatCount(r.total)} chunk${r.total === 1 ? '' : 's'}, ${formatBytes(r.totalBytes)}, ${formatCount(r.compressed)} compressed (${share}%), ${range(r.oldest)} → ${range(r.newest)}`;
}

function filterText(r: ChunksReport): string {
  const parts = [
    r.filters.since !== null ? `--since ${r.filters.since}` : '',
    r.filters.compressed === true ? '--compressed' : r.filters.compressed === false ? '--uncompressed' : '',
  ];
  return parts.filter(Boolean).join(' ') || 'the filters';
}

function chunksTable(report: ChunksReport, c: CommandContext['chalk']): string {
  return table(
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
