import { runCreateAggregates, type CreateAggregatesResult } from '../aggregates/create.js';
import type { AggregateOptions } from '../aggregates/definitions.js';
import type { Sql } from '../db/connection.js';
import { planFailure, type ChangeHooks } from '../db/plan.js';
import { runSetup, type SetupOptions, type SetupResult } from '../setup.js';

/**
 * migrate-from-postgres --setup: once the table is a hypertable, make the
 * database match the design (setup), then create the aggregates. A failed
 * setup step ends it before the aggregates (the caller prints the plan and
 * throws planFailure).
 */
export async function runSetupAfterMigrate(
  sql: Sql,
  opts: { setup: SetupOptions; aggregates: AggregateOptions },
  hooks: ChangeHooks = {},
): Promise<{ setup: SetupResult; aggregates: CreateAggregatesResult | null }> {
  const setup = await runSetup(sql, opts.setup, hooks);
  if (planFailure(setup)) return { setup, aggregates: null };
  const aggregates = await runCreateAggregates(sql, opts.aggregates, hooks.signal ? { signal: hooks.signal } : {});
  return { setup, aggregates };
}
