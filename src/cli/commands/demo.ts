import { progressReporter } from '../feedback.js';
import { printPlanResult } from '../render/plan.js';
import { table } from '../render/table.js';
import { parsePositiveInt, resolveAggregateOptions, resolveSetupOptions } from '../options.js';
import { type RunCommand, withConnection } from '../context.js';
import type { Command } from 'commander';
import { formatCount } from '../../core/numbers.js';
import type { ExampleQueryResult } from '../../aggregates/aggregates.js';
import { runDemo } from '../../demo/pipeline.js';
import { planFailure } from '../../db/plan.js';
import { printStatus, statusJson } from '../render/status.js';

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
          // Each phase's spinner starts when the phase does (one spinner on the terminal at a time).
          const once = <T>(make: () => T) => {
            let v: T | undefined;
            return () => (v ??= make());
          };
          const load = once(() => progressReporter(ctx, 'loading synthetic health checks'));
          const setupSpin = once(() => ctx.spinner('running setup'));
          const aggProgress = once(() => progressReporter(ctx, 'materializing aggregates', 'windows'));
          const r = await runDemo(
            conn.sql,
            {
              fleet: { sites: opts.sites, devicesPerSite: opts.devices, days: opts.days },
              // The demo's own design: the seed's, from config and defaults (not from setup flags).
              setup: resolveSetupOptions({}, ctx.sources),
              aggregates: resolveAggregateOptions({}, ctx.sources),
            },
            {
              onExistingData: () =>
                ctx.logger.info('health_checks already holds data: not loading the synthetic fleet again.'),
              onLoadProgress: (p) => load().update({ done: p.rowsDone, total: p.rowsTotal, elapsedMs: p.elapsedMs }),
              onLoaded: (l) =>
                load().succeed(
                  `loaded ${formatCount(l.healthChecks)} health checks for ${l.devices} devices at ${l.sites} sites ` +
                    `(${formatCount(Math.round(l.rowsPerSecond))} rows/s)`,
                ),
              onSetupStep: (s) => setupSpin().update(`setup: ${s.title}`),
              onSetupDone: () => setupSpin().stop(),
              onAggregateProgress: (p) =>
                aggProgress().update({ done: p.done, total: p.total, elapsedMs: p.elapsedMs }),
              onAggregatesDone: () => aggProgress().succeed('aggregates created and materialized'),
              signal: ctx.signal,
            },
          );
          return { ...r, status: { ...r.status, endpoint: conn.endpoint } };
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
