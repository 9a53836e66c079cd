import type { ChalkInstance } from 'chalk';
import { redact } from './redact.js';
import { writeErr } from './streams.js';

/**
 * Everything the CLI says to people goes through here, to stderr: stdout is
 * for data only. Every line is redacted.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export interface LoggerOptions {
  quiet: boolean;
  debug: boolean;
  /** --json: notes are not printed and each warning is one JSON line ({"warning": ...}) on stderr. */
  json: boolean;
  chalk: ChalkInstance;
  stream?: NodeJS.WritableStream;
  /** Notes and warnings for people are wrapped to this many columns (Infinity or absent: not wrapped). */
  width?: number;
}

/** Wrap a message at spaces to `width` columns; words longer than a line stay whole. */
function wrapLines(text: string, width: number | undefined): string {
  if (width === undefined || !Number.isFinite(width)) return text;
  return text
    .split('\n')
    .map((paragraph) => {
      const lines: string[] = [];
      let line = '';
      for (const word of paragraph.split(' ')) {
        if (line !== '' && line.length + 1 + word.length > width) {
          lines.push(line);
          line = word;
        } else line = line === '' ? word : `${line} ${word}`;
      }
      lines.push(line);
      return lines.join('\n');
    })
    .join('\n');
}

export function createLogger(opts: LoggerOptions): Logger {
  const stream = opts.stream;
  const c = opts.chalk;
  const write = (line: string) => (stream ? void stream.write(redact(line) + '\n') : writeErr(line + '\n'));
  return {
    info(message) {
      if (!opts.quiet && !opts.json) write(wrapLines(message, opts.width));
    },
    warn(message) {
      // Warnings are shown even with --quiet: they are what an operator must not miss.
      // With --json they still go to stderr, as one JSON line, so a pipeline log keeps them.
      if (opts.json) write(JSON.stringify({ warning: message }));
      else write(c.yellow('warning: ') + wrapLines(message, opts.width === undefined ? undefined : opts.width - 9));
    },
    debug(message) {
      if (opts.debug) write(c.dim('debug: ' + message));
    },
  };
}
