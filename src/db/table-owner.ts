import type { Sql } from './connection.js';
import { HomepotError } from '../core/errors.js';
import { queryOne } from './sql.js';

/**
 * Rows are written or moved only with the rights of the table's owner.
 * Copying rows runs the owner's code: triggers, CHECK constraints (which may
 * call VOLATILE functions), index expressions, defaults. Run by a superuser
 * on a table owned by a less trusted role, that code would get superuser
 * rights. `SET ROLE` is no boundary (code running under it can RESET ROLE),
 * so the only safe runner is the owner itself, or anyone when a superuser
 * role owns the table. README "Who moves the rows".
 */
export async function requireOwnerRights(
  sql: Sql,
  table: { oid: number; display: string },
  command: string,
): Promise<void> {
  const r = await queryOne<{ owner: string; trusted: boolean }>(sql, 'db/table-owner.sql', [table.oid]);
  if (!r || r.trusted) return;
  throw new HomepotError(
    'permission-denied',
    `${table.display} is owned by role "${r.owner}": its triggers, CHECK constraints and index expressions would run with your rights`,
    {
      hint: `Nothing was changed. Run ${command} as ${r.owner} (e.g. --database-url postgresql://${encodeURIComponent(r.owner)}@host/db).`,
    },
  );
}
