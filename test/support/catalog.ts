/** A snapshot of what setup-like commands may change, to prove a run changed nothing. */
import type { Sql } from './pg.js';

export async function catalogSnapshot(sql: Sql): Promise<unknown> {
  const relations = await sql.unsafe(`
    SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1, 2`);
  const extensions = await sql.unsafe(`SELECT extname, extversion FROM pg_extension ORDER BY 1`);
  let jobs: unknown[] = [];
  let hypertables: unknown[] = [];
  const [ts] = await sql.unsafe(`SELECT to_regclass('timescaledb_information.jobs') IS NOT NULL AS ok`);
  if (ts?.ok) {
    jobs = await sql.unsafe(
      `SELECT job_id, proc_name, hypertable_name, config::text, scheduled FROM timescaledb_information.jobs ORDER BY 1`,
    );
    hypertables = await sql.unsafe(
      `SELECT hypertable_name, num_chunks, compression_enabled FROM timescaledb_information.hypertables ORDER BY 1`,
    );
  }
  return { relations, extensions, jobs, hypertables };
}
