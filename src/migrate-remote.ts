import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeServerKind, detectCapabilities } from './capabilities.js';
import { connectUrl, describeError, type Sql } from './connection.js';
import { HomepotError } from './errors.js';
import type { Logger } from './logger.js';
import {
  ensureTimescale, followUp, inTransaction, readState, round1, type MigrateHooks, type MigrateOptions, type MigrateResult,
} from './migrate.js';
import { chooseWindowSeconds, compareWindows, describeMismatches, timeSpan, verifyStatement, windowSums, type Verification } from './migrate-verify.js';
import { findRelation, resolveTable, type ResolvedTable } from './names.js';
import { num } from './numbers.js';
import { withChangeLock } from './plan.js';
import { redactUrl } from './redact.js';
import { checkConvertible } from './setup.js';
import { sqlFile } from './sql-files.js';
import { executeRendered, renderNamed, renderStatement } from './statements.js';

/**
 * migrate-from-postgres --source: copy HOMEPOT's health_checks (and the tables
 * it references: devices, sites) from a plain PostgreSQL server into this
 * TimescaleDB server. The schema is created on the target from the source's
 * catalog, health_checks becomes a hypertable before any row arrives, rows
 * travel in block-range batches (COPY both ways; JSON batches into the
 * embedded database), and every run ends by comparing count and checksum per
 * time window on both servers, copying again the windows that changed (late
 * or updated rows). Run it again to catch up; once HOMEPOT is stopped, the
 * last run copies the rest and verifies everything.
 */

// The same text for the same row on both servers; no JIT and no wait for the WAL flush at
// each batch's commit (see withMigrationSession: each batch carries its own progress mark).
const SESSION = { TimeZone: 'UTC', DateStyle: 'ISO, MDY', IntervalStyle: 'postgres', extra_float_digits: '1', jit: 'off', synchronous_commit: 'off' };

interface SourceTable {
  oid: number;
  schema: string;
  name: string;
  depth: number;
  row_estimate: string;
  primary_key: string[] | null;
}

export async function runMigrateRemote(target: Sql, sourceUrl: string, opts: MigrateOptions, hooks: MigrateHooks, logger: Logger): Promise<MigrateResult> {
  if (opts.strategy === 'in-place') {
    throw new HomepotError('usage', '--strategy in-place and --source do not go together: rows from another server are always copied', {
      hint: 'Leave out --strategy (or use --strategy online) with --source.',
    });
  }
  let source;
  try {
    source = await connectUrl(sourceUrl, { logger, connectTimeout: 10, max: 1 });
  } catch (err) {
    const e = describeError(err);
    throw new HomepotError(e.kind, `source server: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}), ...(e.sqlstate ? { sqlstate: e.sqlstate } : {}), cause: err });
  }
  const src = source.sql;
  const shown = redactUrl(sourceUrl);
  try {
    for (const [k, v] of Object.entries(SESSION)) await src`SELECT set_config(${k}, ${v}, false)`;
    return await withChangeLock(target, async (conn) => {
      for (const [k, v] of Object.entries(SESSION)) await conn`SELECT set_config(${k}, ${v}, false)`;
      return await migrate(conn, src, shown, opts, hooks);
    }, hooks.onWait);
  } finally {
    await source.close().catch(() => {});
  }
}

async function migrate(conn: Sql, src: Sql, shownSource: string, opts: MigrateOptions, hooks: MigrateHooks): Promise<MigrateResult> {
  let caps = await detectCapabilities(conn);
  // Only planned here: the extension is created once every check has passed, so a refused run changes nothing.
  const ensured = await ensureTimescale(conn, caps, true);
  const srcCaps = await detectCapabilities(src);
  const srcTable = await sourceTable(src, opts);
  const { warnings } = await checkConvertible(src, srcTable, opts.timeColumn);
  const tables = (await src.unsafe(sqlFile('migrate/remote-tables.sql'), [srcTable.oid])) as unknown as SourceTable[];
  const main = tables.find((t) => t.oid === srcTable.oid)!;
  const deps = tables.filter((t) => t.oid !== srcTable.oid);
  const [size] = await src<{ bytes: string }[]>`SELECT pg_total_relation_size(${srcTable.oid}::oid) AS bytes`;
  const rows = num(main.row_estimate) ?? 0;
  const result: MigrateResult = {
    command: 'migrate-from-postgres', table: srcTable.display, strategy: 'remote',
    strategyReason: `--source ${shownSource} (${describeServerKind(srcCaps)})`,
    dryRun: opts.dryRun, changed: false, outcome: 'copied', resumed: false,
    server: describeServerKind(caps), edition: caps.timescaledb.edition,
    estimate: {
      rows, bytes: num(size?.bytes) ?? 0, seconds: Math.round(rows / 100_000),
      lock: 'none on the source (reads only); the target\'s tables are new and not in use yet',
    },
    plan: [...ensured.plan], copied: { rows: 0, batches: 0, seconds: 0, rowsPerSecond: 0 }, replayed: 0, locks: [],
    verification: null, oldTable: null, droppedOld: false, timings: {}, warnings, nextSteps: [],
  };
  const state = await readState(conn, srcTable.schema, srcTable.name);
  if (state && state.strategy !== 'remote') {
    throw new HomepotError('usage', `an online migration of ${srcTable.display} on this server is in progress (${state.phase}): finish or abort it before copying from another server`, {
      hint: 'Run migrate-from-postgres without --source to finish it, or migrate-from-postgres abort.',
    });
  }
  result.resumed = Boolean(state);

  // --- schema on the target ---
  const schemaSteps: { table: SourceTable; statements: string[] }[] = [];
  for (const t of tables) {
    const exists = await findRelation(conn, { schema: t.schema, name: t.name });
    if (exists) {
      if (t.oid === main.oid && !state) await checkTargetTable(conn, exists);
      continue;
    }
    const ddl = (await src.unsafe(sqlFile('migrate/remote-ddl.sql'), [t.oid])) as unknown as { ord: number; statement: string }[];
    const statements = ddl.map((d) => d.statement);
    if (t.oid === main.oid) {
      // The hypertable before any index beyond the keys, and before any row.
      const at = ddl.findIndex((d) => d.ord >= 5);
      const create = await renderStatement(conn, 'setup/render-create-hypertable.sql', [t.schema, t.name, opts.timeColumn, opts.chunkInterval.text, false]);
      statements.splice(at === -1 ? statements.length : at, 0, create);
    }
    schemaSteps.push({ table: t, statements });
  }
  const fks: string[] = [];
  for (const s of schemaSteps) {
    const rows = (await src.unsafe(sqlFile('migrate/remote-foreign-keys.sql'), [s.table.oid])) as unknown as { statement: string }[];
    fks.push(...rows.map((r) => r.statement));
  }
  const createState = await renderStatement(conn, 'migrate/state-create.sql', [srcTable.schema]);
  if (schemaSteps.length > 0) {
    result.plan.push({ id: 'schema', title: `create ${schemaSteps.map((s) => `${s.table.schema}.${s.table.name}`).join(', ')} on this server (from the source's catalog)`, statements: [...new Set([...schemaSteps.flatMap((s) => s.statements), ...fks])] });
  }
  const copySql = await renderCopy(src, srcTable.oid, opts.timeColumn);
  const depStatements: string[] = [];
  for (const d of deps) depStatements.push((await renderCopy(src, d.oid, null))['json-in-missing']!);
  if (deps.length > 0) result.plan.push({ id: 'dependencies', title: `add the ${deps.map((d) => d.name).join(', ')} rows this server lacks ($1: the source's rows as JSON)`, statements: depStatements });
  result.plan.push({ id: 'copy', title: `copy ${srcTable.display} in block ranges of about ${opts.batchRows.toLocaleString('en-US')} rows`, statements: caps.server.pglite
    ? [copySql['json-out-blocks']!, copySql['json-in']!]
    : [copySql['copy-out-blocks']!, copySql['stage-create']!, copySql['copy-in']!, copySql['stage-insert']!] });
  result.plan.push({ id: 'verify', title: 'compare count and checksum per time window on both servers; copy the windows that differ again', statements: [] });
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
      await executeRendered(conn, createState);
      await conn`
        INSERT INTO ${conn(srcTable.schema)}.homepot_ts_migration (table_name, strategy, phase, source, window_seconds)
        VALUES (${srcTable.name}, 'remote', 'copying', ${shownSource}, 3600)
        ON CONFLICT (table_name) DO NOTHING`;
    });
    result.changed = true;
  }

  const pglite = caps.server.pglite;
  // --- the referenced tables: add what the target lacks, never overwrite ---
  for (const d of deps) {
    const r = await renderCopy(src, d.oid, null);
    const [out] = (await executeRendered(src, r['all-json-out']!)) as unknown as { rows: string; n: number }[];
    const res = await executeRendered(conn, r['json-in-missing']!, [out?.rows ?? '[]'] as never[]);
    if (res.count > 0) result.changed = true;
  }

  // --- health_checks in block ranges; a rerun continues from next_block and picks up what was appended ---
  const st = (await readState(conn, srcTable.schema, srcTable.name))!;
  const [b] = (await executeRendered(src, copySql.blocks!)) as unknown as { blocks: string }[];
  const totalBlocks = Number(b?.blocks ?? 0);
  let next = Number(st.next_block);
  const [blocksNow] = await src<{ blocks: string }[]>`SELECT greatest(relpages, 1) AS blocks FROM pg_class WHERE oid = ${srcTable.oid}::oid`;
  const rowsPerBlock = Math.max(1, rows / Math.max(1, Number(blocksNow?.blocks ?? 1)));
  const blocksPerBatch = Math.max(1, Math.round(opts.batchRows / rowsPerBlock));
  const started = performance.now();
  let copied = 0;
  const estimate = Math.max(0, Math.round((totalBlocks - next) * rowsPerBlock));
  hooks.onPhase?.(`copying ${srcTable.display} from ${shownSource}`);
  while (next < totalBlocks) {
    if (hooks.signal?.aborted) throw interrupted(srcTable);
    const hi = Math.min(totalBlocks, next + blocksPerBatch);
    const n = await inTransaction(conn, opts.lockTimeout, async () => {
      const count = await moveRows(src, conn, copySql, 'blocks', { lo: next, hi }, pglite);
      await conn`UPDATE ${conn(srcTable.schema)}.homepot_ts_migration
                 SET next_block = ${hi}, total_blocks = ${totalBlocks}, rows_copied = rows_copied + ${count}, batches = batches + 1, updated_at = now()
                 WHERE table_name = ${srcTable.name}`;
      return count;
    });
    copied += n;
    next = hi;
    result.copied.batches++;
    hooks.onProgress?.({ phase: 'copy', done: copied, total: Math.max(estimate, copied), elapsedMs: performance.now() - started });
  }
  const seconds = (performance.now() - started) / 1000;
  result.copied = { rows: copied, batches: result.copied.batches, seconds: round1(seconds), rowsPerSecond: Math.round(copied / Math.max(seconds, 0.001)) };
  if (copied > 0) result.changed = true;

  // --- verify per window; copy the windows that differ again (late, updated or deleted rows), then verify them again ---
  hooks.onPhase?.('verifying row counts and checksums per window on both servers');
  const ref = { schema: srcTable.schema, name: srcTable.name, timeColumn: opts.timeColumn };
  const span = await timeSpan(src, ref);
  const windowSeconds = chooseWindowSeconds(span ? span.hi - span.lo : 0);
  const srcVerify = await verifyStatement(src, ref);
  const tgtVerify = await verifyStatement(conn, ref);
  let v = compareWindows(await windowSums(src, srcVerify, windowSeconds), await windowSums(conn, tgtVerify, windowSeconds), windowSeconds);
  for (let round = 0; !v.ok && round < 2; round++) {
    const windows = v.mismatches.map((m) => Math.floor(Date.parse(m.from) / 1000 / windowSeconds));
    hooks.onPhase?.(`copying ${windows.length} window(s) again that changed on the source`);
    await inTransaction(conn, opts.lockTimeout, async () => {
      for (const w of windows) {
        await executeRendered(conn, await renderStatement(conn, 'migrate/render-delete-window.sql', [ref.schema, ref.name, ref.timeColumn]),
          [new Date(w * windowSeconds * 1000), new Date((w + 1) * windowSeconds * 1000)] as never[]);
      }
      await moveRows(src, conn, copySql, 'windows', { windows, w: windowSeconds }, pglite);
    });
    result.changed = true;
    const range = { from: new Date(Math.min(...windows) * windowSeconds * 1000), to: new Date((Math.max(...windows) + 1) * windowSeconds * 1000) };
    const again = compareWindows(await windowSums(src, srcVerify, windowSeconds, range), await windowSums(conn, tgtVerify, windowSeconds, range), windowSeconds);
    const rechecked = new Set(windows);
    v = {
      ...v,
      mismatches: again.mismatches.filter((m) => rechecked.has(Math.floor(Date.parse(m.from) / 1000 / windowSeconds))),
    };
    v.ok = v.mismatches.length === 0;
  }
  result.verification = v;

  // --- sequences: continue after the source's values ---
  const seqs = (await src.unsafe(sqlFile('migrate/remote-sequences.sql'), [tables.map((t) => t.oid)] as never[])) as unknown as { sequence: string; last_value: string }[];
  for (const s of seqs) {
    await conn.unsafe(sqlFile('migrate/advance-sequence.sql'), [s.sequence, s.last_value] as never[]);
  }

  await conn`UPDATE ${conn(srcTable.schema)}.homepot_ts_migration
             SET result = ${conn.json({ verification: v } as never)}, window_seconds = ${windowSeconds}, updated_at = now()
             WHERE table_name = ${srcTable.name}`;
  if (!v.ok) {
    const newest = v.mismatches.every((m) => Date.parse(m.to) >= Date.now() - windowSeconds * 1000);
    if (newest) {
      result.outcome = 'copied';
      result.warnings.push(`rows are still arriving on the source in the newest window(s) (${describeMismatches(v, 2)}): run migrate-from-postgres --source again after HOMEPOT stops writing to the source, to copy and verify the rest`);
    } else {
      throw new HomepotError('sql-error', `verification failed: ${v.mismatches.length} window(s) differ between the source and this server after copying them again: ${describeMismatches(v)}`, {
        hint: 'Rows keep changing there on the source; run again when it is quiet. The copy so far is kept; a rerun continues.',
      });
    }
  } else {
    result.outcome = 'migrated';
  }
  result.nextSteps = [
    ...(result.outcome === 'copied' ? ['stop HOMEPOT (or its writes to the source), then run this command again to copy and verify the rest'] : []),
    "point HOMEPOT at this server (DATABASE__URL in backend/.env) and start it",
    ...followUp(srcTable.name),
  ];
  return result;
}

async function sourceTable(src: Sql, opts: MigrateOptions): Promise<ResolvedTable> {
  const table = await resolveTable(src, opts.table).catch((err: unknown) => {
    const e = err as HomepotError;
    throw new HomepotError(e.kind ?? 'unknown-table', `source server: ${e.message}`, { ...(e.hint ? { hint: e.hint } : {}) });
  });
  if (table.relkind !== 'r' && table.relkind !== 'p') {
    throw new HomepotError('unsuitable-table', `source server: ${table.display} is not a table`, { hint: 'Point --table at HOMEPOT\'s health_checks table.' });
  }
  return table;
}

/** The target table may exist only as an empty table (a fresh HOMEPOT schema) or a hypertable with our state. */
async function checkTargetTable(conn: Sql, t: ResolvedTable): Promise<void> {
  const [r] = await conn<{ any: boolean }[]>`SELECT EXISTS (SELECT 1 FROM ${conn(t.schema)}.${conn(t.name)}) AS any`;
  if (r?.any) {
    throw new HomepotError('unsuitable-table', `${t.display} on this server already holds rows that no earlier migrate-from-postgres --source copied`, {
      hint: 'Copy into an empty database (or one without health_checks), so that no row is doubled.',
    });
  }
  throw new HomepotError('unsuitable-table', `${t.display} already exists on this server (empty)`, {
    hint: `Drop it (DROP TABLE ${t.display};) so that it is created from the source's definition, or migrate into an empty database.`,
  });
}

function renderCopy(src: Sql, oid: number, timeColumn: string | null): Promise<Record<string, string>> {
  return renderNamed(src, 'migrate/render-remote-copy.sql', [oid, timeColumn ?? 'timestamp']);
}

function fill(template: string, values: Record<string, number | number[]>): string {
  return template.replace(/\{(lo|hi|w|windows)\}/g, (_m, k: string) => {
    const v = values[k];
    const list = Array.isArray(v) ? v : [v];
    if (list.some((x) => x === undefined || !Number.isSafeInteger(x))) throw new HomepotError('internal', `not a whole number for {${k}}`);
    return list.join(', ');
  });
}

/** Move one batch from the source to the target (inside the caller's target transaction); returns the rows moved. */
async function moveRows(src: Sql, conn: Sql, s: Record<string, string>, by: 'blocks' | 'windows', values: Record<string, number | number[]>, pglite: boolean): Promise<number> {
  if (pglite) {
    const [out] = (await executeRendered(src, fill(s[`json-out-${by}`]!, values))) as unknown as { rows: string; n: number }[];
    if (!out || out.n === 0) return 0;
    const r = await executeRendered(conn, s['json-in']!, [out.rows] as never[]);
    return r.count;
  }
  // Read the whole batch in flowing mode, then write it: postgres.js pauses a
  // COPY TO STDOUT socket under backpressure and, when the stream ends paused,
  // never reads the next reply on that connection.
  const readable = await executeRendered(src, fill(s[`copy-out-${by}`]!, values)).readable();
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
  if (chunks.length === 0) return 0;
  // Into the staging table, then into the table, skipping rows it already has
  // (render-remote-copy.sql): a COPY that fails on the server never settles
  // postgres.js's writable (porsager/postgres #1173), so the COPY must not fail
  // on a key the target already holds.
  await executeRendered(conn, s['stage-create']!);
  await executeRendered(conn, s['stage-empty']!);
  const writable = await executeRendered(conn, s['copy-in']!).writable();
  await pipeline(Readable.from(chunks), writable);
  const r = await executeRendered(conn, s['stage-insert']!);
  return r.count;
}

function interrupted(t: ResolvedTable): HomepotError {
  return new HomepotError('interrupted', `interrupted: the copy of ${t.display} stopped between batches`, {
    hint: 'Run the same command again to continue where it stopped.',
  });
}

export type { Verification };
