import { printChunks } from '../render/chunks.js';
import { resolveSetting, SETUP_DEFAULTS } from '../options.js';
import * as kinds from '../parse/values.js';
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
    .option('--limit <n>', 'show at most n chunks', kinds.count('--limit'))
    .addOption(
      new Option('--order <order>', 'which chunks first')
        .choices(['newest', 'oldest'])
        .argParser(kinds.choice('--order', ['newest', 'oldest'] as const))
        .default('newest'),
    )
    .action((tableArg: string | undefined, opts: { limit?: number; order: 'newest' | 'oldest' }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const tableName = resolveSetting('table', tableArg, ctx.sources);
        const report = await withConnection(ctx, (conn, caps) =>
          listChunks(conn.sql, caps, tableName, { limit: opts.limit ?? null, order: opts.order }),
        );
        printChunks(ctx, report);
      }),
    );
}
