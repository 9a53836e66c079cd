import type { Sql } from './connection.js';
import { HomepotError, type ErrorKind } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import { executeRendered, inTransaction } from './sql.js';

/** What a step finds in the database before anything runs. */
export type StepState = 'needed' | 'in-place' | 'different' | 'not-available';

/** What happened to a step; part of the stable --json shape. */
export type Outcome = 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed';

export interface Step {
  /** Stable id for pipelines, e.g. "retention-policy". */
  id: string;
  title: string;
  state: StepState;
  /** What is there now, when it differs or is in place (e.g. "drop after 30 days"). */
  current?: string;
  /** What we want (e.g. "drop after 90 days"). */
  wanted?: string;
  /** Why a step is not available, and what to do. */
  reason?: string;
  /** The statements applying the step runs, exactly as they will run. */
  statements: string[];
  /** Drops or rewrites something (the plan says so). */
  destructive?: boolean;
  /** Holds a lock on a busy table for long (e.g. migrating rows). */
  warning?: string;
}

export interface StepResult {
  id: string;
  title: string;
  state: StepState;
  outcome: Outcome;
  current?: string;
  wanted?: string;
  reason?: string;
  statements: string[];
  warning?: string;
  /** kind: set when homepot-ts itself refused the step before anything ran (exit code of that kind). */
  error?: { message: string; sqlstate?: string; hint?: string; kind?: ErrorKind };
}

export interface ApplyResult {
  dryRun: boolean;
  changed: boolean;
  steps: StepResult[];
  /** Index of the step that failed, if any (later steps were not run). */
  failedStep: string | null;
}

/** Key of the session advisory lock every changing homepot-ts command takes (hashtext of this). */
export const ADVISORY_LOCK_NAME = 'homepot-ts:change';

/**
 * Take the advisory lock on a reserved connection so concurrent runs queue
 * instead of failing; calls onWait when another session holds it.
 */
export async function withChangeLock<T>(
  sql: Sql,
  fn: (conn: Sql) => Promise<T>,
  onWait?: () => void,
  options: { planOnly?: boolean } = {},
): Promise<T> {
  const conn = await sql.reserve();
  try {
    // A dry run or --check changes nothing: it reads every fact fresh on its own
    // session and never queues behind (or holds up) a run that changes.
    if (options.planOnly) return await fn(conn);
    const [got] = await conn<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(hashtext(${ADVISORY_LOCK_NAME})) AS ok`;
    if (!got?.ok) {
      onWait?.();
      await conn`SELECT pg_advisory_lock(hashtext(${ADVISORY_LOCK_NAME}))`;
    }
    try {
      return await fn(conn);
    } finally {
      await conn`SELECT pg_advisory_unlock(hashtext(${ADVISORY_LOCK_NAME}))`.catch(() => {});
    }
  } finally {
    conn.release();
  }
}

/**
 * Apply the steps that need it, one transaction each, with lock_timeout so a
 * busy table makes the step fail cleanly instead of blocking writers. Stops
 * at the first failure; earlier steps stay applied.
 */
export async function applySteps(
  conn: Sql,
  steps: Step[],
  options: {
    dryRun: boolean;
    lockTimeout: Interval;
    onStep?: (step: Step, index: number) => void;
    signal?: AbortSignal;
  },
): Promise<ApplyResult> {
  const results: StepResult[] = [];
  let failedStep: string | null = null;
  for (const [i, step] of steps.entries()) {
    const base: StepResult = {
      id: step.id,
      title: step.title,
      state: step.state,
      outcome: 'unchanged',
      statements: step.statements,
      ...(step.current !== undefined ? { current: step.current } : {}),
      ...(step.wanted !== undefined ? { wanted: step.wanted } : {}),
      ...(step.reason !== undefined ? { reason: step.reason } : {}),
      ...(step.warning !== undefined ? { warning: step.warning } : {}),
    };
    if (failedStep !== null || step.state === 'not-available') {
      results.push({ ...base, outcome: 'skipped', reason: step.reason ?? `not run: step ${failedStep} failed` });
      continue;
    }
    if (step.state === 'in-place') {
      results.push(base);
      continue;
    }
    if (options.dryRun) {
      results.push({ ...base, outcome: 'skipped', reason: 'dry run' });
      continue;
    }
    if (options.signal?.aborted) {
      results.push({ ...base, outcome: 'skipped', reason: 'interrupted' });
      failedStep = step.id;
      continue;
    }
    options.onStep?.(step, i);
    try {
      await inTransaction(conn, { lockTimeout: options.lockTimeout }, async () => {
        for (const statement of step.statements) await executeRendered(conn, statement);
      });
      results.push({ ...base, outcome: step.state === 'needed' ? 'created' : 'updated' });
    } catch (err) {
      const e = err as { message?: string; code?: string; hint?: string };
      results.push({
        ...base,
        outcome: 'failed',
        error: {
          message: e.message ?? String(err),
          ...(e.code && /^[0-9A-Z]{5}$/.test(e.code) ? { sqlstate: e.code } : {}),
          ...(e.hint ? { hint: e.hint } : {}),
        },
      });
      failedStep = step.id;
    }
  }
  return {
    dryRun: options.dryRun,
    changed: results.some((r) => r.outcome === 'created' || r.outcome === 'updated'),
    steps: results,
    failedStep,
  };
}

/**
 * A plan refused before anything ran: the step whose check refused is
 * `failed` with the refusal as its error, every other step `skipped`
 * (nothing was applied, not even the extension).
 */
export function refusePlan(steps: Step[], failedId: string, refusal: HomepotError, dryRun: boolean): ApplyResult {
  const results: StepResult[] = steps.map((step) => {
    const base: StepResult = {
      id: step.id,
      title: step.title,
      state: step.state,
      outcome: 'skipped',
      statements: step.statements,
      ...(step.current !== undefined ? { current: step.current } : {}),
      ...(step.wanted !== undefined ? { wanted: step.wanted } : {}),
      ...(step.warning !== undefined ? { warning: step.warning } : {}),
    };
    if (step.id !== failedId) return { ...base, reason: `not run: step ${failedId} refused before any change` };
    return {
      ...base,
      outcome: 'failed',
      error: {
        message: refusal.message,
        kind: refusal.kind,
        ...(refusal.hint ? { hint: refusal.hint } : {}),
        ...(refusal.sqlstate ? { sqlstate: refusal.sqlstate } : {}),
      },
    };
  });
  return { dryRun, changed: false, steps: results, failedStep: failedId };
}

/**
 * The ids of the steps a run would still apply, for --check: every step that
 * is needed or different (a step not available on this server is not
 * pending; a different one left alone without --recreate is).
 */
export function pendingSteps(result: ApplyResult): string[] {
  return result.steps.filter((s) => s.state === 'needed' || s.state === 'different').map((s) => s.id);
}

/** The error a failed plan ends with (after its results are printed). */
export function planFailure(result: ApplyResult): HomepotError | null {
  const failed = result.steps.find((s) => s.outcome === 'failed');
  if (!failed) return null;
  if (failed.error?.kind) {
    // Refused by homepot-ts before anything ran: the refusal itself, with its exit code.
    return new HomepotError(failed.error.kind, failed.error.message, {
      ...(failed.error.hint ? { hint: failed.error.hint } : {}),
      ...(failed.error.sqlstate ? { sqlstate: failed.error.sqlstate } : {}),
    });
  }
  const sqlstate = failed.error?.sqlstate;
  const kind = sqlstate === '42501' ? 'permission-denied' : sqlstate === '25006' ? 'read-only' : 'sql-error';
  return new HomepotError(
    kind,
    `step "${failed.title}" failed: ${failed.error?.message ?? 'unknown error'}${sqlstate ? ` (SQLSTATE ${sqlstate})` : ''}`,
    {
      hint:
        sqlstate === '55P03'
          ? 'The table is busy: try again at a quieter time or raise --lock-timeout. The steps before it are applied; run again to finish.'
          : (failed.error?.hint ?? 'The steps before it are applied; fix the cause and run again to finish.'),
      ...(sqlstate ? { sqlstate } : {}),
    },
  );
}

/** What a changing command's caller may watch: the lock wait, each step, Ctrl-C. */
export interface ChangeHooks {
  /** Another homepot-ts run holds the change lock. */
  onWait?: () => void;
  onStep?: (step: Step, index: number) => void;
  signal?: AbortSignal;
}

/** applySteps' options from a command's dry-run / lock-timeout options and its hooks. */
export function applyOptions(opts: { dryRun: boolean; lockTimeout: Interval }, hooks: ChangeHooks) {
  return {
    dryRun: opts.dryRun,
    lockTimeout: opts.lockTimeout,
    ...(hooks.onStep ? { onStep: hooks.onStep } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  };
}
