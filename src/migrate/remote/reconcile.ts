import { executeRendered, inTransaction, query, renderStatement } from '../../db/sql.js';
import { addSourceKeys, readSourceKeys } from '../state.js';
import { chooseWindowSeconds, compareWindows, windowSums, type Verification } from '../verify.js';
import type { CatchUp } from '../result.js';
import { copyOut, stage, stagedKeys, translateStaged } from './copy.js';
import type { RemoteRun } from './run.js';

/**
 * The end of every --source run: count and checksum per time window on both
 * servers, the windows that differ reconciled by key (late, updated or
 * deleted rows) and verified again, and the sequences here moved past the
 * source's values.
 */

/** The statements that count and checksum per window on each server. */
async function verifyStatements(run: RemoteRun) {
  const { conn, srcTable, opts, mainFacts } = run;
  const ref = [srcTable.schema, srcTable.name, opts.timeColumn];
  const source = await renderStatement(conn, 'migrate/remote/render-verify.sql', [...ref, null, null, null]);
  // Here, with the keys copied so far (they change as windows are reconciled).
  const target = async () =>
    renderStatement(conn, 'migrate/remote/render-verify.sql', [
      ...ref,
      mainFacts.intKey,
      mainFacts.intKey ? await readSourceKeys(conn, srcTable.schema, srcTable.name) : null,
      run.references.length > 0 ? JSON.stringify(run.references) : null,
    ]);
  return { source, target };
}

/**
 * The verification window: from the span of the source table's rows between
 * the 0.1% and 99.9% quantiles of time (time-quantiles.sql), not min to max:
 * one row from 1970 among 605,000 of the last week made 30-day windows, and a
 * catch-up then re-copied the whole table in one transaction (23.5 s, 396 MB
 * instead of 1.5 s, 79 MB).
 */
async function windowLength(run: RemoteRun): Promise<number> {
  const { srcTable, opts } = run;
  const statement = await renderStatement(run.conn, 'migrate/remote/time-quantiles.sql', [
    srcTable.schema,
    srcTable.name,
    opts.timeColumn,
  ]);
  const [r] = await executeRendered<{ lo: number | null; hi: number | null }[]>(run.src, statement);
  return chooseWindowSeconds(r?.lo != null && r.hi != null ? Number(r.hi) - Number(r.lo) : 0);
}

/** Verify per window; reconcile the windows that differ by key (two rounds at most), then verify them again. */
export async function verifyAndReconcile(run: RemoteRun): Promise<{ v: Verification; windowSeconds: number }> {
  const { conn, src, opts, hooks, result, mainFacts } = run;
  hooks.onPhase?.('verifying row counts and checksums per window on both servers');
  const windowSeconds = await windowLength(run);
  const sums = await verifyStatements(run);
  const compare = async (range: { from?: Date; to?: Date } = {}) =>
    compareWindows(
      await windowSums(src, sums.source, windowSeconds, range),
      await windowSums(conn, await sums.target(), windowSeconds, range),
      windowSeconds,
    );
  let v = await compare();
  const caughtUp: CatchUp = { windows: 0, rows: 0, inserted: 0, updated: 0, deleted: 0, keyColumn: mainFacts.intKey };
  const windowOf = (from: string) => Math.floor(Date.parse(from) / 1000 / windowSeconds);
  for (let round = 0; !v.ok && round < 2; round++) {
    const windows = v.mismatches.map((m) => windowOf(m.from));
    hooks.onPhase?.(`reconciling ${windows.length} window(s) that changed on the source, by key`);
    const done = await inTransaction(conn, { lockTimeout: opts.lockTimeout }, () =>
      reconcile(run, windows, windowSeconds),
    );
    caughtUp.windows += windows.length;
    caughtUp.rows += done.read;
    caughtUp.inserted += done.inserted;
    caughtUp.updated += done.updated;
    caughtUp.deleted += done.deleted;
    if (done.inserted + done.updated + done.deleted > 0) result.changed = true;
    const again = await compare({
      from: new Date(Math.min(...windows) * windowSeconds * 1000),
      to: new Date((Math.max(...windows) + 1) * windowSeconds * 1000),
    });
    const rechecked = new Set(windows);
    v = { ...v, mismatches: again.mismatches.filter((m) => rechecked.has(windowOf(m.from))) };
    v.ok = v.mismatches.length === 0;
  }
  result.verification = v;
  result.caughtUp = caughtUp;
  return { v, windowSeconds };
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
  run: RemoteRun,
  windows: number[],
  w: number,
): Promise<{ read: number; inserted: number; updated: number; deleted: number }> {
  const { conn, copy: s, mainFacts: f } = run;
  const what = run.pglite ? 'json-windows' : 'copy-windows';
  const out = await copyOut(conn, f, run.opts.timeColumn, what, { w, windows });
  await stage(run.src, conn, s, out, run.pglite);
  await translateStaged(run);
  // The freshly copied chunks have no statistics yet: the planner expects a row or two in the
  // windows and joins them to the staged rows by nested loops, which took 166 s for 34,000
  // staged rows here; hash joins take well under a second. For this transaction only.
  await executeRendered(conn, s['stage-analyze']!);
  const [staged] = await executeRendered<{ n: string }[]>(conn, s['stage-count']!);
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
  return { read: Number(staged?.n ?? 0), inserted, updated, deleted };
}

/** Sequences: continue after the source's values (found here by table and column). */
export async function advanceSequences(run: RemoteRun): Promise<void> {
  const { conn, src, tables } = run;
  const copiedNames = new Set(tables.map((t) => `${t.schema}.${t.name}`));
  const seqs = await query<{ schema: string; table_name: string; column_name: string; last_value: string }>(
    src,
    'migrate/remote/sequences.sql',
    [tables.map((t) => t.oid)],
  );
  for (const s of seqs) {
    if (!copiedNames.has(`${s.schema}.${s.table_name}`)) continue;
    await query(conn, 'migrate/remote/advance-sequence.sql', [s.schema, s.table_name, s.column_name, s.last_value]);
  }
  // Sequences a default uses without owning them: here by their own schema and name (render-sequence.sql).
  const used = await query<{ schema: string; name: string; last_value: string }>(
    src,
    'migrate/remote/default-sequences.sql',
    [tables.map((t) => t.oid)],
  );
  for (const s of used)
    await query(conn, 'migrate/remote/advance-default-sequence.sql', [s.schema, s.name, s.last_value]);
}
