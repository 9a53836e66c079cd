import type { Sql } from './connection.js';
import { HomepotError } from './errors.js';
import type { Logger } from './logger.js';
import type { MigrateHooks, MigrateOptions, MigrateResult } from './migrate.js';

export async function runMigrateRemote(_target: Sql, _sourceUrl: string, _opts: MigrateOptions, _hooks: MigrateHooks, _logger: Logger): Promise<MigrateResult> {
  throw new HomepotError('usage', '--source is not built yet');
}
