/**
 * A snapshot of what setup-like commands may change, to prove a run changed nothing: equal
 * snapshots before and after mean equal catalogs and equal data, not only equal names.
 *
 * It covers, outside the system schemas: relations (kind, owner, ACL), columns (type, NOT NULL,
 * default), constraints and indexes with their definitions (pg_get_constraintdef,
 * pg_get_indexdef), view and materialized view definitions (pg_get_viewdef), triggers,
 * functions, schemas and their ACLs, the database's ACL, default privileges, extensions; and
 * where TimescaleDB is installed its jobs (config and schedule), hypertables, dimensions (chunk
 * intervals), chunks (ranges, compressed or not), compression settings and continuous
 * aggregates. Data: row count and checksum of HOMEPOT's tables (sites, devices, health_checks,
 * in whichever schema they are). Objects that belong to an extension are listed as relations
 * only (their definitions change with the extension's version, which is recorded).
 * Works on every flavour: TimescaleDB's views are read only where they exist.
 */
import type { Sql } from './pg.js';

const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'`;
/** Not a member of an extension (pg_depend deptype 'e'). */
const notExtension = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

const CATALOG: Record<string, string> = {
  schemas: `SELECT n.nspname, n.nspowner::regrole::text AS owner, n.nspacl::text AS acl FROM pg_namespace n WHERE ${USER_SCHEMA} ORDER BY 1`,
  database: `SELECT datdba::regrole::text AS owner, datacl::text AS acl,
               (SELECT array_agg(s ORDER BY s) FROM pg_db_role_setting r, unnest(r.setconfig) s WHERE r.setdatabase = d.oid)::text AS settings
             FROM pg_database d WHERE datname = current_database()`,
  defaultAcls: `SELECT defaclrole::regrole::text, defaclnamespace::regnamespace::text, defaclobjtype::text, defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3`,
  relations: `
    SELECT n.nspname, c.relname, c.relkind::text, c.relowner::regrole::text AS owner, c.relacl::text AS acl, c.relpersistence::text,
           c.reloptions::text AS options
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_SCHEMA} ORDER BY 1, 2`,
  columns: `
    SELECT c.oid::regclass::text AS rel, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid) AS "default", a.attidentity::text, a.attgenerated::text, a.attacl::text AS acl
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE ${USER_SCHEMA} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND ${notExtension('pg_class', 'c.oid')}
    ORDER BY 1, 2`,
  constraints: `
    SELECT co.conrelid::regclass::text AS rel, co.conname, co.contype::text, pg_get_constraintdef(co.oid) AS def, co.convalidated
    FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
    WHERE ${USER_SCHEMA} AND co.conrelid <> 0 AND ${notExtension('pg_class', 'co.conrelid')}
    ORDER BY 1, 2`,
  indexes: `
    SELECT i.indrelid::regclass::text AS rel, c.relname AS index, pg_get_indexdef(i.indexrelid) AS def, i.indisvalid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_SCHEMA} AND ${notExtension('pg_class', 'i.indrelid')}
    ORDER BY 1, 2`,
  views: `
    SELECT c.oid::regclass::text AS view, c.relkind::text, pg_get_viewdef(c.oid) AS def, c.relispopulated
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_SCHEMA} AND c.relkind IN ('v', 'm') AND ${notExtension('pg_class', 'c.oid')}
    ORDER BY 1`,
  triggers: `
    SELECT t.tgrelid::regclass::text AS rel, t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_SCHEMA} AND NOT t.tgisinternal AND ${notExtension('pg_class', 't.tgrelid')}
    ORDER BY 1, 2`,
  functions: `
    SELECT p.oid::regprocedure::text AS fn, p.prokind::text, md5(p.prosrc) AS src, p.proowner::regrole::text AS owner, p.proacl::text AS acl
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE ${USER_SCHEMA} AND ${notExtension('pg_proc', 'p.oid')}
    ORDER BY 1`,
  extensions: `SELECT extname, extversion, extnamespace::regnamespace::text AS schema FROM pg_extension ORDER BY 1`,
};

/** TimescaleDB's information views: each read only where it exists (versions differ, plain PostgreSQL has none). */
const TIMESCALE: Record<string, { view: string; query: string }> = {
  jobs: {
    view: 'timescaledb_information.jobs',
    // Not next_start: the scheduler moves it without anyone changing anything.
    query: `SELECT job_id, application_name, proc_schema, proc_name, hypertable_schema, hypertable_name, config::text, scheduled,
                   schedule_interval::text, max_runtime::text, max_retries, retry_period::text
            FROM timescaledb_information.jobs ORDER BY job_id`,
  },
  hypertables: {
    view: 'timescaledb_information.hypertables',
    query: `SELECT hypertable_schema, hypertable_name, owner::text, num_dimensions, num_chunks, compression_enabled
            FROM timescaledb_information.hypertables ORDER BY 1, 2`,
  },
  dimensions: {
    view: 'timescaledb_information.dimensions',
    query: `SELECT to_jsonb(d)::text AS dimension FROM timescaledb_information.dimensions d ORDER BY 1`,
  },
  chunks: {
    view: 'timescaledb_information.chunks',
    query: `SELECT hypertable_schema, hypertable_name, chunk_schema, chunk_name, range_start::text, range_end::text,
                   range_start_integer, range_end_integer, is_compressed
            FROM timescaledb_information.chunks ORDER BY 3, 4`,
  },
  compressionSettings: {
    view: 'timescaledb_information.compression_settings',
    query: `SELECT to_jsonb(s)::text AS setting FROM timescaledb_information.compression_settings s ORDER BY 1`,
  },
  hypertableCompressionSettings: {
    view: 'timescaledb_information.hypertable_compression_settings',
    query: `SELECT to_jsonb(s)::text AS setting FROM timescaledb_information.hypertable_compression_settings s ORDER BY 1`,
  },
  chunkCompressionSettings: {
    view: 'timescaledb_information.chunk_compression_settings',
    query: `SELECT to_jsonb(s)::text AS setting FROM timescaledb_information.chunk_compression_settings s ORDER BY 1`,
  },
  continuousAggregates: {
    view: 'timescaledb_information.continuous_aggregates',
    query: `SELECT to_jsonb(a)::text AS aggregate FROM timescaledb_information.continuous_aggregates a ORDER BY 1`,
  },
};

/** HOMEPOT's tables, whose rows are counted and checksummed. */
const HOMEPOT_TABLES = ['sites', 'devices', 'health_checks'];

async function tableData(sql: Pick<Sql, 'unsafe'>): Promise<Record<string, { rows: number; checksum: string }>> {
  const tables = await sql.unsafe<{ rel: string }[]>(
    `SELECT c.oid::regclass::text AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMA} AND c.relkind IN ('r', 'p') AND c.relname = ANY($1::text[]) ORDER BY 1`,
    [HOMEPOT_TABLES],
  );
  const out: Record<string, { rows: number; checksum: string }> = {};
  for (const { rel } of tables) {
    // The row as text, rendered with the settings catalogSnapshot fixes for its transaction.
    const [r] = await sql.unsafe<{ rows: number; checksum: string }[]>(
      `SELECT count(*)::int AS rows, coalesce(sum(hashtextextended(t::text, 0)), 0)::text AS checksum FROM ${rel} t`,
    );
    out[rel] = { rows: r.rows, checksum: r.checksum };
  }
  return out;
}

export async function catalogSnapshot(sql: Sql): Promise<Record<string, unknown>> {
  // One transaction: one snapshot of everything, and the rendering settings stay local to it.
  return sql.begin<Record<string, unknown>>(async (tx) => {
    await tx.unsafe(`SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL extra_float_digits = 1`);
    const out: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(CATALOG)) out[key] = await tx.unsafe(text);
    for (const [key, { view, query }] of Object.entries(TIMESCALE)) {
      const [exists] = await tx.unsafe(`SELECT to_regclass($1) IS NOT NULL AS ok`, [view]);
      out[key] = exists?.ok ? await tx.unsafe(query) : null;
    }
    out.data = await tableData(tx);
    return out;
  });
}
