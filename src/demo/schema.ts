import type { Sql } from '../db/connection.js';
import { sqlFile } from '../db/sql.js';

/** Create HOMEPOT's tables if missing (sql/demo/homepot.sql; idempotent). */
export async function applyHomepotSchema(sql: Sql): Promise<void> {
  await sql.begin((tx) => tx.unsafe(sqlFile('demo/homepot.sql')));
}
