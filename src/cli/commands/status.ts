import * as kinds from '../parse/values.js';
import { type RunCommand, withConnection } from '../context.js';
import { printStatus } from '../render/status.js';
import type { Command } from 'commander';
import { getStatus } from '../../status.js';

export function registerStatus(program: Command, run: RunCommand): void {
  program
    .command('status')
    .description('show the server, TimescaleDB edition, hypertables, aggregates, jobs and recent job errors')
    .option('--errors <n>', 'recent job errors to show', kinds.count('--errors'), 5)
    .action((opts: { errors: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const report = await withConnection(ctx, async (conn) => {
          const r = await getStatus(conn.sql, { jobErrorLimit: opts.errors });
          return { ...r, endpoint: conn.endpoint };
        });
        printStatus(ctx, report);
      }),
    );
}
