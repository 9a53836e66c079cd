import { derivedName } from '../../core/identifiers.js';
import { query } from '../../db/sql.js';
import { shown, type SourceTable } from './source.js';
import { ownersHere, type OwnerFact } from './owners.js';
import type { RemoteRun } from './run.js';

/**
 * Who may do what on the tables a --source copy creates: the source's grants
 * on each table, on its columns (GRANT INSERT (device_id, ...)) and on its
 * sequences (serial ones and the ones its defaults use), read there as facts and rendered here for the roles that
 * exist here (privilege words from an allow-list, names quoted here). Roles
 * that do not exist here are listed in a warning. The owners are recorded in
 * the state row: the tables stay owned by the role that copies until
 * `finish` gives them to the source's owners, since the copy moves rows only
 * with its owner's rights (README, "Who moves the rows").
 */

interface PrivilegeFact {
  table_oid: number;
  column_name: string | null;
  is_sequence: boolean;
  /** A sequence a default uses without owning it: its schema and name (the same here). */
  seq_schema: string | null;
  seq_name: string | null;
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

/** The GRANT statements for the tables created in this run, and a warning for the roles missing here. */
export async function planGrants(
  run: RemoteRun,
  created: SourceTable[],
): Promise<{ statements: string[]; owners: OwnerFact[] }> {
  if (created.length === 0) return { statements: [], owners: [] };
  const facts = await query<PrivilegeFact>(run.src, 'migrate/remote/privileges.sql', [created.map((t) => t.oid)]);
  const names = [...new Set(facts.flatMap((f) => (f.grantee ? [f.grantee] : [])))];
  // Owners (and their grants to themselves) are not grants: the owner is recorded for finish.
  const here = await query<{ rolname: string }>(run.conn, 'migrate/remote/roles-here.sql', [names]);
  const known = new Set(here.map((r) => r.rolname));
  const statements: string[] = [];
  for (const t of created) {
    const mine = facts.filter((f) => f.table_oid === t.oid && f.privilege !== 'OWNER');
    const grants = mine.map((f) => ({
      ...f,
      sequence:
        f.seq_name ?? (f.is_sequence && f.column_name ? derivedName(`${t.name}_${f.column_name}_seq`, '') : null),
    }));
    const rendered = await query<{ statement: string }>(run.conn, 'migrate/remote/render-grants.sql', [
      t.schema,
      t.name,
      JSON.stringify(grants),
    ]);
    statements.push(...rendered.map((r) => r.statement));
  }
  const grantees = new Set(facts.flatMap((f) => (f.grantee && f.privilege !== 'OWNER' ? [f.grantee] : [])));
  const missing = names.filter((n) => grantees.has(n) && !known.has(n));
  if (missing.length > 0) {
    run.result.warnings.push(
      `role(s) ${missing.map((n) => shown(n)).join(', ')} have grants on the source but do not exist on this server: their grants are not carried (create the roles and GRANT by hand)`,
    );
  }
  return { statements, owners: ownersHere(run, created, facts, known) };
}
