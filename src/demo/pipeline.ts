import { runCreateAggregates, type CreateAggregatesResult } from '../aggregates/create.js';
import type { AggregateOptions } from '../aggregates/definitions.js';
import type { MaterializeProgress } from '../aggregates/refresh.js';
import { exampleQueries, type ExampleQueryResult } from './example-queries.js';
import { detectCapabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { planFailure, type Step } from '../db/plan.js';
import { executeRendered, queryOne, sqlFile } from '../db/sql.js';
import { runSetup, type SetupOptions, type SetupResult } from '../setup.js';
import { getStatus, type StatusReport } from '../status.js';
import { loadFleet, type FleetSpec, type LoadProgress, type LoadResult } from './fleet-data.js';
import { applyHomepotSchema } from './schema.js';

/**
 * The demo, end to end, on whatever database it is given (the CLI gives it
 * the embedded one unless --database-url names one): HOMEPOT's tables, a
 * synthetic fleet when health_checks is empty, setup and create-aggregates
 * with the design's settings, then status and the seed's example queries.
 */

export interface DemoOptions {
  fleet: FleetSpec;
  setup: SetupOptions;
  aggregates: AggregateOptions;
}

export interface DemoHooks {
  /** health_checks already held rows: nothing was loaded. */
  onExistingData?: () => void;
  onLoadProgress?: (p: LoadProgress) => void;
  onLoaded?: (load: LoadResult) => void;
  onSetupStep?: (step: Step) => void;
  onSetupDone?: () => void;
  onAggregateProgress?: (p: MaterializeProgress) => void;
  onAggregatesDone?: () => void;
  signal?: AbortSignal;
}

export interface DemoResult {
  load: LoadResult | null;
  setup: SetupResult;
  aggregates: CreateAggregatesResult;
  status: StatusReport;
  examples: ExampleQueryResult[];
}

export async function runDemo(sql: Sql, opts: DemoOptions, hooks: DemoHooks = {}): Promise<DemoResult> {
  await applyHomepotSchema(sql);
  let load: LoadResult | null = null;
  const existing = await queryOne<{ n: boolean }>(sql, 'demo/has-health-checks.sql');
  if (existing?.n) {
    hooks.onExistingData?.();
  } else {
    load = await loadFleet(sql, opts.fleet, hooks.onLoadProgress, hooks.signal);
    hooks.onLoaded?.(load);
  }
  const setup = await runSetup(sql, opts.setup, {
    ...(hooks.onSetupStep ? { onStep: hooks.onSetupStep } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });
  hooks.onSetupDone?.();
  // The rows are the demo's own, loaded a moment ago: the warning about converting a table in use
  // under ACCESS EXCLUSIVE is for people's tables, not this one.
  const converted = setup.steps.find((s) => s.id === 'hypertable')?.warning;
  if (load !== null && converted) setup.warnings = setup.warnings.filter((w) => w !== converted);
  const setupFailure = planFailure(setup);
  if (setupFailure) throw setupFailure;
  const aggregates = await runCreateAggregates(sql, opts.aggregates, {
    ...(hooks.onAggregateProgress ? { onProgress: hooks.onAggregateProgress } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });
  hooks.onAggregatesDone?.();
  await executeRendered(sql, sqlFile('demo/analyze.sql'));
  const status = await getStatus(sql, { capabilities: await detectCapabilities(sql) });
  const examples = planFailure(aggregates) ? [] : await exampleQueries(sql);
  return { load, setup, aggregates, status, examples };
}
