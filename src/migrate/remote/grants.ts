import { derivedName } from '../../core/identifiers.js';
import { query } from '../../db/sql.js';
import { shown, type SourceTable } from './source.js';
import type { RemoteRun } from './run.js';

/**
 * Who may do what on the tables a --source copy creates: the source's grants
 * on each table, on its columns (GRANT INSERT (device_id, ...)) and on its
 * sequences (serial ones and the ones its defaults use), read there as facts and rendered here for the roles that
 * exist here (privilege words from an allow-list, names quoted here). Roles
 * that do not exist here are listed in a warning. The owner is named: the
 * tables stay owned by the role that copies until `finish`, since the copy
 * moves rows only with its owner's rights (README, "Who moves the rows").
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
export async function planGrants(run: RemoteRun, created: SourceTable[]): Promise<string[]> {
  if (created.length === 0) return [];
  const facts = await query<PrivilegeFact>(run.src, 'migrate/remote/privileges.sql', [created.map((t) => t.oid)]);
  const names = [...new Set(facts.flatMap((f) => (f.grantee ? [f.grantee] : [])))];
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
  const missing = names.filter((n) => !known.has(n));
  if (missing.length > 0) {
    run.result.warnings.push(
      `role(s) ${missing.map((n) => shown(n)).join(', ')} have grants on the source but do not exist on this server: their grants are not carried (create the roles and GRANT by hand)`,
    );
  }
  const [me] = await run.conn<{ me: string }[]>`SELECT current_user::text AS me`;
  const owners = facts.filter((f) => f.privilege === 'OWNER' && f.grantee && f.grantee !== me?.me);
  if (owners.length > 0) {
    const owned = owners.map(
      (o) => `${shown(created.find((t) => t.oid === o.table_oid)!.name)} by ${shown(o.grantee!)}`,
    );
    run.result.warnings.push(
      `on the source, ${owned.join(', ')} are owned: here the tables stay yours while the copy runs (rows move only with their owner's rights); once HOMEPOT writes here, ALTER TABLE ... OWNER TO ... as on the source`,
    );
  }
  return statements;
}
