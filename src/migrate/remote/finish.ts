import type { Sql } from '../../db/connection.js';
import { HomepotError } from '../../core/errors.js';
import { findRelation, parseQualifiedName, resolveTable } from '../../db/names.js';
import { withChangeLock, type ChangeHooks } from '../../db/plan.js';
import { readState, recordFinished, type MigrationState } from '../state.js';
import { inTransaction } from '../../db/sql.js';
import { giveOwners, type GivenOwner } from './owners.js';

/**
 * The end of a --source copy: `finish` records on this server that HOMEPOT
 * writes here now, and every --source run after it is refused.
 */

export interface FinishResult {
  command: 'migrate-from-postgres finish';
  table: string;
  changed: boolean;
  finishedAt: string;
  source: string | null;
  /** The relations given to their owners on the source in this run. */
  owners: GivenOwner[];
  warnings: string[];
}

/** The refusal of a --source run after finish. */
export function finishedError(display: string, state: MigrationState): HomepotError {
  const when = state.finished_at ? new Date(state.finished_at).toISOString() : 'an earlier run';
  return new HomepotError(
    'unsuitable-table',
    `the copy of ${display} from another server was finished at ${when} (migrate-from-postgres finish): HOMEPOT writes here now, so homepot-ts copies nothing more into it`,
    {
      hint: `To copy again from scratch, drop the copied tables on this server yourself and run migrate-from-postgres cleanup first.`,
    },
  );
}

/**
 * migrate-from-postgres --source ... finish: record on this server that the
 * copy has ended (HOMEPOT writes here now); after it, a --source run refuses.
 * Idempotent.
 */
export async function runMigrateFinish(
  sql: Sql,
  opts: { table: string },
  hooks: ChangeHooks = {},
): Promise<FinishResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const q = parseQualifiedName(opts.table);
      const table =
        (await findRelation(conn, { schema: q.schema ?? 'public', name: q.name })) ??
        (await resolveTable(conn, opts.table));
      const state = await readState(conn, table.schema, table.name);
      if (!state || state.strategy !== 'remote') {
        throw new HomepotError(
          'usage',
          `no copy of ${table.display} from another server (--source) is recorded on this server: there is nothing to finish`,
          {
            hint: 'finish ends a migrate-from-postgres --source copy once HOMEPOT writes to this server.',
          },
        );
      }
      const done = state.phase === 'finished' && state.finished_at;
      return inTransaction(conn, {}, async () => {
        const owners = await giveOwners(conn, table.schema, table.name);
        const at = done ? new Date(state.finished_at!) : await recordFinished(conn, table.schema, table.name);
        return {
          command: 'migrate-from-postgres finish' as const,
          table: table.display,
          changed: !done || owners.given.length > 0,
          finishedAt: at.toISOString(),
          source: state.source,
          owners: owners.given,
          warnings: owners.warnings,
        };
      });
    },
    hooks.onWait,
  );
}
