import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeServerKind, detectCapabilities } from '../db/capabilities.js';
import { quoteIfNeeded } from '../core/columns.js';
import { connectUrl, TARGET_SEARCH_PATH, type Sql } from '../db/connection.js';
import { describeError } from '../db/describe-error.js';
import { HomepotError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  ensureTimescale,
  followUp,
  inTransaction,
  round1,
  type MigrateHooks,
  type MigrateOptions,
  type MigrateResult,
} from './migrate.js';
import {
  addSourceKeys,
  createState,
  readSourceKeys,
  readState,
  recordFinished,
  recordRemoteBatch,
  recordRemoteStart,
  recordResult,
  renderCreateState,
  type MigrationState,
} from './state.js';
import { chooseWindowSeconds, compareWindows, describeMismatches, windowSums, type Verification } from './verify.js';
import { findRelation, parseQualifiedName, resolveTable, type ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import { withChangeLock } from '../db/plan.js';
import { redactUrl } from '../core/redact.js';
import { requireOwnerRights } from '../db/table-owner.js';
import { checkConvertible } from '../steps/hypertable.js';
import { sqlFile, executeRendered, renderNamed, renderStatement } from '../db/sql.js';

/**
 * migrate-from-postgres --source: copy HOMEPOT's health_checks (and the tables
 * it references: devices, sites) from a plain PostgreSQL server into this
 * TimescaleDB server. The schema is created on the target from facts read in
 * the source's catalog, health_checks becomes a hypertable before any row
 * arrives, rows travel in block-range batches (COPY both ways; JSON batches
 * into the embedded database), and every run ends by comparing count and
 * checksum per time window on both servers and reconciling the windows that
 * differ, by key (late, updated or deleted rows). Run it again to catch up;
 * once HOMEPOT writes here, `finish` ends it.
 *
 * The source server is data, never code: whoever owns the source database
 * can shadow catalog functions, set its search_path, and put any text in its
 * catalog. So the source's sessions run with search_path pinned to
 * pg_catalog, pg_temp (a startup parameter: it wins over database and role
 * settings) and call catalog functions schema-qualified; the source returns
 * facts as rows (names, type names, flags, column lists), and every statement
 * that runs on either server is rendered on this server from our templates,
 * with those facts bound as parameters and quoted with %I / %L. Definitions
 * that only exist as source text (CHECK and exclusion constraints, indexes on
 * expressions or with a predicate, defaults other than a short allow-list)
 * are not copied: a warning names each one.
 */

// The same text for the same row on both servers; no JIT and no wait for the WAL flush at
// each batch's commit (see withMigrationSession: each batch carries its own progress mark).
const SESSION = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '1',
  jit: 'off',
  synchronous_commit: 'off',
};
/** Nothing the source's owner created can shadow what our queries call there. */
const SOURCE_SEARCH_PATH = 'pg_catalog, pg_temp';

interface SourceTable {
  oid: number;
  schema: string;
  name: string;
  depth: number;
  row_estimate: string;
  pages: string;
}

interface ColumnFacts {
  attnum: number;
  name: string;
  type_schema: string;
  type_name: string;
  typmod: number;
  not_null: boolean;
  identity: string;
  generated: string;
  collation_schema: string | null;
  collation_name: string | null;
  default_text: string | null;
  serial_type: string | null;
}

interface ConstraintFacts {
  name: string;
  type: string;
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[];
  on_update: string;
  on_delete: string;
  match_type: string;
  deferrable: boolean;
  deferred: boolean;
  include: string[];
  nulls_not_distinct: boolean;
  special_opclass: boolean;
}

interface IndexFacts {
  name: string;
  method: string;
  is_unique: boolean;
  partial: boolean;
  expressions: boolean;
  columns: string[];
  options: number[];
  include: string[];
  nulls_not_distinct: boolean;
  special_opclass: boolean;
  special_collation: boolean;
}

/** A column's type as this server knows it (render-remote-types.sql). */
interface TargetType {
  ord: number;
  name: string;
  type_schema: string;
  type_name: string;
  type_sql: string | null;
  type_plain: string | null;
  is_json: boolean;
  is_integer: boolean;
  collation_ok: boolean;
}

interface TableFacts {
  table: SourceTable;
  display: string;
  columns: ColumnFacts[];
  types: TargetType[];
  constraints: ConstraintFacts[];
  indexes: IndexFacts[];
  /** Primary key columns (empty without one). */
  key: string[];
  /** The first integer column of the primary key: the keys copied from the source are remembered by it. */
  intKey: string | null;
}

/** What the window reconciliation did in this run. */
export interface CatchUp {
  windows: number;
  inserted: number;
  updated: number;
  deleted: number;
  /** The integer key column by which copied rows are known, or null: then nothing is ever deleted here. */
  keyColumn: string | null;
}

export async function runMigrateRemote(
  target: Sql,
  sourceUrl: string,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  logger: Logger,
): Promise<MigrateResult> {
  if (opts.strategy === 'in-place') {
    throw new HomepotError(
      'usage',
      '--strategy in-place and --source do not go together: rows from another server are always copied',
      {
        hint: 'Leave out --strategy (or use --strategy online) with --source.',
      },
    );
  }
  let source;
  try {
    source = await connectUrl(sourceUrl, {
      logger,
      connectTimeout: 10,
      max: 1,
      startup: { search_path: SOURCE_SEARCH_PATH },
    });
  } catch (err) {
    const e = describeError(err);
    throw new HomepotError(e.kind, `source server: ${e.message}`, {
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.sqlstate ? { sqlstate: e.sqlstate } : {}),
      cause: err,
    });
  }
  const src = source.sql;
  const shown = redactUrl(sourceUrl);
  try {
    for (const [k, v] of Object.entries({ ...SESSION, search_path: SOURCE_SEARCH_PATH }))
      await src`SELECT pg_catalog.set_config(${k}, ${v}, false)`;
    return await withChangeLock(
      target,
      async (conn) => {
        for (const [k, v] of Object.entries({ ...SESSION, search_path: TARGET_SEARCH_PATH }))
          await conn`SELECT pg_catalog.set_config(${k}, ${v}, false)`;
        return await migrate(conn, src, shown, opts, hooks);
      },
      hooks.onWait,
    );
  } finally {
    await source.close().catch(() => {});
  }
}

async function migrate(
  conn: Sql,
  src: Sql,
  shownSource: string,
  opts: MigrateOptions,
  hooks: MigrateHooks,
): Promise<MigrateResult> {
  let caps = await detectCapabilities(conn);
  // Only planned here: the extension is created once every check has passed, so a refused run changes nothing.
  const ensured = await ensureTimescale(conn, caps, true);
  const srcCaps = await detectCapabilities(src);
  const srcTable = await sourceTable(src, opts);
  const { warnings } = await checkConvertible(src, srcTable, opts.timeColumn);
  const tables = (await src.unsafe(sqlFile('migrate/remote-tables.sql'), [srcTable.oid])) as unknown as SourceTable[];
  const main = tables.find((t) => t.oid === srcTable.oid)!;
  const deps = tables.filter((t) => t.oid !== srcTable.oid);
  const [size] = (await src.unsafe(sqlFile('migrate/remote-blocks.sql'), [srcTable.oid])) as unknown as {
    blocks: string;
    bytes: string;
  }[];
  const rows = num(main.row_estimate) ?? 0;
  const result: MigrateResult = {
    command: 'migrate-from-postgres',
    table: srcTable.display,
    strategy: 'remote',
    strategyReason: `--source ${shownSource} (${describeServerKind(srcCaps)})`,
    dryRun: opts.dryRun,
    changed: false,
    outcome: 'copied',
    resumed: false,
    server: describeServerKind(caps),
    edition: caps.timescaledb.edition,
    estimate: {
      rows,
      bytes: num(size?.bytes) ?? 0,
      seconds: Math.round(rows / 100_000),
      lock: "none on the source (reads only); the target's tables are new and not in use yet",
    },
    plan: [...ensured.plan],
    copied: { rows: 0, batches: 0, seconds: 0, rowsPerSecond: 0 },
    replayed: 0,
    locks: [],
    verification: null,
    oldTable: null,
    droppedOld: false,
    timings: {},
    warnings,
    nextSteps: [],
  };
  const state = await readRemoteState(conn, srcTable.schema, srcTable.name);
  if (state && state.strategy !== 'remote') {
    throw new HomepotError(
      'usage',
      `an online migration of ${srcTable.display} on this server is in progress (${state.phase}): finish or abort it before copying from another server`,
      {
        hint: 'Run migrate-from-postgres without --source to finish it, or migrate-from-postgres abort.',
      },
    );
  }
  if (state?.phase === 'finished') throw finishedError(srcTable.display, state);
  result.resumed = Boolean(state);

  // --- facts from the source; every type must be a built-in one here (refused before anything changes) ---
  const facts = new Map<number, TableFacts>();
  for (const t of tables) facts.set(t.oid, await readFacts(src, conn, t));
  const mainFacts = facts.get(main.oid)!;

  // --- schema on the target, rendered here from the facts ---
  const schemaSteps: { table: SourceTable; statements: string[] }[] = [];
  for (const t of tables) {
    const exists = await findRelation(conn, { schema: t.schema, name: t.name });
    if (exists) {
      if (t.oid === main.oid && !state) await checkTargetTable(conn, exists);
      // Rows are written here: only with its owner's rights (README, "Who moves the rows").
      await requireOwnerRights(conn, exists, 'migrate-from-postgres --source');
      continue;
    }
    const create =
      t.oid === main.oid
        ? await renderStatement(conn, 'setup/render-create-hypertable.sql', [
            t.schema,
            t.name,
            opts.timeColumn,
            opts.chunkInterval.text,
            false,
          ])
        : null;
    schemaSteps.push({ table: t, statements: await renderTable(conn, facts.get(t.oid)!, create, result.warnings) });
  }
  const fks: string[] = [];
  for (const s of schemaSteps)
    fks.push(...(await renderForeignKeys(conn, facts.get(s.table.oid)!, tables, result.warnings)));
  const stateStatements = await renderCreateState(conn);
  if (schemaSteps.length > 0) {
    result.plan.push({
      id: 'schema',
      title: `create ${schemaSteps.map((s) => `${s.table.schema}.${s.table.name}`).join(', ')} on this server (from the source's catalog)`,
      statements: [...new Set([...schemaSteps.flatMap((s) => s.statements), ...fks])],
    });
  }
  const pglite = caps.server.pglite;
  const copy = await renderCopy(conn, mainFacts, opts.timeColumn);
  const depCopies = new Map<number, Record<string, string>>();
  for (const d of deps) depCopies.set(d.oid, await renderCopy(conn, facts.get(d.oid)!, null));
  if (deps.length > 0)
    result.plan.push({
      id: 'dependencies',
      title: `add the ${deps.map((d) => d.name).join(', ')} rows this server lacks ($1: the source's rows as JSON)`,
      statements: deps.map((d) => depCopies.get(d.oid)!['json-in-missing']!),
    });
  result.plan.push({
    id: 'copy',
    title: `copy ${srcTable.display} in block ranges of about ${opts.batchRows.toLocaleString('en-US')} rows`,
    statements: pglite
      ? [await copyOut(conn, mainFacts, opts.timeColumn, 'json-blocks'), copy['json-in']!]
      : [
          await copyOut(conn, mainFacts, opts.timeColumn, 'copy-blocks'),
          copy['stage-create']!,
          copy['copy-in']!,
          copy['stage-insert']!,
        ],
  });
  result.plan.push({
    id: 'verify',
    title: 'compare count and checksum per time window on both servers; reconcile the windows that differ by key',
    statements: [],
  });
  if (!mainFacts.intKey) {
    result.warnings.push(
      `${srcTable.display} has no integer column in its primary key: catch-up on a rerun adds and updates rows but never deletes one here`,
    );
  }
  if (opts.dryRun) {
    result.outcome = 'planned';
    return result;
  }
  if (ensured.plan.length > 0) {
    hooks.onPhase?.('creating the TimescaleDB extension');
    for (const st of ensured.plan.flatMap((p) => p.statements)) await executeRendered(conn, st);
    caps = await detectCapabilities(conn);
    result.edition = caps.timescaledb.edition;
    result.server = describeServerKind(caps);
    result.changed = true;
  }

  if (schemaSteps.length > 0 || !state) {
    hooks.onPhase?.('creating the tables on this server');
    await inTransaction(conn, opts.lockTimeout, async () => {
      for (const st of new Set(schemaSteps.flatMap((s) => s.statements))) await executeRendered(conn, st);
      for (const st of fks) await executeRendered(conn, st);
      await createState(conn, stateStatements);
      await recordRemoteStart(conn, srcTable.schema, srcTable.name, shownSource, 3600);
    });
    result.changed = true;
  }

  // --- the referenced tables: add what the target lacks, never overwrite ---
  for (const d of deps) {
    const [out] = (await executeRendered(src, await copyOut(conn, facts.get(d.oid)!, null, 'json-all'))) as unknown as {
      rows: string;
      n: number;
    }[];
    const res = await executeRendered(conn, depCopies.get(d.oid)!['json-in-missing']!, [out?.rows ?? '[]']);
    if (res.count > 0) result.changed = true;
  }

  // --- health_checks in block ranges; a rerun continues from next_block and picks up what was appended ---
  const st = (await readRemoteState(conn, srcTable.schema, srcTable.name))!;
  const [b] = (await src.unsafe(sqlFile('migrate/remote-blocks.sql'), [srcTable.oid])) as unknown as {
    blocks: string;
  }[];
  const totalBlocks = Number(b?.blocks ?? 0);
  let next = Number(st.next_block);
  const rowsPerBlock = Math.max(1, rows / Math.max(1, Number(main.pages ?? 1)));
  const blocksPerBatch = Math.max(1, Math.round(opts.batchRows / rowsPerBlock));
  const started = performance.now();
  let copied = 0;
  const estimate = Math.max(0, Math.round((totalBlocks - next) * rowsPerBlock));
  hooks.onPhase?.(`copying ${srcTable.display} from ${shownSource}`);
  while (next < totalBlocks) {
    if (hooks.signal?.aborted) throw interrupted(srcTable);
    const hi = Math.min(totalBlocks, next + blocksPerBatch);
    const lo = next;
    const n = await inTransaction(conn, opts.lockTimeout, async () => {
      const moved = await moveRows(
        src,
        conn,
        copy,
        await copyOut(conn, mainFacts, opts.timeColumn, pglite ? 'json-blocks' : 'copy-blocks', { lo, hi }),
        pglite,
      );
      await recordRemoteBatch(conn, srcTable.schema, srcTable.name, {
        nextBlock: hi,
        totalBlocks,
        rows: moved.count,
        keys: moved.keys,
      });
      return moved.count;
    });
    copied += n;
    next = hi;
    result.copied.batches++;
    hooks.onProgress?.({
      phase: 'copy',
      done: copied,
      total: Math.max(estimate, copied),
      elapsedMs: performance.now() - started,
    });
  }
  const seconds = (performance.now() - started) / 1000;
  result.copied = {
    rows: copied,
    batches: result.copied.batches,
    seconds: round1(seconds),
    rowsPerSecond: Math.round(copied / Math.max(seconds, 0.001)),
  };
  if (copied > 0) result.changed = true;

  // --- verify per window; reconcile the windows that differ by key, then verify them again ---
  hooks.onPhase?.('verifying row counts and checksums per window on both servers');
  const ref = { schema: srcTable.schema, name: srcTable.name, timeColumn: opts.timeColumn };
  const [span] = (await executeRendered(
    src,
    await renderStatement(conn, 'migrate/time-span.sql', [ref.schema, ref.name, ref.timeColumn]),
  )) as unknown as { lo: number | null; hi: number | null }[];
  const windowSeconds = chooseWindowSeconds(
    span?.lo == null || span.hi == null ? 0 : Number(span.hi) - Number(span.lo),
  );
  const srcVerify = await renderStatement(conn, 'migrate/render-remote-verify.sql', [
    ref.schema,
    ref.name,
    ref.timeColumn,
    null,
    null,
  ]);
  const tgtVerify = async () =>
    renderStatement(conn, 'migrate/render-remote-verify.sql', [
      ref.schema,
      ref.name,
      ref.timeColumn,
      mainFacts.intKey,
      mainFacts.intKey ? await readSourceKeys(conn, ref.schema, ref.name) : null,
    ]);
  let v = compareWindows(
    await windowSums(src, srcVerify, windowSeconds),
    await windowSums(conn, await tgtVerify(), windowSeconds),
    windowSeconds,
  );
  const caughtUp: CatchUp = { windows: 0, inserted: 0, updated: 0, deleted: 0, keyColumn: mainFacts.intKey };
  for (let round = 0; !v.ok && round < 2; round++) {
    const windows = v.mismatches.map((m) => Math.floor(Date.parse(m.from) / 1000 / windowSeconds));
    hooks.onPhase?.(`reconciling ${windows.length} window(s) that changed on the source, by key`);
    const done = await inTransaction(conn, opts.lockTimeout, () =>
      reconcile(src, conn, mainFacts, copy, opts.timeColumn, windows, windowSeconds, pglite),
    );
    caughtUp.windows += windows.length;
    caughtUp.inserted += done.inserted;
    caughtUp.updated += done.updated;
    caughtUp.deleted += done.deleted;
    if (done.inserted + done.updated + done.deleted > 0) result.changed = true;
    const range = {
      from: new Date(Math.min(...windows) * windowSeconds * 1000),
      to: new Date((Math.max(...windows) + 1) * windowSeconds * 1000),
    };
    const again = compareWindows(
      await windowSums(src, srcVerify, windowSeconds, range),
      await windowSums(conn, await tgtVerify(), windowSeconds, range),
      windowSeconds,
    );
    const rechecked = new Set(windows);
    v = {
      ...v,
      mismatches: again.mismatches.filter((m) => rechecked.has(Math.floor(Date.parse(m.from) / 1000 / windowSeconds))),
    };
    v.ok = v.mismatches.length === 0;
  }
  result.verification = v;
  result.caughtUp = caughtUp;

  // --- sequences: continue after the source's values (found here by table and column) ---
  const copiedNames = new Set(tables.map((t) => `${t.schema}.${t.name}`));
  const seqs = (await src.unsafe(sqlFile('migrate/remote-sequences.sql'), [
    tables.map((t) => t.oid),
  ] as never[])) as unknown as { schema: string; table_name: string; column_name: string; last_value: string }[];
  for (const s of seqs) {
    if (!copiedNames.has(`${s.schema}.${s.table_name}`)) continue;
    await conn.unsafe(sqlFile('migrate/advance-sequence.sql'), [
      s.schema,
      s.table_name,
      s.column_name,
      s.last_value,
    ] as never[]);
  }

  await recordResult(conn, srcTable.schema, srcTable.name, { verification: v }, windowSeconds);
  if (!v.ok) {
    const newest = v.mismatches.every((m) => Date.parse(m.to) >= Date.now() - windowSeconds * 1000);
    if (newest) {
      result.outcome = 'copied';
      result.warnings.push(
        `rows are still arriving on the source in the newest window(s) (${describeMismatches(v, 2)}): run migrate-from-postgres --source again after HOMEPOT stops writing to the source, to copy and verify the rest`,
      );
    } else {
      throw new HomepotError(
        'sql-error',
        `verification failed: ${v.mismatches.length} window(s) differ between the source and this server after reconciling them: ${describeMismatches(v)}`,
        {
          hint: 'Rows keep changing there on the source; run again when it is quiet. The copy so far is kept; a rerun continues.',
        },
      );
    }
  } else {
    result.outcome = 'migrated';
  }
  result.nextSteps = [
    ...(result.outcome === 'copied'
      ? ['stop HOMEPOT (or its writes to the source), then run this command again to copy and verify the rest']
      : []),
    'point HOMEPOT at this server (DATABASE__URL in backend/.env) and start it, then run migrate-from-postgres --source ... finish (a rerun after that is refused)',
    ...followUp(srcTable.name),
  ];
  return result;
}

/**
 * The table on the source. The source's sessions search pg_catalog only, so a
 * name without a schema means public there (as on this server), never whatever
 * the source's own search_path would have found.
 */
async function sourceTable(src: Sql, opts: MigrateOptions): Promise<ResolvedTable> {
  const q = parseQualifiedName(opts.table);
  const table =
    (await findRelation(src, { schema: q.schema ?? 'public', name: q.name })) ??
    (await resolveTable(src, opts.table).catch((err: unknown) => {
      const e = err as HomepotError;
      throw new HomepotError(e.kind ?? 'unknown-table', `source server: ${e.message}`, {
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }));
  if (table.relkind !== 'r' && table.relkind !== 'p') {
    throw new HomepotError('unsuitable-table', `source server: ${table.display} is not a table`, {
      hint: "Point --table at HOMEPOT's health_checks table.",
    });
  }
  return table;
}

/** The target table may exist only as an empty table (a fresh HOMEPOT schema) or a hypertable with our state. */
async function checkTargetTable(conn: Sql, t: ResolvedTable): Promise<void> {
  const [r] = await conn<{ any: boolean }[]>`SELECT EXISTS (SELECT 1 FROM ${conn(t.schema)}.${conn(t.name)}) AS any`;
  if (r?.any) {
    throw new HomepotError(
      'unsuitable-table',
      `${t.display} on this server already holds rows that no earlier migrate-from-postgres --source copied`,
      {
        hint: 'Copy into an empty database (or one without health_checks), so that no row is doubled.',
      },
    );
  }
  throw new HomepotError('unsuitable-table', `${t.display} already exists on this server (empty)`, {
    hint: `Drop it (DROP TABLE ${t.display};) so that it is created from the source's definition, or migrate into an empty database.`,
  });
}

// ---------------------------------------------------------------------------
// facts from the source, statements rendered here

// eslint-disable-next-line no-control-regex -- control characters are what these messages escape
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const escapeControl = (text: string) =>
  text.replace(CONTROL_CHARACTERS, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A name read on the source, for a message: quoted where needed, control characters escaped. */
function shown(...parts: string[]): string {
  return parts.map((p) => escapeControl(quoteIfNeeded(p))).join('.');
}

/** A piece of source text, for a message: one line, at most 120 characters, control characters escaped. */
function excerpt(text: string): string {
  const one = escapeControl(text);
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

/** A derived name cut to PostgreSQL's 63 bytes on a character boundary. */
function derivedName(name: string): string {
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > 63) break;
    out += ch;
  }
  return out;
}

async function readFacts(src: Sql, conn: Sql, t: SourceTable): Promise<TableFacts> {
  const display = shown(t.schema, t.name);
  const columns = (await src.unsafe(sqlFile('migrate/remote-columns.sql'), [t.oid])) as unknown as ColumnFacts[];
  const constraints = (await src.unsafe(sqlFile('migrate/remote-constraints.sql'), [
    t.oid,
  ])) as unknown as ConstraintFacts[];
  const indexes = (await src.unsafe(sqlFile('migrate/remote-indexes.sql'), [t.oid])) as unknown as IndexFacts[];
  const types = (await conn.unsafe(sqlFile('migrate/render-remote-types.sql'), [
    JSON.stringify(
      columns.map((c, i) => ({
        ord: i + 1,
        name: c.name,
        type_schema: c.type_schema,
        type_name: c.type_name,
        typmod: c.typmod,
        collation_schema: c.collation_schema,
        collation_name: c.collation_name,
      })),
    ),
  ] as never[])) as unknown as TargetType[];
  for (const ty of types) {
    if (!ty.type_sql) {
      throw new HomepotError(
        'unsuitable-table',
        `source server: column ${shown(t.schema, t.name, ty.name)} has type ${shown(ty.type_schema, ty.type_name)}, which is not a built-in type on this server: homepot-ts creates columns of built-in (pg_catalog) types only`,
        {
          hint: `Create ${display} on this server yourself (with that type), or give the column a built-in type on the source.`,
        },
      );
    }
    const c = columns[ty.ord - 1]!;
    if (!ty.collation_ok) {
      throw new HomepotError(
        'unsuitable-table',
        `source server: column ${shown(t.schema, t.name, ty.name)} has collation ${shown(c.collation_schema ?? '?', c.collation_name ?? '?')}, which is not a built-in collation on this server`,
        {
          hint: `Create ${display} on this server yourself, or use a built-in collation on the source.`,
        },
      );
    }
  }
  const pk = constraints.find((k) => k.type === 'p');
  const key = pk && !pk.special_opclass ? pk.columns : [];
  const intKey = key.find((k) => types.find((ty) => ty.name === k)?.is_integer) ?? null;
  return { table: t, display, columns, types, constraints, indexes, key, intKey };
}

const DEFAULT_EXPRESSIONS = new Set([
  'now()',
  'CURRENT_TIMESTAMP',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'LOCALTIMESTAMP',
  'LOCALTIME',
  'clock_timestamp()',
  'statement_timestamp()',
  'transaction_timestamp()',
  'gen_random_uuid()',
]);

/**
 * How a column's default is re-created here: recognised from the source's
 * text by a short allow-list, never copied as text. serial: a sequence of our
 * own naming; a constant: its value bound and quoted here, cast to the
 * column's own type; a few time and uuid functions: fixed text of ours.
 */
function columnDefault(
  f: TableFacts,
  c: ColumnFacts,
  ty: TargetType,
  warnings: string[],
): { default_kind: string; default_value: string | null; sequence: string | null } {
  const none = { default_kind: 'none', default_value: null, sequence: null };
  const where = shown(f.table.schema, f.table.name, c.name);
  if (c.generated) {
    warnings.push(
      `${where} is a generated column on the source: its expression is source text homepot-ts does not run, so it is copied as a plain column; add the expression by hand if you trust it`,
    );
    return none;
  }
  if (c.identity === 'a' || c.identity === 'd' || c.default_text === null) return none;
  const text = c.default_text.trim();
  if (
    /^nextval\('(?:[^']|'')+'::regclass\)$/.test(text) &&
    c.serial_type &&
    ['int2', 'int4', 'int8'].includes(c.serial_type)
  ) {
    return { default_kind: 'serial', default_value: null, sequence: derivedName(`${f.table.name}_${c.name}_seq`) };
  }
  if (/^NULL(::[a-z ]+)?$/.test(text)) return none;
  if (/^-?\d+(\.\d+)?$/.test(text) || text === 'true' || text === 'false')
    return { default_kind: 'literal', default_value: text, sequence: null };
  const quoted = /^'((?:[^']|'')*)'::([a-z][a-z0-9_ ]*(?:\(\d+(?:,\d+)?\))?)$/.exec(text);
  if (quoted && (quoted[2] === ty.type_plain || quoted[2] === ty.type_sql)) {
    return { default_kind: 'literal', default_value: quoted[1]!.replace(/''/g, "'"), sequence: null };
  }
  if (DEFAULT_EXPRESSIONS.has(text)) return { default_kind: 'expression', default_value: text, sequence: null };
  warnings.push(
    `${where}: its default (${excerpt(text)}) is not copied: it is source text homepot-ts does not run; add it by hand if you trust it (ALTER TABLE ${shown(f.table.schema, f.table.name)} ALTER COLUMN ${shown(c.name)} SET DEFAULT ...)`,
  );
  return none;
}

/** The statements that create one table here, in order: schema, sequences, table, keys, [hypertable], indexes, OWNED BY. */
async function renderTable(conn: Sql, f: TableFacts, hypertable: string | null, warnings: string[]): Promise<string[]> {
  const columns = f.columns.map((c, i) => {
    const ty = f.types[i]!;
    return {
      ord: i + 1,
      name: c.name,
      type_name: c.type_name,
      typmod: c.typmod,
      not_null: c.not_null,
      identity: c.identity,
      collation_name: c.collation_name,
      serial_type: c.serial_type,
      ...columnDefault(f, c, ty, warnings),
    };
  });
  const table = (await conn.unsafe(sqlFile('migrate/render-remote-table.sql'), [
    f.table.schema,
    f.table.name,
    JSON.stringify(columns),
  ] as never[])) as unknown as { ord: number; statement: string }[];
  const keys: string[] = [];
  for (const k of f.constraints) {
    const what = `${k.type === 'p' ? 'primary key' : k.type === 'u' ? 'unique constraint' : k.type === 'c' ? 'CHECK constraint' : k.type === 'x' ? 'exclusion constraint' : k.type === 't' ? 'constraint trigger' : 'constraint'} ${shown(k.name)} on ${f.display}`;
    if (k.type === 'f') continue; // after every table exists: renderForeignKeys
    if ((k.type === 'p' || k.type === 'u') && !k.special_opclass) {
      keys.push(
        await renderStatement(conn, 'migrate/render-remote-key.sql', [
          f.table.schema,
          f.table.name,
          k.name,
          k.type,
          k.columns,
          k.include,
          k.nulls_not_distinct,
          k.deferrable,
          k.deferred,
        ]),
      );
    } else if (k.type === 'p' || k.type === 'u') {
      warnings.push(
        `${what} uses an operator class of its own: not copied (its definition is source text homepot-ts does not run); add it by hand if you need it`,
      );
    } else {
      warnings.push(
        `${what} is not copied: its definition is source text homepot-ts does not run; add it by hand if you trust it`,
      );
    }
  }
  const indexes: string[] = [];
  for (const ix of f.indexes) {
    const why = ix.expressions
      ? 'on an expression'
      : ix.partial
        ? 'partial (with a WHERE clause)'
        : ix.special_opclass
          ? 'with an operator class of its own'
          : ix.special_collation
            ? 'with a collation of its own'
            : !['btree', 'hash', 'gist', 'gin', 'brin', 'spgist'].includes(ix.method)
              ? `of access method ${shown(ix.method)}`
              : null;
    if (why) {
      warnings.push(
        `index ${shown(ix.name)} on ${f.display} (${why}) is not copied: its definition is source text homepot-ts does not run; create it by hand if you need it`,
      );
      continue;
    }
    indexes.push(
      await renderStatement(conn, 'migrate/render-remote-index.sql', [
        f.table.schema,
        f.table.name,
        ix.name,
        ix.method,
        ix.is_unique,
        ix.columns,
        ix.options,
        ix.include,
        ix.nulls_not_distinct,
      ]),
    );
  }
  const at = (ord: number) => table.filter((s) => s.ord === ord).map((s) => s.statement);
  return [...at(1), ...at(2), ...at(3), ...keys, ...(hypertable ? [hypertable] : []), ...indexes, ...at(6)];
}

const FK_ACTIONS = new Set(['a', 'r', 'c', 'n', 'd']);

/** A table's foreign keys, rebuilt here from their parts; only to tables in the copied set. */
async function renderForeignKeys(
  conn: Sql,
  f: TableFacts,
  tables: SourceTable[],
  warnings: string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const k of f.constraints.filter((c) => c.type === 'f')) {
    const inSet = tables.some((t) => t.schema === k.ref_schema && t.name === k.ref_table);
    if (
      !inSet ||
      !FK_ACTIONS.has(k.on_update) ||
      !FK_ACTIONS.has(k.on_delete) ||
      !['s', 'f'].includes(k.match_type) ||
      k.columns.length !== k.ref_columns.length ||
      k.columns.length === 0
    ) {
      warnings.push(
        `foreign key ${shown(k.name)} on ${f.display} is not copied: ${inSet ? 'it uses options homepot-ts does not rebuild' : 'it references a table outside the copy'}; add it by hand if you need it`,
      );
      continue;
    }
    out.push(
      await renderStatement(conn, 'migrate/render-remote-foreign-key.sql', [
        f.table.schema,
        f.table.name,
        k.name,
        k.columns,
        k.ref_schema,
        k.ref_table,
        k.ref_columns,
        k.match_type,
        k.on_update,
        k.on_delete,
        k.deferrable,
        k.deferred,
      ]),
    );
  }
  return out;
}

function copyColumns(f: TableFacts) {
  return JSON.stringify(
    f.columns.map((c, i) => ({
      o: i + 1,
      name: c.name,
      type_name: c.type_name,
      typmod: c.typmod,
      is_json: f.types[i]!.is_json,
      identity: c.identity,
    })),
  );
}

/** The statements that write copied rows here (render-remote-copy.sql). */
function renderCopy(conn: Sql, f: TableFacts, timeColumn: string | null): Promise<Record<string, string>> {
  return renderNamed(conn, 'migrate/render-remote-copy.sql', [
    f.table.schema,
    f.table.name,
    copyColumns(f),
    timeColumn ?? 'timestamp',
    f.key,
    f.intKey,
  ]);
}

/** The statement that reads rows on the source, rendered here; numbers bound here (placeholders when absent, for the plan). */
function copyOut(
  conn: Sql,
  f: TableFacts,
  timeColumn: string | null,
  what: string,
  n: { lo?: number; hi?: number; w?: number; windows?: number[] } = {},
): Promise<string> {
  return renderStatement(conn, 'migrate/render-remote-copy-out.sql', [
    f.table.schema,
    f.table.name,
    copyColumns(f),
    timeColumn ?? 'timestamp',
    what,
    n.lo ?? null,
    n.hi ?? null,
    n.w ?? null,
    n.windows ?? null,
  ]);
}

/** Read the source's rows into the staging table here (inside the caller's transaction). */
async function stage(src: Sql, conn: Sql, s: Record<string, string>, out: string, pglite: boolean): Promise<void> {
  await executeRendered(conn, s['stage-create']!);
  await executeRendered(conn, s['stage-empty']!);
  if (pglite) {
    const [o] = (await executeRendered(src, out)) as unknown as { rows: string; n: number }[];
    if (o && o.n > 0) await executeRendered(conn, s['json-stage']!, [o.rows]);
    return;
  }
  const chunks = await copyOutChunks(src, out);
  if (chunks.length === 0) return;
  const writable = await executeRendered(conn, s['copy-in']!).writable();
  await pipeline(Readable.from(chunks), writable);
}

async function copyOutChunks(src: Sql, out: string): Promise<Buffer[]> {
  // Read the whole batch in flowing mode, then write it: postgres.js pauses a
  // COPY TO STDOUT socket under backpressure and, when the stream ends paused,
  // never reads the next reply on that connection.
  const readable = await executeRendered(src, out).readable();
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    readable.on('data', (c: Buffer) => void chunks.push(c));
    readable.on('end', resolve);
    readable.on('error', reject);
  });
  // The rows arrive before the 'data' listener above can be attached (the
  // stream is handed over asynchronously), so the socket may have been paused
  // with the whole reply, CopyDone included, already read: nothing would call
  // the stream's read() again to resume it (porsager/postgres PR #1016). Resume it.
  (readable as unknown as { _read(size: number): void })._read(0);
  return chunks;
}

/** Move one batch from the source to the target (inside the caller's target transaction); the rows inserted, and the batch's integer keys. */
async function moveRows(
  src: Sql,
  conn: Sql,
  s: Record<string, string>,
  out: string,
  pglite: boolean,
): Promise<{ count: number; keys: string | null }> {
  if (pglite) {
    const [o] = (await executeRendered(src, out)) as unknown as { rows: string; n: number }[];
    if (!o || o.n === 0) return { count: 0, keys: null };
    const r = await executeRendered(conn, s['json-in']!, [o.rows]);
    const keys = s['json-keys']
      ? (((await executeRendered(conn, s['json-keys'], [o.rows])) as unknown as { keys: string | null }[])[0]?.keys ??
        null)
      : null;
    return { count: r.count, keys };
  }
  // Into the staging table, then into the table, skipping rows it already has
  // (render-remote-copy.sql): a COPY that fails on the server never settles
  // postgres.js's writable (porsager/postgres #1173), so the COPY must not fail
  // on a key the target already holds.
  const chunks = await copyOutChunks(src, out);
  if (chunks.length === 0) return { count: 0, keys: null };
  await executeRendered(conn, s['stage-create']!);
  await executeRendered(conn, s['stage-empty']!);
  const writable = await executeRendered(conn, s['copy-in']!).writable();
  await pipeline(Readable.from(chunks), writable);
  const r = await executeRendered(conn, s['stage-insert']!);
  return { count: r.count, keys: await stagedKeys(conn, s) };
}

async function stagedKeys(conn: Sql, s: Record<string, string>): Promise<string | null> {
  if (!s['stage-keys']) return null;
  const [k] = (await executeRendered(conn, s['stage-keys'])) as unknown as { keys: string | null }[];
  return k?.keys ?? null;
}

/**
 * Reconcile the windows that differ, by key (inside the caller's transaction):
 * every source row of those windows is staged here; rows the target lacks are
 * inserted, rows that differ are updated, and a row is deleted only when its
 * integer key came from the source earlier (the keys kept in the state) and
 * the source no longer has it. Rows written here (HOMEPOT after the cutover)
 * carry keys the source never had, and stay.
 */
async function reconcile(
  src: Sql,
  conn: Sql,
  f: TableFacts,
  s: Record<string, string>,
  timeColumn: string,
  windows: number[],
  w: number,
  pglite: boolean,
): Promise<{ inserted: number; updated: number; deleted: number }> {
  await stage(
    src,
    conn,
    s,
    await copyOut(conn, f, timeColumn, pglite ? 'json-windows' : 'copy-windows', { w, windows }),
    pglite,
  );
  // The freshly copied chunks have no statistics yet: the planner expects a row or two in the
  // windows and joins them to the staged rows by nested loops, which took 166 s for 34,000
  // staged rows here; hash joins take well under a second. For this transaction only.
  await executeRendered(conn, s['stage-analyze']!);
  await conn`SELECT pg_catalog.set_config('enable_nestloop', 'off', true)`;
  const updated = s['stage-update'] ? (await executeRendered(conn, s['stage-update'])).count : 0;
  const inserted = (await executeRendered(conn, s['stage-insert']!)).count;

  let deleted = 0;
  if (s['stage-delete']) {
    const known = await readSourceKeys(conn, f.table.schema, f.table.name);
    const from = new Date(Math.min(...windows) * w * 1000);
    const to = new Date((Math.max(...windows) + 1) * w * 1000);
    deleted = (await executeRendered(conn, s['stage-delete'], [w, windows, known, from, to])).count;
  }
  await addSourceKeys(conn, f.table.schema, f.table.name, await stagedKeys(conn, s));
  return { inserted, updated, deleted };
}

function interrupted(t: ResolvedTable): HomepotError {
  return new HomepotError('interrupted', `interrupted: the copy of ${t.display} stopped between batches`, {
    hint: 'Run the same command again to continue where it stopped.',
  });
}

function finishedError(display: string, state: RemoteState): HomepotError {
  const when = state.finished_at ? new Date(state.finished_at).toISOString() : 'an earlier run';
  return new HomepotError(
    'unsuitable-table',
    `the copy of ${display} from another server was finished at ${when} (migrate-from-postgres finish): HOMEPOT writes here now, so homepot-ts copies nothing more into it`,
    {
      hint: `To copy again from scratch, drop the copied tables on this server yourself and run migrate-from-postgres cleanup first.`,
    },
  );
}

export interface FinishResult {
  command: 'migrate-from-postgres finish';
  table: string;
  changed: boolean;
  finishedAt: string;
  source: string | null;
}

/**
 * migrate-from-postgres --source ... finish: record on this server that the
 * copy has ended (HOMEPOT writes here now); after it, a --source run refuses.
 * Idempotent.
 */
export async function runMigrateFinish(sql: Sql, opts: { table: string }): Promise<FinishResult> {
  return withChangeLock(sql, async (conn) => {
    const q = parseQualifiedName(opts.table);
    const table =
      (await findRelation(conn, { schema: q.schema ?? 'public', name: q.name })) ??
      (await resolveTable(conn, opts.table));
    const state = await readRemoteState(conn, table.schema, table.name);
    if (!state || state.strategy !== 'remote') {
      throw new HomepotError(
        'usage',
        `no copy of ${table.display} from another server (--source) is recorded on this server: there is nothing to finish`,
        {
          hint: 'finish ends a migrate-from-postgres --source copy once HOMEPOT writes to this server.',
        },
      );
    }
    if (state.phase === 'finished' && state.finished_at) {
      return {
        command: 'migrate-from-postgres finish',
        table: table.display,
        changed: false,
        finishedAt: new Date(state.finished_at).toISOString(),
        source: state.source,
      };
    }
    const at = await recordFinished(conn, table.schema, table.name);
    return {
      command: 'migrate-from-postgres finish',
      table: table.display,
      changed: true,
      finishedAt: at.toISOString(),
      source: state.source,
    };
  });
}

// The copy's state on this server lives in homepot_ts.migration (src/migration-state.ts);
// beyond the online migration's columns a copy uses source, next_block, total_blocks,
// source_keys (the integer keys copied from the source), finished_at and phase 'finished'.
type RemoteState = MigrationState;

async function readRemoteState(conn: Sql, schema: string, table: string): Promise<RemoteState | null> {
  return readState(conn, schema, table);
}

export type { Verification };
