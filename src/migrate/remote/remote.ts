import { describeServerKind, detectCapabilities, requireWritable, type Capabilities } from '../../db/capabilities.js';
import { TARGET_SEARCH_PATH, type Sql } from '../../db/connection.js';
import { HomepotError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { findRelation, type ResolvedTable } from '../../db/names.js';
import { num } from '../../core/numbers.js';
import { withChangeLock } from '../../db/plan.js';
import { redactUrl } from '../../core/redact.js';
import { requireOwnerRights } from '../../db/table-owner.js';
import { checkConvertible } from '../../steps/hypertable.js';
import { executeRendered, inTransaction, query, queryOne, renderStatement } from '../../db/sql.js';
import {
  createState,
  readState,
  recordRemoteStart,
  recordResult,
  renderCreateState,
  type MigrationState,
} from '../state.js';
import { describeMismatches, type Verification } from '../verify.js';
import { ensureTimescale } from '../preflight.js';
import {
  emptyResult,
  followUp,
  type MigrateHooks,
  type MigrateOptions,
  type MigrateResult,
  type PlannedStep,
} from '../result.js';
import { runStatements } from '../session.js';
import { connectSource, readFacts, SESSION, sourceTable, type SourceTable, type TableFacts } from './source.js';
import { checkSameColumns, checkTargetTable, renderForeignKeys, renderTable } from './schema.js';
import type { TakenNames } from './index-names.js';
import { copyBlocks, copyOut, renderCopy } from './copy.js';
import { planNaturalKeys, syncReferenced } from './natural-keys.js';
import { planGrants } from './grants.js';
import { recordOwners, type OwnerFact } from './owners.js';
import { advanceSequences, verifyAndReconcile } from './reconcile.js';
import { finishedError } from './finish.js';
import type { RemoteRun } from './run.js';

/**
 * migrate-from-postgres --source: copy HOMEPOT's health_checks (and the tables
 * it references: devices, sites) from a plain PostgreSQL server into this
 * TimescaleDB server. The schema is created on the target from facts read in
 * the source's catalog, health_checks becomes a hypertable before any row
 * arrives, rows travel in block-range batches (COPY both ways; JSON batches
 * into the embedded database), and every run ends by comparing count and
 * checksum per time window on both servers and reconciling the windows that
 * differ, by key (late, updated or deleted rows). Run it again to catch up;
 * once HOMEPOT writes here, `finish` ends it (finish.ts).
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
 *
 * The copy's state on this server lives in homepot_ts.migration (state.ts);
 * beyond the online migration's columns a copy uses source, next_block,
 * total_blocks, source_keys (the integer keys copied from the source),
 * finished_at and phase 'finished'.
 */

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
  const source = await connectSource(sourceUrl, logger);
  try {
    return await withChangeLock(
      target,
      async (conn) => {
        for (const [k, v] of Object.entries({ ...SESSION, search_path: TARGET_SEARCH_PATH }))
          await conn`SELECT pg_catalog.set_config(${k}, ${v}, false)`;
        return await migrate(conn, source.sql, redactUrl(sourceUrl), opts, hooks);
      },
      hooks.onWait,
    );
  } finally {
    await source.close().catch(() => {});
  }
}

/** One --source run, phase by phase. */
async function migrate(
  conn: Sql,
  src: Sql,
  shownSource: string,
  opts: MigrateOptions,
  hooks: MigrateHooks,
): Promise<MigrateResult> {
  const caps = await detectCapabilities(conn);
  if (!opts.dryRun) requireWritable(caps, 'migrate-from-postgres');
  // Only planned here: the extension is created once every check has passed, so a refused run changes nothing.
  const ensured = await ensureTimescale(conn, caps, true);
  const run = await readSource(conn, src, shownSource, opts, hooks, caps, ensured.plan);
  const schema = await planSchema(run);
  await planNaturalKeys(run);
  await planCopy(run);
  if (opts.dryRun) {
    run.result.outcome = 'planned';
    return run.result;
  }
  if (ensured.plan.length > 0) await createExtension(run, ensured.plan);
  await createSchema(run, schema);
  await syncReferenced(run);
  await copyBlocks(run);
  const { v, windowSeconds } = await verifyAndReconcile(run);
  await advanceSequences(run);
  await recordResult(conn, run.srcTable.schema, run.srcTable.name, { verification: v }, windowSeconds);
  return conclude(run, v, windowSeconds);
}

/**
 * The source table, the tables it references and their facts (every type
 * must be a built-in one here: refused before anything changes), and the
 * state of an earlier run; the result to fill.
 */
async function readSource(
  conn: Sql,
  src: Sql,
  shownSource: string,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  caps: Capabilities,
  plan: PlannedStep[],
): Promise<RemoteRun> {
  const srcCaps = await detectCapabilities(src);
  const srcTable = await sourceTable(src, opts.table);
  refusePartitioned(srcTable);
  const { warnings } = await checkConvertible(src, srcTable, opts.timeColumn);
  const tables = await query<SourceTable>(src, 'migrate/remote/tables.sql', [srcTable.oid]);
  const main = tables.find((t) => t.oid === srcTable.oid)!;
  const size = await queryOne<{ blocks: string; bytes: string }>(src, 'migrate/remote/blocks.sql', [srcTable.oid]);
  const rows = num(main.row_estimate) ?? 0;
  const result: MigrateResult = {
    ...emptyResult(srcTable.display, caps),
    strategy: 'remote',
    strategyReason: `--source ${shownSource} (${describeServerKind(srcCaps)})`,
    dryRun: opts.dryRun,
    outcome: 'copied',
    estimate: {
      rows,
      bytes: num(size?.bytes) ?? 0,
      seconds: Math.round(rows / 100_000),
      lock: "none on the source (reads only); the target's tables are new and not in use yet",
    },
    plan: [...plan],
    warnings,
  };
  // Nothing is captured on the source: there are no writes to replay.
  delete result.replayed;
  const state = await earlierCopy(conn, srcTable);
  result.resumed = Boolean(state);
  const facts = new Map<number, TableFacts>();
  for (const t of tables) facts.set(t.oid, await readFacts(src, conn, t));
  const deps = tables.filter((t) => t.oid !== srcTable.oid);
  const pglite = caps.server.pglite;
  const mainFacts = facts.get(main.oid)!;
  return {
    conn,
    src,
    shownSource,
    opts,
    hooks,
    result,
    srcTable,
    tables,
    main,
    deps,
    facts,
    mainFacts,
    pglite,
    state,
    copy: {},
    depCopies: new Map(),
    keyed: [],
    references: [],
    translate: null,
  };
}

/**
 * A partitioned source table has no blocks of its own: the copy by block
 * ranges would move nothing and leave every row to the window reconciliation,
 * in one transaction per run. Refused before anything changes.
 */
function refusePartitioned(t: ResolvedTable): void {
  if (t.relkind !== 'p') return;
  throw new HomepotError(
    'unsuitable-table',
    `source server: ${t.display} is a partitioned table: homepot-ts copies a plain table by block ranges, and a partitioned one has no blocks of its own`,
    {
      hint: `On the source, move its rows into a plain table of that name (rename it; CREATE TABLE ... (LIKE ... INCLUDING ALL); INSERT INTO ... SELECT ...), or copy it with pg_dump yourself.`,
    },
  );
}

/** The state of an earlier --source run; refused when it is an online migration here or a finished copy. */
async function earlierCopy(conn: Sql, srcTable: ResolvedTable): Promise<MigrationState | null> {
  const state = await readState(conn, srcTable.schema, srcTable.name);
  if (state && state.strategy !== 'remote' && state.phase === 'done') {
    throw new HomepotError(
      'unsuitable-table',
      `${srcTable.display} on this server was already migrated to a hypertable here (migrate-from-postgres, ${state.strategy}; its old table is kept): homepot-ts copies nothing from another server into it`,
      {
        hint: 'Copy from another server into a database without health_checks; this one needs no copy (migrate-from-postgres cleanup drops the old table).',
      },
    );
  }
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
  return state;
}

interface SchemaPlan {
  steps: { table: SourceTable; statements: string[] }[];
  foreignKeys: string[];
  grants: string[];
  owners: OwnerFact[];
  stateStatements: string[];
}

/** The tables this server lacks, rendered here from the facts (tables that exist are checked instead). */
async function planSchema(run: RemoteRun): Promise<SchemaPlan> {
  const { conn, opts, result, main, state } = run;
  const steps: SchemaPlan['steps'] = [];
  const taken: TakenNames = new Map();
  for (const t of run.tables) {
    const exists = await findRelation(conn, { schema: t.schema, name: t.name });
    if (exists) {
      if (t.oid === main.oid && !state) await checkTargetTable(conn, exists);
      if (t.oid === main.oid) await checkSameColumns(conn, run.facts.get(t.oid)!, exists);
      // Rows are written here: only with its owner's rights (README, "Who moves the rows").
      await requireOwnerRights(conn, exists, 'migrate-from-postgres --source');
      continue;
    }
    const create =
      t.oid === main.oid
        ? {
            statement: await renderStatement(conn, 'setup/render-create-hypertable.sql', [
              t.schema,
              t.name,
              opts.timeColumn,
              opts.chunkInterval.text,
              false,
            ]),
            timeColumn: opts.timeColumn,
          }
        : null;
    const statements = await renderTable(conn, run.facts.get(t.oid)!, create, taken, result.warnings);
    steps.push({ table: t, statements });
  }
  const foreignKeys: string[] = [];
  for (const s of steps)
    foreignKeys.push(...(await renderForeignKeys(conn, run.facts.get(s.table.oid)!, run.tables, result.warnings)));
  const { statements: grants, owners } = await planGrants(
    run,
    steps.map((s) => s.table),
  );
  const stateStatements = await renderCreateState(conn);
  if (steps.length > 0) {
    result.plan.push({
      id: 'schema',
      title: `create ${steps.map((s) => `${s.table.schema}.${s.table.name}`).join(', ')} on this server (from the source's catalog)`,
      statements: [...new Set([...steps.flatMap((s) => s.statements), ...foreignKeys, ...grants])],
    });
  }
  return { steps, foreignKeys, grants, owners, stateStatements };
}

/** The copy statements (into run), and their plan. */
async function planCopy(run: RemoteRun): Promise<void> {
  const { conn, opts, result, deps, mainFacts, srcTable } = run;
  run.copy = await renderCopy(conn, mainFacts, opts.timeColumn);
  for (const d of deps) run.depCopies.set(d.oid, await renderCopy(conn, run.facts.get(d.oid)!, null));
  if (deps.length > 0)
    result.plan.push({
      id: 'dependencies',
      title: `match the ${run.keyed.map((d) => `${d.facts.table.name} by ${d.natural.join(', ')}`).join(', ')} rows to this server's by their natural keys: add the missing ones, update the ones the source changed since the last copy, and translate the references of the copied rows where the keys differ here ($1: the source's rows as JSON, $2: their hashes as last copied)`,
      statements: run.keyed.flatMap((d) =>
        ['sync-insert', 'sync-insert-new-key', 'sync-update', 'sync-map'].flatMap((n) => d.statements[n] ?? []),
      ),
    });
  result.plan.push({
    id: 'copy',
    title: `copy ${srcTable.display} in block ranges of about ${opts.batchRows.toLocaleString('en-US')} rows`,
    statements: run.pglite
      ? [await copyOut(conn, mainFacts, opts.timeColumn, 'json-blocks'), run.copy['json-in']!]
      : [
          await copyOut(conn, mainFacts, opts.timeColumn, 'copy-blocks'),
          run.copy['stage-create']!,
          run.copy['copy-in']!,
          run.copy['stage-insert']!,
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
}

async function createExtension(run: RemoteRun, plan: PlannedStep[]): Promise<void> {
  const { conn, result } = run;
  run.hooks.onPhase?.('creating the TimescaleDB extension');
  for (const st of plan.flatMap((p) => p.statements)) await executeRendered(conn, st);
  const caps = await detectCapabilities(conn);
  result.edition = caps.timescaledb.edition;
  result.server = describeServerKind(caps);
  result.changed = true;
}

/** The tables, foreign keys and the copy's state, in one transaction (the state row on the first run). */
async function createSchema(run: RemoteRun, schema: SchemaPlan): Promise<void> {
  const { conn, srcTable } = run;
  if (schema.steps.length === 0 && run.state) return;
  run.hooks.onPhase?.('creating the tables on this server');
  await inTransaction(conn, { lockTimeout: run.opts.lockTimeout }, async () => {
    await runStatements(conn, new Set(schema.steps.flatMap((s) => s.statements)));
    await runStatements(conn, schema.foreignKeys);
    await runStatements(conn, schema.grants);
    await createState(conn, schema.stateStatements);
    await recordRemoteStart(conn, srcTable.schema, srcTable.name, run.shownSource, 3600);
    if (schema.owners.length > 0) await recordOwners(conn, srcTable.schema, srcTable.name, schema.owners);
  });
  run.result.changed = true;
}

/** The outcome: migrated when every window agrees, copied when only the newest still move, else an error. */
function conclude(run: RemoteRun, v: Verification, windowSeconds: number): MigrateResult {
  const { result } = run;
  if (!v.ok) {
    const newest = v.mismatches.every((m) => Date.parse(m.to) >= Date.now() - windowSeconds * 1000);
    if (!newest) {
      throw new HomepotError(
        'sql-error',
        `verification failed: ${v.mismatches.length} window(s) differ between the source and this server after reconciling them: ${describeMismatches(v)}`,
        {
          hint: 'Rows keep changing there on the source; run again when it is quiet. The copy so far is kept; a rerun continues.',
        },
      );
    }
    result.outcome = 'copied';
    result.warnings.push(
      `rows are still arriving on the source in the newest window(s) (${describeMismatches(v, 2)}): run migrate-from-postgres --source again after HOMEPOT stops writing to the source, to copy and verify the rest`,
    );
  } else {
    result.outcome = 'migrated';
  }
  result.nextSteps = [
    ...(result.outcome === 'copied'
      ? ['stop HOMEPOT (or its writes to the source), then run this command again to copy and verify the rest']
      : []),
    'point HOMEPOT at this server (DATABASE__URL in backend/.env) and start it, then run migrate-from-postgres --source ... finish (a rerun after that is refused)',
    ...followUp(run.srcTable),
  ];
  return result;
}
