import ora, { type Ora } from 'ora';
import type { CommandContext } from './context.js';
import type { ChangeHooks } from '../db/plan.js';
import { formatCount } from '../core/numbers.js';
import { redact } from '../core/redact.js';
import { formatDuration } from './render/format.js';

/**
 * What people see while work runs, all on stderr: the spinner, progress of
 * long work (rows, rate, ETA), the note when another run holds the change
 * lock, and the step being applied. Pipelines (--json, --quiet, no TTY) get
 * plain lines or nothing, and the summary in the result.
 */

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export function makeSpinner(text: string, interactive: boolean): Spinner {
  if (!interactive) return { update() {}, succeed() {}, fail() {}, stop() {} };
  // ora writes to stderr itself: its texts are redacted before they reach it.
  const s: Ora = ora({ text: redact(text), stream: process.stderr }).start();
  return {
    update: (t) => void (s.text = redact(t)),
    succeed: (t) => void s.succeed(t === undefined ? t : redact(t)),
    fail: (t) => void s.fail(t === undefined ? t : redact(t)),
    stop: () => void s.stop(),
  };
}

/** The note when another homepot-ts run holds the change lock. */
export function lockWaitNote(ctx: CommandContext): void {
  ctx.logger.info('another homepot-ts run is changing this database: waiting for it to finish');
}

/** Wait/step feedback for a changing command, shared by every changing command. */
export async function withChangeFeedback<T>(
  ctx: CommandContext,
  fn: (hooks: Required<ChangeHooks>) => Promise<T>,
): Promise<T> {
  const spin = ctx.spinner('waiting for the change lock');
  try {
    return await fn({
      onWait: () => lockWaitNote(ctx),
      onStep: (s) => spin.update(`applying: ${s.title}`),
      signal: ctx.signal,
    });
  } finally {
    spin.stop();
  }
}

export interface ProgressState {
  done: number;
  total: number;
  elapsedMs: number;
}

/**
 * Progress of long work for people: a spinner line on a terminal, or a plain
 * line every few seconds when stderr is a file or pipe. Nothing with --json
 * or --quiet (pipelines get the summary in the result instead).
 */
export function progressReporter(ctx: CommandContext, label: string, unit = 'rows') {
  const spin = ctx.spinner(label);
  const plain = !ctx.interactive && !ctx.options.json && !ctx.options.quiet;
  let lastPlain = 0;
  const line = (p: ProgressState) => {
    const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 0;
    const rate = p.elapsedMs > 0 ? (p.done / p.elapsedMs) * 1000 : 0;
    const eta = rate > 0 && p.total > p.done ? (p.total - p.done) / rate : 0;
    return `${label}: ${formatCount(p.done)}/${formatCount(p.total)} ${unit} (${pct}%), ${formatCount(Math.round(rate))} ${unit}/s, ETA ${formatDuration(eta * 1000)}`;
  };
  return {
    update(p: ProgressState) {
      spin.update(line(p));
      // A single unit of work (one window) is said by the line that ends the phase: no progress line for it.
      if (plain && p.total > 1 && (p.elapsedMs - lastPlain >= 2000 || p.done === p.total)) {
        lastPlain = p.elapsedMs;
        ctx.logger.info(line(p));
      }
    },
    succeed(text: string) {
      spin.succeed(text);
      if (!ctx.interactive) ctx.logger.info(text);
    },
    fail(text: string) {
      spin.fail(text);
    },
  };
}
