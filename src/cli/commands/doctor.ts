import { printDoctor } from '../render/doctor.js';
import { resolveSetting } from '../options.js';
import { type RunCommand, withConnection } from '../context.js';
import type { Command } from 'commander';
import { ExitCode } from '../../core/exit-codes.js';
import { runDoctor } from '../../doctor/doctor.js';

export function registerDoctor(program: Command, run: RunCommand): void {
  program
    .command('doctor')
    .description(
      "check the database against TimescaleDB's and HOMEPOT's operating advice; exit 0 ok, 8 warnings, 10 problems",
    )
    .action((_opts: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        const retention = resolveSetting('retention', undefined, ctx.sources);
        const report = await withConnection(ctx, (conn, caps) =>
          runDoctor(conn.sql, { capabilities: caps, retention: retention ? retention.text : false }),
        );
        printDoctor(ctx, report);
        return report.status === 'problem'
          ? ExitCode.doctorProblems
          : report.status === 'warning'
            ? ExitCode.doctorWarnings
            : ExitCode.ok;
      }),
    );
}
