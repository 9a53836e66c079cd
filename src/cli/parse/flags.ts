/**
 * The flags several commands share, declared once, each with the parser of its
 * kind (./values.ts), so a bad value is refused where it is parsed.
 */
import { Option, type Command } from 'commander';
import { SETUP_DEFAULTS } from '../options.js';
import * as kinds from './values.js';

/** --table, for chaining: `.option(...TABLE_FLAG)`. */
export const TABLE_FLAG = [
  '--table <name>',
  `the table (default: $HOMEPOT_TS_TABLE, config setup.table, else ${SETUP_DEFAULTS.table})`,
  kinds.tableName('--table'),
] as const;

/** --segment-by and --order-by, for chaining. */
export const SEGMENT_BY_FLAG = [
  '--segment-by <columns>',
  `compression segment-by columns, or none (default ${SETUP_DEFAULTS.segmentBy})`,
  kinds.segmentBy('--segment-by'),
] as const;
export const ORDER_BY_FLAG = [
  '--order-by <items>',
  `compression order-by (default '${SETUP_DEFAULTS.orderBy}')`,
  kinds.orderBy('--order-by'),
] as const;

/** --table: the table a command works on. */
export function tableOption(cmd: Command): Command {
  return cmd.option(...TABLE_FLAG);
}

/** --time-column and --chunk-interval: how a table becomes a hypertable (setup, migrate). */
export function hypertableOptions(cmd: Command): Command {
  return cmd
    .option(
      '--time-column <column>',
      `its time column (default "${SETUP_DEFAULTS.timeColumn}")`,
      kinds.columnName('--time-column'),
    )
    .option(
      '--chunk-interval <interval>',
      `chunk size for new chunks (default ${SETUP_DEFAULTS.chunkInterval})`,
      kinds.interval('--chunk-interval'),
    );
}

/** --dry-run and --lock-timeout: every command that changes something. */
export function changeOptions(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'show the plan and its SQL; change nothing')
    .addOption(
      new Option(
        '--lock-timeout <interval>',
        `give up on a busy table after this long, at most 24 days (default: $HOMEPOT_TS_LOCK_TIMEOUT, config lockTimeout, else ${SETUP_DEFAULTS.lockTimeout})`,
      ).argParser(kinds.lockTimeout('--lock-timeout')),
    );
}

/** --check: a dry run whose exit code says whether changes are pending (setup, create-aggregates, migrate-from-postgres). */
export function checkOption(cmd: Command): Command {
  return cmd.option(
    '--check',
    'drift check: change nothing, print the plan, exit 0 when everything is in place, 7 when changes are pending',
  );
}

/** --segment-by and --order-by: compression settings (setup, compression set). */
export function compressionSettingOptions(cmd: Command): Command {
  return cmd.option(...SEGMENT_BY_FLAG).option(...ORDER_BY_FLAG);
}
