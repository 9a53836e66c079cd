import { parseColumnList, parseOrderBy } from '../core/columns.js';
import type { ConfigFile } from '../core/config.js';
import { HomepotError } from '../core/errors.js';
import { parseInterval, type Interval } from '../core/intervals.js';
import type { SetupOptions } from '../setup.js';

/** The seed's design: 1-week chunks, compress after 7 days, drop after 90 days. */
export const SETUP_DEFAULTS = {
  table: 'health_checks',
  timeColumn: 'timestamp',
  chunkInterval: '7 days',
  compressAfter: '7 days',
  segmentBy: 'device_id',
  orderBy: '"timestamp" DESC, id',
  retention: '90 days',
  lockTimeout: '10 seconds',
} as const;

/** What the setup-related flags carry once commander has parsed them. */
export interface SetupFlags {
  table?: string;
  timeColumn?: string;
  chunkInterval?: Interval;
  compression?: boolean;
  compressAfter?: Interval;
  segmentBy?: string;
  orderBy?: string;
  /** An interval, or false from --no-retention. */
  retention?: Interval | false;
  require?: 'timescaledb' | 'community';
  lockTimeout?: Interval;
  dryRun?: boolean;
}

/** flags > config file (`setup` and `lockTimeout` keys) > the seed's defaults. */
export function resolveSetupOptions(flags: SetupFlags, config: ConfigFile): SetupOptions {
  const c = config.setup ?? {};
  const retention =
    flags.retention !== undefined
      ? flags.retention
      : c.retention === false
        ? false
        : parseInterval(c.retention ?? SETUP_DEFAULTS.retention, 'setup.retention');
  const segmentBy = parseColumnList(flags.segmentBy ?? c.segmentBy ?? SETUP_DEFAULTS.segmentBy, '--segment-by');
  const orderBy = parseOrderBy(flags.orderBy ?? c.orderBy ?? SETUP_DEFAULTS.orderBy);
  const dup = segmentBy.find((s) => orderBy.some((o) => o.column === s));
  if (dup) {
    throw new HomepotError('usage', `column "${dup}" is in both --segment-by and --order-by`, {
      hint: 'A column is either a segment-by or an order-by column for compression, not both.',
    });
  }
  return {
    table: flags.table ?? c.table ?? SETUP_DEFAULTS.table,
    timeColumn: flags.timeColumn ?? c.timeColumn ?? SETUP_DEFAULTS.timeColumn,
    chunkInterval:
      flags.chunkInterval ?? parseInterval(c.chunkInterval ?? SETUP_DEFAULTS.chunkInterval, 'setup.chunkInterval'),
    compression: flags.compression ?? c.compression ?? true,
    compressAfter:
      flags.compressAfter ?? parseInterval(c.compressAfter ?? SETUP_DEFAULTS.compressAfter, 'setup.compressAfter'),
    segmentBy,
    orderBy,
    retention: retention === false ? null : retention,
    require: flags.require ?? c.require ?? null,
    lockTimeout: flags.lockTimeout ?? parseInterval(config.lockTimeout ?? SETUP_DEFAULTS.lockTimeout, 'lockTimeout'),
    dryRun: Boolean(flags.dryRun),
  };
}
