import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { ResolvedTable } from '../db/names.js';
import { executeRendered, inTransaction, renderStatement, setLockTimeout } from '../db/sql.js';
import { compareWindows, describeMismatches, verifyStatement, windowSums, type Verification } from './verify.js';
import {
  copiedFigures,
  followUp,
  MIGRATE_DEFAULTS,
  type MigrateHooks,
  type MigrateOptions,
  type MigrateResult,
} from './result.js';

/**
 * The in-place strategy: create_hypertable(migrate_data) on the table itself,
 * in one transaction under ACCESS EXCLUSIVE (taken within --lock-timeout),
 * with row count and checksum per window compared before and after; a
 * difference rolls everything back.
 */

export async function inPlace(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  result: MigrateResult,
): Promise<MigrateResult> {
  const lock = `LOCK TABLE ${table.display} IN ACCESS EXCLUSIVE MODE`;
  const create = await renderStatement(conn, 'setup/render-create-hypertable.sql', [
    table.schema,
    table.name,
    opts.timeColumn,
    opts.chunkInterval.text,
    true,
  ]);
  const verify = await verifyStatement(conn, { schema: table.schema, name: table.name, timeColumn: opts.timeColumn });
  result.plan.push({
    id: 'convert',
    title: `convert ${table.display} in place (one transaction, rows counted and checksummed before and after)`,
    statements: [lock, create],
  });
  if (opts.dryRun) {
    result.outcome = 'planned';
    return result;
  }
  hooks.onPhase?.(`converting ${table.display} in place (writes wait until it finishes)`);
  const started = performance.now();
  const { lockedAt, verification } = await convert(conn, opts, { lock, create, verify });
  result.verification = verification;
  const done = performance.now();
  result.locks.push({
    what: `${table.display}: conversion`,
    mode: 'ACCESS EXCLUSIVE',
    ms: Math.round(done - lockedAt),
  });
  result.copied = copiedFigures(verification.rows, 1, (done - started) / 1000);
  result.changed = true;
  result.outcome = 'migrated';
  result.nextSteps = followUp(table);
  return result;
}

/** The conversion's one transaction; returns when the lock was taken, and the verification. */
async function convert(
  conn: Sql,
  opts: MigrateOptions,
  s: { lock: string; create: string; verify: string },
): Promise<{ lockedAt: number; verification: Verification }> {
  const windowSeconds = MIGRATE_DEFAULTS.windowSeconds;
  return inTransaction(conn, { lockTimeout: opts.lockTimeout }, async () => {
    await executeRendered(conn, s.lock);
    const lockedAt = performance.now();
    // The lock is ours until COMMIT: the conversion itself may take long, and
    // the locks it takes besides must not fail on --lock-timeout.
    await setLockTimeout(conn, null, 'local');
    const before = await windowSums(conn, s.verify, windowSeconds);
    await executeRendered(conn, s.create);
    const after = await windowSums(conn, s.verify, windowSeconds);
    const verification = compareWindows(before, after, windowSeconds);
    if (!verification.ok)
      throw new HomepotError(
        'sql-error',
        `verification failed after the conversion: ${describeMismatches(verification)}`,
        {
          hint: 'Nothing was changed (rolled back). Report this with --debug output.',
        },
      );
    return { lockedAt, verification };
  });
}
