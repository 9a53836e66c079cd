import type { Command } from 'commander';
import { detectCapabilities } from '../../db/capabilities.js';
import { withConnection } from '../context.js';
import { loadFleet, type LoadResult } from '../../demo/fleet-data.js';
import { formatCount } from '../../core/numbers.js';
import { progressReporter } from '../progress.js';
import { applyHomepotSchema } from '../../demo/schema.js';
import { runSetup } from '../../setup.js';
import { resolveAggregateOptions, resolveSetupOptions } from '../options.js';
import { printPlanResult } from './plan-output.js';
import { runCreateAggregates } from '../../aggregates/create.js';
import { exampleQueries, type ExampleQueryResult } from '../../demo/example-queries.js';
import { table } from '../output.js';
import { getStatus } from '../../status.js';
import { planFailure } from '../../db/plan.js';
import { printStatus, statusJson } from './status.js';
import { parsePositiveInt, type RunCommand } from './shared.js';

export function registerDemo(program: Command, run: RunCommand): void {
  program
    .command('demo')
    .description(
      'try it with no server: an embedded TimescaleDB with HOMEPOT tables and synthetic health checks, then status',
    )
    .option('--sites <n>', 'sites in the synthetic fleet', (v) => parsePositiveInt(v, '--sites'), 3)
    .option('--devices <n>', 'devices per site', (v) => parsePositiveInt(v, '--devices'), 5)
    .option(
      '--days <n>',
      'days of history, one health check per device per minute',
      (v) => parsePositiveInt(v, '--days'),
      3,
    )
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
          const setup = await runSetup(conn.sql, resolveSetupOptions({}, ctx.sources), {
            onStep: (s) => setupSpin.update(`setup: ${s.title}`),
            signal: ctx.signal,
          });
          setupSpin.stop();
          const setupFailure = planFailure(setup);
          if (setupFailure) throw setupFailure;
          const aggProgress = progressReporter(ctx, 'materializing aggregates', 'windows');
          const aggregates = await runCreateAggregates(conn.sql, resolveAggregateOptions({}, ctx.sources), {
            onProgress: (p) => aggProgress.update({ done: p.done, total: p.total, elapsedMs: p.elapsedMs }),
            signal: ctx.signal,
          });
          aggProgress.succeed('aggregates created and materialized');
          await conn.sql`ANALYZE sites, devices, health_checks`;
          const caps = await detectCapabilities(conn.sql);
          const status = await getStatus(conn.sql, { capabilities: caps });
          const examples = planFailure(aggregates) ? [] : await exampleQueries(conn.sql);
          return { load, setup, aggregates, examples, status: { ...status, endpoint: conn.endpoint } };
        });
        if (ctx.options.json) {
          ctx.printJson({
            load: result.load,
            setup: result.setup,
            aggregates: result.aggregates,
            status: statusJson(result.status, ctx.target.source),
            examples: result.examples,
          });
        } else {
          ctx.print(ctx.chalk.bold('setup') + ' (the plan it applied)');
          printPlanResult(ctx, 'setup', result.setup);
          ctx.print('\n' + ctx.chalk.bold('create-aggregates') + ' (the plan it applied)');
          printPlanResult(ctx, 'create-aggregates', result.aggregates);
          ctx.print('');
          printStatus(ctx, result.status);
          for (const ex of result.examples) ctx.print(renderExample(ex, ctx.chalk));
        }
        const failure = planFailure(result.aggregates);
        if (failure) throw failure;
      }),
    );
}

/** One of the seed's example queries and its first rows, as a table. */
function renderExample(ex: ExampleQueryResult, c: import('chalk').ChalkInstance): string {
  const head = `\n${c.bold.underline(ex.title)}\n${c.dim(ex.query)}`;
  if (ex.rows.length === 0) return `${head}\n${c.dim('  no rows')}`;
  const cols = Object.keys(ex.rows[0]!).slice(0, 8);
  const shown = ex.rows.slice(0, 5).map((r) => cols.map((k) => cell(r[k])));
  const more = ex.rows.length > 5 ? c.dim(`  … ${ex.rows.length - 5} more rows`) : '';
  return `${head}\n${table(cols, shown, c)}${more ? '\n' + more : ''}`;
}

function cell(v: unknown): string {
  if (v instanceof Date)
    return v
      .toISOString()
      .replace('T', ' ')
      .replace(/:00\.000Z$/, 'Z');
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === 'string' && /^-?\d+\.\d{3,}$/.test(v)) return Number(v).toFixed(2);
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return v.toString();
  return JSON.stringify(v) ?? '-';
}
