/**
 * How the demo reads: its JSON document (load, setup, aggregates, status,
 * examples), or for people the plans setup and create-aggregates applied, the
 * status report, and the seed's example queries with their first rows. Nothing
 * here talks to the database.
 */
import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../context.js';
import { printPlanResult } from './plan.js';
import { printStatus, statusJson } from './status.js';
import { table, wrapSql } from './table.js';
import type { DemoResult, Endpoint, ExampleQueryResult, StatusReport } from '../../index.js';

export function printDemo(
  ctx: CommandContext,
  result: DemoResult & { status: StatusReport & { endpoint: Endpoint } },
): void {
  if (ctx.options.json) {
    ctx.printJson({
      load: result.load,
      setup: result.setup,
      aggregates: result.aggregates,
      status: statusJson(result.status, ctx.target.source),
      examples: result.examples,
    });
    return;
  }
  ctx.print(ctx.chalk.bold('setup') + ' (the plan it applied)');
  printPlanResult(ctx, 'setup', result.setup);
  ctx.print('\n' + ctx.chalk.bold('create-aggregates') + ' (the plan it applied)');
  printPlanResult(ctx, 'create-aggregates', result.aggregates);
  ctx.print('');
  printStatus(ctx, result.status);
  for (const ex of result.examples) ctx.print(renderExample(ex, ctx.chalk));
}

/** One of the seed's example queries and its first rows, as a table. */
function renderExample(ex: ExampleQueryResult, c: ChalkInstance): string {
  const head = `\n${c.bold.underline(ex.title)}\n${c.dim(wrapSql(ex.query))}`;
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
