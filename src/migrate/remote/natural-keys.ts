import type { Sql } from '../../db/connection.js';
import { HomepotError } from '../../core/errors.js';
import { findRelation } from '../../db/names.js';
import { executeRendered, inTransaction, query, queryOne, renderNamed } from '../../db/sql.js';
import { copyOut } from './copy.js';
import { shown, type TableFacts } from './source.js';
import type { ReferencedSync } from '../result.js';
import type { RemoteRun } from './run.js';

/**
 * The referenced tables of a --source copy (HOMEPOT: sites, devices) are
 * matched to this server's rows by their natural key (devices.device_id,
 * sites.site_id: a unique key of NOT NULL columns other than the key that
 * foreign keys reference), never by that key's value: the target may already
 * hold the same devices under other ids (inserted in another order). Every
 * run matches them again: the rows this server lacks are added, the rows the
 * source changed since the last copy are updated (the ones changed here and
 * not there are kept), a map from the source's key values to this server's
 * (pg_temp.homepot_ts_keymap, this session only) is rebuilt, and the
 * references of the rows copied afterwards are translated through it (and
 * back, to compare checksums with the source). Rows are never deleted here:
 * a row the source no longer has is reported. A table whose rows cannot be
 * matched (no natural key, several, or one duplicated here) is refused
 * before anything changes.
 */

/** How one referenced table is matched. */
export interface KeyedTable {
  facts: TableFacts;
  /** "schema.table": its name in the map and in the state. */
  rel: string;
  /** The column the foreign keys reference (devices.id). */
  key: string;
  /** The natural key; the referenced key itself when the table has none (then only an empty table here can be matched). */
  natural: string[];
  /** Why there is no natural key (none, several), or null. */
  noNatural: string | null;
  statements: Record<string, string>;
}

/** A column of a copied table that references a keyed table, and that table. */
export interface Reference {
  name: string;
  rel: string;
}

const rel = (f: TableFacts) => `${f.table.schema}.${f.table.name}`;

/** The single column every foreign key of the copied tables into `d` references, or null. */
function referencedKey(d: TableFacts, all: TableFacts[]): string | null {
  const cols = new Set<string>();
  for (const f of all)
    for (const k of f.constraints)
      if (k.type === 'f' && k.ref_schema === d.table.schema && k.ref_table === d.table.name)
        cols.add(k.ref_columns.length === 1 ? k.ref_columns[0]! : '');
  return cols.size === 1 && !cols.has('') ? [...cols][0]! : null;
}

/** The natural key: the one unique key of NOT NULL columns other than the referenced key. */
function naturalKey(d: TableFacts, key: string): { natural: string[]; why: string | null } {
  const notNull = new Set(d.columns.filter((c) => c.not_null).map((c) => c.name));
  const candidates = d.constraints.filter(
    (k) =>
      (k.type === 'u' || k.type === 'p') &&
      !k.special_opclass &&
      !(k.columns.length === 1 && k.columns[0] === key) &&
      k.columns.every((c) => notNull.has(c)),
  );
  if (candidates.length === 1) return { natural: candidates[0]!.columns, why: null };
  const why =
    candidates.length === 0
      ? `it has no unique key of NOT NULL columns besides ${shown(key)} on the source`
      : `it has several unique keys besides ${shown(key)} on the source (${candidates.map((k) => shown(k.name)).join(', ')}), so which one names a row is ambiguous`;
  return { natural: [key], why };
}

/** The references of a copied table into keyed tables. */
function referencesOf(f: TableFacts, keyed: KeyedTable[]): Reference[] {
  const out: Reference[] = [];
  for (const k of f.constraints) {
    if (k.type !== 'f' || k.columns.length !== 1) continue;
    const to = keyed.find((d) => d.facts.table.schema === k.ref_schema && d.facts.table.name === k.ref_table);
    if (to && k.ref_columns[0] === to.key) out.push({ name: k.columns[0]!, rel: to.rel });
  }
  return out;
}

function columnsJson(f: TableFacts): string {
  return JSON.stringify(
    f.columns.map((c, i) => ({
      o: i + 1,
      name: c.name,
      type_name: c.type_name,
      typmod: c.typmod,
      is_json: f.types[i]!.is_json,
    })),
  );
}

/**
 * How each referenced table is matched (into run.keyed), checked against this
 * server before anything changes: a table here that already holds rows must
 * be matchable (a natural key, not duplicated here), else exit 4 naming it.
 */
export async function planNaturalKeys(run: RemoteRun): Promise<void> {
  const all = [...run.facts.values()];
  run.keyed = [];
  for (const d of run.deps) {
    const facts = run.facts.get(d.oid)!;
    const key = referencedKey(facts, all);
    if (!key) {
      await refuseIfFilled(run, facts, `its foreign keys do not all reference one column`);
      continue;
    }
    const { natural, why } = naturalKey(facts, key);
    const statements = await renderNamed(run.conn, 'migrate/remote/render-natural-keys.sql', [
      facts.table.schema,
      facts.table.name,
      columnsJson(facts),
      key,
      natural,
      JSON.stringify(referencesOf(facts, run.keyed)),
      rel(facts),
    ]);
    const keyed: KeyedTable = { facts, rel: rel(facts), key, natural, noNatural: why, statements };
    if (why) await refuseIfFilled(run, facts, why);
    else if (await findRelation(run.conn, { schema: d.schema, name: d.name })) await refuseDuplicates(run.conn, keyed);
    run.keyed.push(keyed);
  }
}

/** A table here that already holds rows cannot be matched without a natural key (first run only: later its rows are ours). */
async function refuseIfFilled(run: RemoteRun, f: TableFacts, why: string): Promise<void> {
  if (run.state || !(await findRelation(run.conn, { schema: f.table.schema, name: f.table.name }))) return;
  const [r] = await run.conn<{ any: boolean }[]>`SELECT EXISTS (SELECT 1 FROM ${run.conn(f.table.schema)}.${run.conn(
    f.table.name,
  )}) AS any`;
  if (!r?.any) return;
  throw new HomepotError(
    'unsuitable-table',
    `${f.display} on this server already holds rows, and they cannot be matched to the source's: ${why}`,
    {
      hint: `Give ${f.display} on the source one unique key of NOT NULL columns that names a row (HOMEPOT: devices.device_id, sites.site_id), or empty it here.`,
    },
  );
}

async function refuseDuplicates(conn: Sql, d: KeyedTable): Promise<void> {
  const dups = await executeRendered<{ key: string; n: number }[]>(conn, d.statements['target-duplicates']!);
  if (dups.length === 0) return;
  throw new HomepotError(
    'unsuitable-table',
    `${d.facts.display} on this server has several rows with the same ${d.natural.map((c) => shown(c)).join(', ')} (${dups
      .map((x) => `${x.key} ${x.n} times`)
      .join('; ')}): which of them is the source's row is ambiguous`,
    {
      hint: `Remove the duplicates on this server (and add UNIQUE (${d.natural.join(', ')})), then run again.`,
    },
  );
}

/** The hashes of the referenced tables' rows as last copied, by table and natural key. */
async function lastCopied(run: RemoteRun): Promise<Record<string, Record<string, string>>> {
  await query(run.conn, 'migrate/state-add-source-rows.sql');
  const r = await queryOne<{ rows: string | null }>(run.conn, 'migrate/state-source-rows.sql', [
    run.srcTable.schema,
    run.srcTable.name,
  ]);
  return JSON.parse(r?.rows ?? '{}') as Record<string, Record<string, string>>;
}

/**
 * Match every referenced table (referenced ones first) in one transaction:
 * add, update, map, verify, and record the rows as copied. Then the
 * references of the source table that need translating (run.translate).
 */
export async function syncReferenced(run: RemoteRun): Promise<void> {
  const { conn, srcTable } = run;
  run.hooks.onPhase?.(`matching ${run.deps.map((d) => d.name).join(', ')} by their natural keys`);
  const synced = await inTransaction(conn, { lockTimeout: run.opts.lockTimeout }, async () => {
    const before = await lastCopied(run);
    const out: ReferencedSync[] = [];
    for (const d of run.keyed) {
      const s = await syncOne(run, d, before[d.rel] ?? {});
      await query(conn, 'migrate/state-record-source-rows.sql', [srcTable.schema, srcTable.name, d.rel, s.hashes]);
      out.push(s.report);
    }
    for (const d of run.deps.filter((x) => !run.keyed.some((k) => k.facts.table.oid === x.oid))) {
      const read = await copyOut(conn, run.facts.get(d.oid)!, null, 'json-all');
      const [rows] = await executeRendered<{ rows: string }[]>(run.src, read);
      await executeRendered(conn, run.depCopies.get(d.oid)!['json-in-missing']!, [rows?.rows ?? '[]']);
    }
    return out;
  });
  run.result.referenced = synced;
  if (synced.some((s) => s.inserted + s.updated > 0)) run.result.changed = true;
  for (const s of synced) {
    if (s.keptHere > 0)
      run.result.warnings.push(
        `${s.table}: ${s.keptHere} row(s) changed on this server and not on the source since the last copy are kept as they are here`,
      );
    if (s.goneFromSource > 0)
      run.result.warnings.push(
        `${s.table}: ${s.goneFromSource} row(s) copied earlier are no longer on the source; homepot-ts never deletes them here (delete them yourself if they should go)`,
      );
  }
  const translated = new Set(synced.filter((s) => s.translated).map((s) => s.table));
  const refs = referencesOf(run.mainFacts, run.keyed).filter((r) => translated.has(r.rel));
  run.references = refs;
  run.translate =
    refs.length > 0
      ? await renderNamed(conn, 'migrate/remote/render-translate.sql', [
          srcTable.schema,
          srcTable.name,
          JSON.stringify(refs),
        ])
      : null;
}

/** One referenced table: add, update, map, verify (inside the caller's transaction). */
async function syncOne(
  run: RemoteRun,
  d: KeyedTable,
  before: Record<string, string>,
): Promise<{ report: ReferencedSync; hashes: string }> {
  const { conn, src } = run;
  const s = d.statements;
  await refuseDuplicates(conn, d);
  const [rows] = await executeRendered<{ rows: string }[]>(src, await copyOut(conn, d.facts, null, 'json-all'));
  const json = rows?.rows ?? '[]';
  await executeRendered(conn, s['map-create']!);
  await executeRendered(conn, s['map-clear']!);
  const inserted =
    (await executeRendered(conn, s['sync-insert']!, [json])).count +
    (await executeRendered(conn, s['sync-insert-new-key']!, [json])).count;
  const updated = s['sync-update']
    ? (await executeRendered(conn, s['sync-update'], [json, JSON.stringify(before)])).count
    : 0;
  await executeRendered(conn, s['sync-map']!, [json]);
  const [v] = await executeRendered<{ missing: number; differ: number; n: number }[]>(conn, s['sync-verify']!, [json]);
  if (!v || v.missing > 0) {
    throw new HomepotError(
      'sql-error',
      `verification failed: ${v?.missing ?? '?'} row(s) of ${d.facts.display} on the source are not on this server after copying them`,
      { hint: 'Nothing of this run was kept; run again.' },
    );
  }
  const [h] = await executeRendered<{ hashes: string }[]>(conn, s['sync-hashes']!, [json]);
  const hashes = h?.hashes ?? '{}';
  const now = JSON.parse(hashes) as Record<string, string>;
  const [id] = await executeRendered<{ identity: boolean }[]>(conn, s['map-identity']!);
  return {
    hashes,
    report: {
      table: d.rel,
      naturalKey: d.natural,
      rows: v.n,
      inserted,
      updated,
      keptHere: v.differ,
      goneFromSource: Object.keys(before).filter((k) => !(k in now)).length,
      translated: !id?.identity,
    },
  };
}
