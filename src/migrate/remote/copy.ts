import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Sql } from '../../db/connection.js';
import { num } from '../../core/numbers.js';
import { HomepotError } from '../../core/errors.js';
import { executeRendered, inTransaction, queryOne, renderNamed, renderStatement } from '../../db/sql.js';
import { readState, recordRemoteBatch } from '../state.js';
import { copiedFigures, interrupted } from '../result.js';
import type { TableFacts } from './source.js';
import type { RemoteRun } from './run.js';

/**
 * Moving rows from the source to this server in a --source copy: the
 * statements that read them there and write them here (rendered here), COPY
 * both ways through a staging table (JSON batches into the embedded
 * database), the referenced tables' missing rows, and the source table in
 * block-range batches, each one transaction with its progress mark.
 */

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

/** The statements that write copied rows here (remote/render-copy.sql). */
export function renderCopy(conn: Sql, f: TableFacts, timeColumn: string | null): Promise<Record<string, string>> {
  return renderNamed(conn, 'migrate/remote/render-copy.sql', [
    f.table.schema,
    f.table.name,
    copyColumns(f),
    timeColumn ?? 'timestamp',
    f.key,
    f.intKey,
  ]);
}

/** The statement that reads rows on the source, rendered here; numbers bound here (placeholders when absent, for the plan). */
export function copyOut(
  conn: Sql,
  f: TableFacts,
  timeColumn: string | null,
  what: string,
  n: { lo?: number; hi?: number; w?: number; windows?: number[] } = {},
): Promise<string> {
  return renderStatement(conn, 'migrate/remote/render-copy-out.sql', [
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

/** Rows read on the source as one JSON array (the embedded database's way, and the referenced tables'). */
type JsonRows = { rows: string; n: number };

/** Read the source's rows into the staging table here (inside the caller's transaction). */
export async function stage(
  src: Sql,
  conn: Sql,
  s: Record<string, string>,
  out: string,
  pglite: boolean,
): Promise<void> {
  await executeRendered(conn, s['stage-create']!);
  await executeRendered(conn, s['stage-empty']!);
  if (pglite) {
    const [o] = await executeRendered<JsonRows[]>(src, out);
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
  readable._read(0);
  return chunks;
}

/** Move one batch from the source to the target (inside the caller's target transaction); the rows inserted, and the batch's integer keys. */
async function moveRows(run: RemoteRun, out: string): Promise<{ count: number; keys: string | null }> {
  const { src, conn, copy: s, pglite } = run;
  if (run.translate) {
    // References to translate (the referenced tables' keys differ here): through the staging table on every server.
    await stage(src, conn, s, out, pglite);
    await translateStaged(run);
    const r = await executeRendered(conn, s['stage-insert']!);
    return { count: r.count, keys: await stagedKeys(conn, s) };
  }
  if (pglite) {
    const [o] = await executeRendered<JsonRows[]>(src, out);
    if (!o || o.n === 0) return { count: 0, keys: null };
    const r = await executeRendered(conn, s['json-in']!, [o.rows]);
    const keys = s['json-keys']
      ? ((await executeRendered<{ keys: string | null }[]>(conn, s['json-keys'], [o.rows]))[0]?.keys ?? null)
      : null;
    return { count: r.count, keys };
  }
  // Into the staging table, then into the table, skipping rows it already has
  // (remote/render-copy.sql): a COPY that fails on the server never settles
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

/** The integer keys of the staged rows (int8multirange text), or null. */
export async function stagedKeys(conn: Sql, s: Record<string, string>): Promise<string | null> {
  if (!s['stage-keys']) return null;
  const [k] = await executeRendered<{ keys: string | null }[]>(conn, s['stage-keys']);
  return k?.keys ?? null;
}

/**
 * Translate the references of the staged rows to this server's keys (inside
 * the caller's transaction); a staged row referencing a row the source did
 * not have when the referenced tables were matched is refused (run again).
 */
export async function translateStaged(run: RemoteRun): Promise<void> {
  const t = run.translate;
  if (!t) return;
  const [u] = await executeRendered<{ n: number }[]>(run.conn, t['stage-unmapped']!);
  if (u && u.n > 0) {
    throw new HomepotError(
      'sql-error',
      `${u.n} row(s) of ${run.srcTable.display} reference ${run.references.map((r) => r.rel).join(', ')} rows that appeared on the source after this run matched those tables`,
      { hint: 'Run migrate-from-postgres --source again: it matches them first, then copies the rest.' },
    );
  }
  await executeRendered(run.conn, t['stage-translate']!);
}

/**
 * The most bytes of rows (as stored on the source) one batch reads: at least
 * one block, so a block full of TOASTed values can still exceed it.
 */
export const BATCH_BYTES = 16 * 1024 * 1024;

/** The source table in block ranges; a rerun continues from next_block and picks up what was appended. */
export async function copyBlocks(run: RemoteRun): Promise<void> {
  const { conn, src, srcTable, opts, hooks, result } = run;
  const st = (await readState(conn, srcTable.schema, srcTable.name))!;
  const b = await queryOne<{ blocks: string; table_bytes: string }>(src, 'migrate/remote/blocks.sql', [srcTable.oid]);
  const totalBlocks = Number(b?.blocks ?? 0);
  let next = Number(st.next_block);
  const rowsPerBlock = Math.max(1, (num(run.main.row_estimate) ?? 0) / Math.max(1, Number(run.main.pages ?? 1)));
  // Bounded by bytes too (the rows' size on the source, TOAST included): 300 rows of 1 MB JSON were one 440 MB batch.
  const bytesPerBlock = Math.max(1, Number(b?.table_bytes ?? 0) / Math.max(1, totalBlocks));
  const blocksPerBatch = Math.max(
    1,
    Math.min(Math.round(opts.batchRows / rowsPerBlock), Math.floor(BATCH_BYTES / bytesPerBlock)),
  );
  const started = performance.now();
  let copied = 0;
  const estimate = Math.max(0, Math.round((totalBlocks - next) * rowsPerBlock));
  hooks.onPhase?.(`copying ${srcTable.display} from ${run.shownSource}`);
  while (next < totalBlocks) {
    if (hooks.signal?.aborted) throw interrupted(srcTable, 'remote');
    const hi = Math.min(totalBlocks, next + blocksPerBatch);
    copied += await copyBatch(run, next, hi, totalBlocks);
    next = hi;
    result.copied.batches++;
    hooks.onProgress?.({
      phase: 'copy',
      done: copied,
      total: Math.max(estimate, copied),
      elapsedMs: performance.now() - started,
    });
  }
  result.copied = copiedFigures(copied, result.copied.batches, (performance.now() - started) / 1000);
  if (copied > 0) result.changed = true;
}

/** Blocks [lo, hi) of the source table, one transaction here with its progress mark; the rows copied. */
function copyBatch(run: RemoteRun, lo: number, hi: number, totalBlocks: number): Promise<number> {
  const { conn, srcTable, opts } = run;
  return inTransaction(conn, { lockTimeout: opts.lockTimeout }, async () => {
    const out = await copyOut(conn, run.mainFacts, opts.timeColumn, run.pglite ? 'json-blocks' : 'copy-blocks', {
      lo,
      hi,
    });
    const moved = await moveRows(run, out);
    await recordRemoteBatch(conn, srcTable.schema, srcTable.name, {
      nextBlock: hi,
      totalBlocks,
      rows: moved.count,
      keys: moved.keys,
    });
    return moved.count;
  });
}
