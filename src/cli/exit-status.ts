/**
 * An exit code a command ends with when nothing failed: `--check` with
 * changes pending (7). Errors carry their own code (HomepotError); this is
 * for a run that printed its result and succeeded at what it was asked.
 */
import type { ExitCodeValue } from '../core/exit-codes.js';

let status: ExitCodeValue | undefined;

/** Set the code main() returns once the command has finished without an error. */
export function endWith(code: ExitCodeValue): void {
  status = code;
}

/** The code set by endWith during this run (and forget it: main may run again in-process). */
export function takeEndStatus(): ExitCodeValue | undefined {
  const s = status;
  status = undefined;
  return s;
}
