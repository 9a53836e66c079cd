import { redact } from './redact.js';

/**
 * The only places the CLI writes to stdout and stderr. Everything goes through
 * redact() here, so no output path (a table, JSON, a help text, an error, a
 * --debug stack, a spinner line) can show a registered password, whatever
 * value it came from: a table's owner, a database name, an echoed URL.
 */
export function writeOut(text: string): void {
  process.stdout.write(redact(text));
}

export function writeErr(text: string): void {
  process.stderr.write(redact(text));
}
