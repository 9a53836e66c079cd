import { withChangeFeedback } from '../feedback.js';
import { printChunkInterval } from '../render/chunks.js';
import { type RunCommand, withConnection } from '../context.js';
import type { Command } from 'commander';
import { setChunkInterval, showChunkInterval } from '../../tuning/chunk-interval.js';
import type { Interval } from '../../core/intervals.js';
import { changeOptions, tableOption } from '../parse/flags.js';
import * as kinds from '../parse/values.js';
import { finishChange, resolveTuning } from './change.js';

const NEW_CHUNKS_ONLY = 'The chunk interval applies to NEW chunks only: existing chunks keep their size.';

export function registerChunkInterval(program: Command, run: RunCommand): void {
  const ci = program
    .command('chunk-interval')
    .description('the time span of new chunks of a hypertable: show or set it (TimescaleDB, any edition)');

  tableOption(
    ci.command('show', { isDefault: true }).description('the chunk interval new chunks get (the default)'),
  ).action((flags: { table?: string }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const { table } = resolveTuning(flags, ctx);
      const r = await withConnection(ctx, (conn, caps) => showChunkInterval(conn.sql, caps, table));
      printChunkInterval(ctx, r);
    }),
  );

  changeOptions(
    tableOption(
      ci
        .command('set')
        .description('set the chunk interval of new chunks (set_chunk_time_interval; idempotent)')
        .argument('<interval>', 'time span of each new chunk, e.g. 1d or "7 days"', kinds.interval('interval')),
    ),
  ).action((interval: Interval, flags: { table?: string; dryRun?: boolean; lockTimeout?: Interval }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = { ...resolveTuning(flags, ctx), interval };
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => setChunkInterval(conn.sql, opts, hooks)),
      );
      finishChange(ctx, 'chunk-interval set', result, { chunkInterval: interval.text, appliesTo: 'new chunks only' });
      if (result.changed || result.dryRun) ctx.logger.info(NEW_CHUNKS_ONLY);
    }),
  );
}
