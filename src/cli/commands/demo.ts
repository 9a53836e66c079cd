import { progressReporter } from '../feedback.js';
import { printDemo } from '../render/demo.js';
import { resolveAggregateOptions, resolveSetupOptions } from '../options.js';
import * as kinds from '../parse/values.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import type { Command } from 'commander';
import { formatCount } from '../../core/numbers.js';
import { runDemo, type DemoHooks } from '../../demo/pipeline.js';
import { planFailure } from '../../db/plan.js';

interface DemoFlags {
  sites: number;
  devices: number;
  days: number;
}

export function registerDemo(program: Command, run: RunCommand): void {
  program
    .command('demo')
    .description(
      'try it with no server: an embedded TimescaleDB with HOMEPOT tables and synthetic health checks, then status',
    )
    .option('--sites <n>', 'sites in the synthetic fleet', kinds.count('--sites', kinds.COUNT_MAX.sites), 3)
    .option('--devices <n>', 'devices per site', kinds.count('--devices', kinds.COUNT_MAX.devices), 5)
    .option(
      '--days <n>',
      'days of history, one health check per device per minute',
      kinds.count('--days', kinds.COUNT_MAX.days),
      3,
    )
    .action((opts: DemoFlags, cmd: Command) => run(cmd, (ctx) => demo(ctx, opts)));
}

async function demo(ctx: CommandContext, opts: DemoFlags): Promise<void> {
  // The demo never writes synthetic data into a database found through
  // DATABASE_URL or a config file: only an explicit --database-url, or
  // the embedded database (in memory unless --embedded <dir>).
  if (ctx.target.source !== '--database-url' && ctx.target.source !== '--embedded') {
    ctx.target = { kind: 'embedded', dir: null, source: '--embedded' };
  }
  // HOMEPOT's schema has varchar columns; TimescaleDB warns about them when health_checks becomes a
  // hypertable ("character varying ... does not follow best practices"): nothing a newcomer trying the
  // demo can act on, so the demo does not relay it (setup on a real database still does).
  const logger = ctx.logger;
  const quietCtx: CommandContext = {
    ...ctx,
    logger: {
      ...logger,
      warn: (m) =>
        /^server: column type .* does not follow best practices/.test(m) ? logger.debug(m) : logger.warn(m),
    },
  };
  const result = await withConnection(quietCtx, async (conn) => {
    const r = await runDemo(
      conn.sql,
      {
        fleet: { sites: opts.sites, devicesPerSite: opts.devices, days: opts.days },
        // The demo's own design: the seed's, from config and defaults (not from setup flags).
        setup: resolveSetupOptions({}, ctx.sources),
        aggregates: resolveAggregateOptions({}, ctx.sources),
      },
      demoFeedback(ctx),
    );
    return { ...r, status: { ...r.status, endpoint: conn.endpoint } };
  });
  printDemo(ctx, result);
  const failure = planFailure(result.aggregates);
  if (failure) throw failure;
}

/** Each phase's spinner starts when the phase does (one spinner on the terminal at a time). */
function demoFeedback(ctx: CommandContext): DemoHooks {
  const once = <T>(make: () => T) => {
    let v: T | undefined;
    return () => (v ??= make());
  };
  const load = once(() => progressReporter(ctx, 'loading synthetic health checks'));
  const setupSpin = once(() => ctx.spinner('running setup'));
  const aggProgress = once(() => progressReporter(ctx, 'materializing aggregates', 'windows'));
  return {
    onExistingData: () => ctx.logger.info('health_checks already holds data: not loading the synthetic fleet again.'),
    onLoadProgress: (p) => load().update({ done: p.rowsDone, total: p.rowsTotal, elapsedMs: p.elapsedMs }),
    onLoaded: (l) =>
      load().succeed(
        `loaded ${formatCount(l.healthChecks)} health checks for ${l.devices} devices at ${l.sites} sites ` +
          `(${formatCount(Math.round(l.rowsPerSecond))} rows/s)`,
      ),
    onSetupStep: (s) => setupSpin().update(`setup: ${s.title}`),
    onSetupDone: () => setupSpin().stop(),
    onAggregateProgress: (p) => aggProgress().update({ done: p.done, total: p.total, elapsedMs: p.elapsedMs }),
    onAggregatesDone: () => aggProgress().succeed('aggregates created and materialized'),
    signal: ctx.signal,
  };
}
