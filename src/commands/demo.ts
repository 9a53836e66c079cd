import type { Command } from 'commander';
import { detectCapabilities } from '../capabilities.js';
import { withConnection } from '../context.js';
import { loadFleet, type LoadResult } from '../fleet-data.js';
import { formatCount } from '../output.js';
import { progressReporter } from '../progress.js';
import { applyHomepotSchema } from '../schema.js';
import { runSetup } from '../setup.js';
import { resolveSetupOptions } from '../setup-options.js';
import { printPlanResult } from './plan-output.js';
import { getStatus } from '../status.js';
import { planFailure } from '../plan.js';
import { printStatus, statusJson } from './status.js';
import { parsePositiveInt, type RunCommand } from './shared.js';

export function registerDemo(program: Command, run: RunCommand): void {
  program
    .command('demo')
    .description('try it with no server: an embedded TimescaleDB with HOMEPOT tables and synthetic health checks, then status')
    .option('--sites <n>', 'sites in the synthetic fleet', (v) => parsePositiveInt(v, '--sites'), 3)
    .option('--devices <n>', 'devices per site', (v) => parsePositiveInt(v, '--devices'), 5)
    .option('--days <n>', 'days of history, one health check per device per minute', (v) => parsePositiveInt(v, '--days'), 3)
    .action((opts: { sites: number; devices: number; days: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        // The demo never writes synthetic data into a database found through
        // DATABASE_URL or a config file: only an explicit --database-url, or
        // the embedded database (in memory unless --embedded <dir>).
        if (ctx.target.source !== '--database-url' && ctx.target.source !== '--embedded') {
          ctx.target = { kind: 'embedded', dir: null, source: '--embedded' };
        }
        const result = await withConnection(ctx, async (conn) => {
          await applyHomepotSchema(conn.sql);
          const [existing] = await conn.sql<{ n: boolean }[]>`SELECT EXISTS (SELECT 1 FROM health_checks) AS n`;
          let load: LoadResult | null = null;
          if (existing?.n) {
            ctx.logger.info('health_checks already holds data: not loading the synthetic fleet again.');
          } else {
            const progress = progressReporter(ctx, 'loading synthetic health checks');
            load = await loadFleet(
              conn.sql,
              { sites: opts.sites, devicesPerSite: opts.devices, days: opts.days },
              (p) => progress.update({ done: p.rowsDone, total: p.rowsTotal, elapsedMs: p.elapsedMs }),
              ctx.signal,
            );
            progress.succeed(
              `loaded ${formatCount(load.healthChecks)} health checks for ${load.devices} devices at ${load.sites} sites ` +
              `(${formatCount(Math.round(load.rowsPerSecond))} rows/s)`,
            );
          }
          // The demo's own design: the seed's, from config and defaults (not from setup flags).
          const setupSpin = ctx.spinner('running setup');
          const setup = await runSetup(conn.sql, resolveSetupOptions({}, ctx.config), {
            onStep: (s) => setupSpin.update(`setup: ${s.title}`),
            signal: ctx.signal,
          });
          setupSpin.stop();
          await conn.sql`ANALYZE sites, devices, health_checks`;
          const caps = await detectCapabilities(conn.sql);
          const status = await getStatus(conn.sql, { capabilities: caps });
          return { load, setup, status: { ...status, endpoint: conn.endpoint } };
        });
        if (ctx.options.json) {
          ctx.printJson({ load: result.load, setup: result.setup, status: statusJson(result.status, ctx.target.source) });
        } else {
          ctx.print(ctx.chalk.bold('setup') + ' (the plan it applied)');
          printPlanResult(ctx, 'setup', result.setup);
          ctx.print('');
          printStatus(ctx, result.status);
        }
        const failure = planFailure(result.setup);
        if (failure) throw failure;
      }),
    );
}
