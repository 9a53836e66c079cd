import { describeServerKind, type Capabilities, type Edition } from '../db/capabilities.js';
import type { Interval } from '../core/intervals.js';
import type { ApplyResult } from '../db/plan.js';

/**
 * What the changing tuning commands (retention, chunk-interval) share: the
 * options every one takes and the result every one returns.
 */

/** What every changing tuning command returns: the plan's results and where they ran. */
export interface TuningResult extends ApplyResult {
  table: string;
  server: string;
  edition: Edition | null;
  warnings: string[];
}

export interface ChangeOptions {
  table: string;
  dryRun: boolean;
  lockTimeout: Interval;
}

/** A tuning command's result: the plan's, with the table and the server it ran on. */
export function tuningResult(
  result: ApplyResult,
  table: string,
  caps: Capabilities,
  warnings: string[] = [],
): TuningResult {
  return { ...result, table, server: describeServerKind(caps), edition: caps.timescaledb.edition, warnings };
}
