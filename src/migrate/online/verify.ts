import type { Sql } from '../../db/connection.js';
import { HomepotError } from '../../core/errors.js';
import { executeRendered, inTransaction } from '../../db/sql.js';
import { compareWindows, describeMismatches, verifyStatement, windowSums, type Verification } from '../verify.js';
import { secondsSince } from '../result.js';
import { withReserved } from '../session.js';
import type { OnlineRun } from './run.js';

/**
 * The verification of an online migration outside the lock: count and
 * checksum per window of the old and the new table, leaving out the rows whose
 * changes are still pending in the log (the final step checks those key by
 * key), in one snapshot shared by two connections when there are two.
 */

/** Verify every window outside the lock; throws (nothing swapped) when they differ. */
export async function verifyOutsideLock(run: OnlineRun): Promise<Verification> {
  const { conn, table, opts, state, result } = run;
  run.hooks.onPhase?.('verifying row counts and checksums per window');
  const t0 = performance.now();
  const pending = { logTable: state.log_table, keyColumns: run.keyColumns };
  const settled = {
    old: await verifyStatement(conn, { schema: table.schema, name: table.name, timeColumn: opts.timeColumn }, pending),
    new: await verifyStatement(
      conn,
      { schema: table.schema, name: state.new_table, timeColumn: opts.timeColumn },
      pending,
    ),
  };
  const first = await verifySettled(run.pool, conn, opts.jobs, settled, state.window_seconds);
  result.timings.verify = secondsSince(t0);
  if (!first.ok) {
    result.verification = first;
    throw new HomepotError(
      'sql-error',
      `verification failed: the copy differs from ${table.display} in ${first.mismatches.length} window(s): ${describeMismatches(first)}`,
      {
        hint: `Nothing was swapped; ${table.display} is unchanged and still in use. Run migrate-from-postgres abort, then migrate again; report it if it happens again.`,
      },
    );
  }
  return first;
}

const SNAPSHOT = { isolation: 'repeatable read', readOnly: true } as const;

/**
 * Count and checksum per window of the old and the new table, leaving out the
 * rows with changes still pending, in one REPEATABLE READ snapshot: on two
 * connections sharing an exported snapshot when there are two.
 */
async function verifySettled(
  pool: Sql,
  conn: Sql,
  n: number,
  settled: { old: string; new: string },
  windowSeconds: number,
): Promise<Verification> {
  const all = { from: null, to: null };
  const [source, target] = await inTransaction(conn, SNAPSHOT, async () => {
    if (n <= 1) {
      const s = await windowSums(conn, settled.old, windowSeconds, all);
      return [s, await windowSums(conn, settled.new, windowSeconds, all)] as const;
    }
    const [snap] = await conn<{ id: string }[]>`SELECT pg_export_snapshot() AS id`;
    return withReserved(pool, (other) =>
      // SET TRANSACTION SNAPSHOT must be the transaction's first statement: inTransaction runs nothing before fn.
      inTransaction(other, SNAPSHOT, async () => {
        // The snapshot id is the server's own (hex digits and dashes), not user text.
        await executeRendered(other, `SET TRANSACTION SNAPSHOT '${snap!.id.replace(/[^0-9A-F-]/gi, '')}'`);
        return Promise.all([
          windowSums(conn, settled.old, windowSeconds, all),
          windowSums(other, settled.new, windowSeconds, all),
        ]);
      }),
    );
  });
  return compareWindows(source, target, windowSeconds);
}
