import { formatBytes, formatTime } from '../render/format.js';
import { table } from '../render/table.js';
import { parsePositiveInt, resolveSetting, SETUP_DEFAULTS } from '../options.js';
import { type RunCommand, withConnection } from '../context.js';
import type { Command } from 'commander';
import { Option } from 'commander';
import { listChunks } from '../../chunks.js';

export function registerChunks(program: Command, run: RunCommand): void {
  program
    .command('chunks')
    .description("list a hypertable's chunks: time range, size, compression")
    .argument(
      '[table]',
      `hypertable name (schema.table, "Quoted Name" for mixed case; default config setup.table, else ${SETUP_DEFAULTS.table})`,
    )
    .option('--limit <n>', 'show at most n chunks', (v) => parsePositiveInt(v, '--limit'))
    .addOption(new Option('--order <order>', 'which chunks first').choices(['newest', 'oldest']).default('newest'))
    .action((tableArg: string | undefined, opts: { limit?: number; order: 'newest' | 'oldest' }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const tableName = resolveSetting('table', tableArg, ctx.sources);
        const report = await withConnection(ctx, (conn, caps) =>
          listChunks(conn.sql, caps, tableName, { limit: opts.limit ?? null, order: opts.order }),
        );
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
              ch.compressed ? c.green('yes') : 'no',
              ch.compressed && ch.beforeCompressionBytes
                ? `${formatBytes(ch.beforeCompressionBytes)} → ${formatBytes(ch.afterCompressionBytes)} (${ratio(ch.beforeCompressionBytes, ch.afterCompressionBytes)})`
                : '-',
            ]),
            c,
          ),
        );
        ctx.logger.info(
          `${name}: ${report.chunks.length} of ${report.total} chunks shown (${report.order} first), ${report.compressed} compressed.`,
        );
      }),
    );
}

function ratio(before: number, after: number | null): string {
  return after && after > 0 ? `${(before / after).toFixed(1)}×` : '-';
}
