import type { Sql } from '../db/connection.js';
import { sqlFile } from '../db/sql.js';

/**
 * Create HOMEPOT's tables if missing (sql/demo/homepot.sql; idempotent). The file holds many
 * statements, run by the simple protocol in one postgres.js transaction: sql.begin reserves a
 * connection of the pool for it, which inTransaction (one connection already) cannot.
 */
export async function applyHomepotSchema(sql: Sql): Promise<void> {
  await sql.begin((tx) => tx.unsafe(sqlFile('demo/homepot.sql')));
}
