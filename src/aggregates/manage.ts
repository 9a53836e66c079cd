import { detectCapabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { featureGap } from '../db/features.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import { applyOptions, applySteps, withChangeLock, type ApplyResult, type ChangeHooks, type Step } from '../db/plan.js';
import { preflight } from '../steps/hypertable.js';
import { renderStatement } from '../db/sql.js';
import {
  KIND_TEXT,
  kindWithArticle,
  REFRESH_CRON_LINE,
  checkPolicy,
  defaultPolicies,
  type AggregateName,
  type RefreshPolicy,
} from './definitions.js';
import {
  existingAggregate,
  missingAggregate,
  retentionWarnings,
  sameDefinition,
  type ExistingAggregate,
} from './inspect.js';
import { isOurTable } from './tables.js';
import { policyStep } from './create-plan.js';

/**
 * Changing one existing aggregate: `aggregates policy <name>` (a continuous
 * aggregate's refresh policy, compared and altered like create-aggregates
 * does) and `aggregates drop <name>` (destructive, through a plan and
 * --dry-run, and only what the catalog proves homepot-ts made). Both under the change lock.
 */

/** `aggregates policy <name>`: set a continuous aggregate's refresh policy (Community edition). */
export async function runSetPolicy(
  sql: Sql,
  name: AggregateName,
  policy: RefreshPolicy,
  opts: { lockTimeout: Interval; dryRun: boolean },
  hooks: ChangeHooks = {},
): Promise<ApplyResult & { warnings: string[] }> {
  checkPolicy(name, policy);
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      preflight(caps, { require: null }, 'aggregates policy');
      const ex = await existingAggregate(conn, caps, name);
      const gap = featureGap(caps, 'community');
      if (gap || ex?.kind === 'materialized' || ex?.kind === 'table') {
        throw new HomepotError(
          gap?.kind ?? 'timescaledb-edition',
          `refresh policies need continuous aggregates; ${name} here is ${ex ? kindWithArticle(ex.kind) : 'missing'}${gap ? `: a continuous aggregate ${gap.reason}` : ''}`,
          { hint: `Refresh the aggregate tables from cron instead, e.g.: ${REFRESH_CRON_LINE}` },
        );
      }
      if (!ex || ex.kind !== 'continuous') throw missingAggregate(name);
      const step = await policyStep(conn, ex.schema, name, policy, true);
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      const warnings = await retentionWarnings(conn, caps, { ...defaultPolicies(), [name]: policy });
      return { ...result, warnings: warnings.filter((x) => x.startsWith(name)) };
    },
    hooks.onWait,
  );
}

/**
 * Refuse to drop what the catalog does not prove homepot-ts made: a
 * continuous aggregate is one by TimescaleDB's catalog; an aggregate table
 * carries our comment, is owned by us (or a superuser) and has our columns;
 * a materialized view (an earlier version's) has our definition.
 */
async function requireOurs(conn: Sql, name: AggregateName, ex: ExistingAggregate): Promise<void> {
  if (ex.kind === 'continuous') return;
  const ours =
    ex.kind === 'table'
      ? isOurTable(ex) && (await sameDefinition(conn, 'table', name, ex.definition))
      : ex.kind === 'materialized' && ex.trusted && (await sameDefinition(conn, 'materialized', name, ex.definition));
  if (ours) return;
  throw new HomepotError(
    'unsuitable-table',
    `${ex.schema}.${name} is ${kindWithArticle(ex.kind)} (owned by role "${ex.owner}") that homepot-ts did not make: not dropped`,
    { hint: `Nothing was changed. Drop it yourself if it should go (DROP ... ${ex.schema}.${name}).` },
  );
}

/** `aggregates drop <name>`: destructive, through a plan (and --dry-run); only what homepot-ts made. */
export async function runDrop(
  sql: Sql,
  name: AggregateName,
  opts: { lockTimeout: Interval; dryRun: boolean },
  hooks: ChangeHooks = {},
): Promise<ApplyResult & { warnings: string[] }> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      preflight(caps, { require: null }, 'aggregates drop');
      const ex = await existingAggregate(conn, caps, name);
      if (ex) await requireOurs(conn, name, ex);
      const step: Step = ex
        ? {
            id: `drop:${name}`,
            title: `drop ${name} (${KIND_TEXT[ex.kind]})`,
            state: 'needed',
            destructive: true,
            wanted: 'dropped, with its materialized rows and refresh policy',
            statements: [
              await renderStatement(conn, 'aggregates/lib/render-drop.sql', [ex.schema, name, ex.kind === 'table']),
            ],
            warning: `dropping ${name} deletes its materialized rows${ex.kind === 'continuous' ? ' and its refresh policy' : ''}; create-aggregates rebuilds it from health_checks (rows already removed by retention do not come back).`,
          }
        : { id: `drop:${name}`, title: `drop ${name}`, state: 'in-place', current: 'does not exist', statements: [] };
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      return { ...result, warnings: step.warning ? [step.warning] : [] };
    },
    hooks.onWait,
  );
}
