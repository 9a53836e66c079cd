import type { CommandContext } from './context.js';
import { formatCount } from '../core/numbers.js';

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
      if (plain && (p.elapsedMs - lastPlain >= 2000 || p.done === p.total)) {
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

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
