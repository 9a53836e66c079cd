import type { Sql } from '../../db/connection.js';
import { executeRendered, query, queryOne } from '../../db/sql.js';
import { shown, type SourceTable } from './source.js';
import type { RemoteRun } from './run.js';

/**
 * The owners of what a --source copy creates: read on the source as facts
 * (privileges.sql, privilege OWNER), kept in the state row for the roles that
 * exist here (the first run records them with the tables), and given at
 * `finish` (render-owners.sql), not before: until then the copy moves rows
 * with the rights of the role that runs it (README, "Who moves the rows").
 */

/** A relation the copy created here and its owner on the source (a role that exists here). */
export interface OwnerFact {
  kind: 'table' | 'sequence';
  schema: string;
  name: string;
  owner: string;
}

/**
 * The source's owners of the created tables and of the sequences their
 * defaults use without owning them, for roles that exist here (recorded in
 * the state row, given at finish); a warning names the others.
 */
export function ownersHere(run: RemoteRun, created: SourceTable[], facts: OwnerRow[], known: Set<string>): OwnerFact[] {
  const owners: OwnerFact[] = [];
  const missing: string[] = [];
  for (const f of facts.filter((x) => x.privilege === 'OWNER' && x.grantee)) {
    const t = created.find((c) => c.oid === f.table_oid)!;
    const rel = f.is_sequence
      ? { kind: 'sequence' as const, schema: f.seq_schema ?? t.schema, name: f.seq_name ?? '' }
      : { kind: 'table' as const, schema: t.schema, name: t.name };
    if (known.has(f.grantee!)) owners.push({ ...rel, owner: f.grantee! });
    else missing.push(`${shown(rel.schema, rel.name)} (${shown(f.grantee!)})`);
  }
  if (missing.length > 0) {
    run.result.warnings.push(
      `the source's owner of ${missing.join(', ')} does not exist on this server: finish leaves those owned by the role that copies (create the role and ALTER ... OWNER TO by hand)`,
    );
  }
  return owners;
}

/** The rows of privileges.sql ownersHere reads. */
interface OwnerRow {
  table_oid: number;
  is_sequence: boolean;
  seq_schema: string | null;
  seq_name: string | null;
  grantee: string | null;
  privilege: string;
}

/** --source: the source's owners of the relations the copy created here (given at finish). */
export async function recordOwners(tx: Sql, schema: string, table: string, owners: OwnerFact[]): Promise<void> {
  await query(tx, 'migrate/state-add-owners.sql');
  await query(tx, 'migrate/state-record-owners.sql', [schema, table, JSON.stringify(owners)]);
}

/** The owners recorded by recordOwners (none in a state row of an older homepot-ts). */
async function readOwners(tx: Sql, schema: string, table: string): Promise<OwnerFact[]> {
  await query(tx, 'migrate/state-add-owners.sql');
  const r = await queryOne<{ owners: string | null }>(tx, 'migrate/state-owners.sql', [schema, table]);
  return JSON.parse(r?.owners ?? '[]') as OwnerFact[];
}

/** A relation given to its source owner at finish. */
export interface GivenOwner {
  relation: string;
  owner: string;
}

/**
 * The tables (and sequences) the copy created, given to their owners on the
 * source as recorded in the state row (inside the caller's transaction). Not
 * before finish: until then the copy moves rows with the rights of the role
 * that runs it. A role missing here (or one the current role cannot give to)
 * is named in a warning.
 */
export async function giveOwners(
  conn: Sql,
  schema: string,
  table: string,
): Promise<{ given: GivenOwner[]; warnings: string[] }> {
  const recorded = await readOwners(conn, schema, table);
  if (recorded.length === 0) return { given: [], warnings: [] };
  const rows = await query<OwnerFact & { why_not: string | null; statement: string }>(
    conn,
    'migrate/remote/render-owners.sql',
    [JSON.stringify(recorded)],
  );
  const given: GivenOwner[] = [];
  const warnings: string[] = [];
  for (const r of rows) {
    const relation = shown(r.schema, r.name);
    if (r.why_not === null) {
      await executeRendered(conn, r.statement);
      given.push({ relation, owner: r.owner });
    } else if (r.why_not !== 'already owned by it') {
      warnings.push(
        `${relation} is not given to ${shown(r.owner)}, its owner on the source: ${r.why_not} (ALTER ${r.kind === 'sequence' ? 'SEQUENCE' : 'TABLE'} ... OWNER TO ... by hand)`,
      );
    }
  }
  return { given, warnings };
}
