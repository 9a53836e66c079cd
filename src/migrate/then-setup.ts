import { runCreateAggregates, type CreateAggregatesResult } from '../aggregates/create.js';
import type { AggregateOptions } from '../aggregates/definitions.js';
import type { Sql } from '../db/connection.js';
import { planFailure, type ChangeHooks } from '../db/plan.js';
import { runSetup, type SetupOptions, type SetupResult } from '../setup.js';
import type { MigrateResult } from './result.js';

/**
 * migrate-from-postgres --setup: once the table is a hypertable (migrated
 * now, or before), make the database match the design (setup), then create
 * the aggregates. Nothing on a dry run or when the migration did not end
 * with a hypertable. A failed setup step ends it before the aggregates (the
 * caller prints setup's plan and throws planFailure).
 */
export interface SetupAfterMigrate {
  setup: SetupResult;
  aggregates: CreateAggregatesResult | null;
  /** The migration's result with the outcomes of both recorded (`setup`) and the next step. */
  result: MigrateResult;
}

export async function runSetupAfterMigrate(
  sql: Sql,
  migrated: MigrateResult,
  opts: { setup: SetupOptions; aggregates: AggregateOptions },
  hooks: ChangeHooks = {},
): Promise<SetupAfterMigrate | null> {
  const hypertable = ['migrated', 'already-migrated', 'already-hypertable'].includes(migrated.outcome);
  if (migrated.dryRun || !hypertable) return null;
  const setup = await runSetup(sql, opts.setup, hooks);
  const aggregates = planFailure(setup)
    ? null
    : await runCreateAggregates(sql, opts.aggregates, hooks.signal ? { signal: hooks.signal } : {});
  const outcomes = (steps: { id: string; outcome: string }[]) => steps.map((s) => ({ id: s.id, outcome: s.outcome }));
  return {
    setup,
    aggregates,
    result: {
      ...migrated,
      setup: { steps: outcomes(setup.steps), aggregates: outcomes(aggregates?.steps ?? []) },
      nextSteps: ['homepot-ts status'],
    },
  };
}
