import type { Sql } from '../../db/connection.js';
import { HomepotError } from '../../core/errors.js';
import { query } from '../../db/sql.js';

/**
 * The new table of an online migration is written with the rights of whoever
 * runs homepot-ts: before each write, this module proves nobody added a
 * trigger to it meanwhile.
 */

export interface NewTable {
  schema: string;
  name: string;
  oid: number;
}

/**
 * Before writing into the new table of an online migration (in the writing
 * transaction): nobody added a trigger to it while the migration waited, as
 * its owner could (and anyone the old table's TRIGGER privilege was granted
 * to); such a trigger would run with the rights of whoever runs homepot-ts.
 * ROW EXCLUSIVE first: CREATE TRIGGER waits for it (SHARE ROW EXCLUSIVE), so
 * none can appear between this check and the transaction's end, while the
 * copying connections, each holding it, do not wait for one another.
 */
export async function guardNewTable(c: Sql, t: NewTable): Promise<void> {
  await c`LOCK TABLE ${c(t.schema)}.${c(t.name)} IN ROW EXCLUSIVE MODE`;
  const found = await query<{ trigger: string }>(c, 'migrate/online/foreign-triggers.sql', [t.oid]);
  if (found.length === 0) return;
  throw new HomepotError(
    'permission-denied',
    `trigger ${found.map((f) => f.trigger).join(', ')} was added to the migration's new table: it would run with your rights`,
    {
      hint: `Nothing more was written. Check it and drop it as the table's owner (homepot-ts never runs others' code), then run migrate-from-postgres again; or migrate-from-postgres abort.`,
    },
  );
}
