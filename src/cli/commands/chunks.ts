import { printChunks } from '../render/chunks.js';
import { resolveSetting, SETUP_DEFAULTS } from '../options.js';
import * as kinds from '../parse/values.js';
import { type RunCommand, withConnection } from '../context.js';
import type { Command } from 'commander';
import { Option } from 'commander';
import { listChunks, type ChunksOptions } from '../../chunks.js';
import { HomepotError } from '../../core/errors.js';

export function registerChunks(program: Command, run: RunCommand): void {
  program
    .command('chunks')
    .description("list a hypertable's chunks: time range, size, compression")
    .argument(
      '[table]',
      `hypertable name (schema.table, "Quoted Name" for mixed case; default config setup.table, else ${SETUP_DEFAULTS.table})`,
    )
    .option('--limit <n>', `show at most n chunks (default ${DEFAULT_LIMIT})`, kinds.count('--limit'))
    .option('--all', 'show every chunk')
    .option(
      '--since <time>',
      'only chunks holding rows from then on: a timestamp, or "2 days" (ago)',
      kinds.timeOrAgo('--since'),
    )
    .option('--compressed', 'only compressed chunks')
    .option('--uncompressed', 'only uncompressed chunks')
    .addOption(
      new Option('--order <order>', 'which chunks first')
        .choices(['newest', 'oldest'])
        .argParser(kinds.choice('--order', ['newest', 'oldest'] as const))
        .default('newest'),
    )
    .action((tableArg: string | undefined, opts: ChunksFlags, cmd: Command) =>
      run(cmd, async (ctx) => {
        const tableName = resolveSetting('table', tableArg, ctx.sources);
        const options = chunksOptions(opts);
        const report = await withConnection(ctx, (conn, caps) => listChunks(conn.sql, caps, tableName, options));
        printChunks(ctx, report);
      }),
    );
}

/** Chunks shown when neither --limit nor --all is given: the newest page of a hypertable of any size. */
const DEFAULT_LIMIT = 20;

interface ChunksFlags {
  limit?: number;
  all?: boolean;
  since?: string;
  compressed?: boolean;
  uncompressed?: boolean;
  order: 'newest' | 'oldest';
}

/** The flags as listChunks options; flags that contradict each other are refused before connecting. */
function chunksOptions(opts: ChunksFlags): ChunksOptions {
  if (opts.all && opts.limit !== undefined)
    throw new HomepotError('usage', '--all and --limit contradict each other', {
      hint: 'Give --all to see every chunk, or --limit n for the n first.',
    });
  if (opts.compressed && opts.uncompressed)
    throw new HomepotError('usage', '--compressed and --uncompressed contradict each other', {
      hint: 'Give one of them, or neither to see both kinds.',
    });
  return {
    limit: opts.all ? null : (opts.limit ?? DEFAULT_LIMIT),
    order: opts.order,
    since: opts.since ?? null,
    compressed: opts.compressed ? true : opts.uncompressed ? false : null,
  };
}
