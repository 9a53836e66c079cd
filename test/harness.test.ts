/**
 * The test-database harness itself: every flavour is what it claims to be,
 * databases are fresh and independent, the password URL really authenticates.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { expect, it } from 'vitest';
import {
  createTestDatabase,
  describeWithDatabase,
  FLAVOURS,
  type Sql,
  type TestDatabase,
} from './support/databases.js';
import { rawServerError, type RawServerError } from './support/pg.js';

interface PgError {
  code?: string;
  message: string;
}

async function failure(p: PromiseLike<unknown>): Promise<PgError> {
  try {
    await p;
  } catch (err) {
    return err as PgError;
  }
  throw new Error('expected the statement to fail, it succeeded');
}

async function userTables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ t: string }[]>`
    select schemaname || '.' || tablename as t from pg_tables
    where schemaname not in ('pg_catalog', 'information_schema') and schemaname !~ 'timescaledb'`;
  return rows.map((r) => r.t);
}

async function timescaledbRow(sql: Sql): Promise<{ default_version: string } | undefined> {
  const [row] = await sql<{ default_version: string }[]>`
    select default_version from pg_available_extensions where name = 'timescaledb'`;
  return row;
}

describeWithDatabase('timescale', 'TimescaleDB Community', (db) => {
  it('creates the extension, license timescale', async () => {
    const sql = db().sql();
    await sql`create extension if not exists timescaledb`;
    const [row] = await sql<{ license: string; version: string }[]>`
      select current_setting('timescaledb.license') as license,
             (select extversion from pg_extension where extname = 'timescaledb') as version`;
    expect(row?.license).toBe('timescale');
    expect(row?.version).toMatch(/^2\.\d+/);
  });

  it('has the Community features: compression, policies, continuous aggregates', async () => {
    const sql = db().sql();
    await sql`create extension if not exists timescaledb`;
    await sql`create table m (time timestamptz not null, device int, value double precision)`;
    await sql`select create_hypertable('m', by_range('time'))`;
    await sql`alter table m set (timescaledb.compress, timescaledb.compress_segmentby = 'device')`;
    const [job] = await sql<{ id: number }[]>`select add_compression_policy('m', interval '7 days') as id`;
    expect(job?.id).toBeGreaterThan(0);
    await sql`
      create materialized view m_hourly with (timescaledb.continuous) as
      select time_bucket('1 hour', time) as bucket, device, avg(value) from m group by 1, 2
      with no data`;
    const [cagg] = await sql<
      { n: number }[]
    >`select count(*)::int as n from timescaledb_information.continuous_aggregates`;
    expect(cagg?.n).toBe(1);
  });
});

describeWithDatabase('apache', 'TimescaleDB Apache-2 edition', (db) => {
  it('creates the extension, license apache', async () => {
    const sql = db().sql();
    await sql`create extension if not exists timescaledb`;
    const [row] = await sql<{ license: string; preload: string }[]>`
      select current_setting('timescaledb.license') as license, current_setting('shared_preload_libraries') as preload`;
    expect(row?.license).toBe('apache');
    expect(row?.preload).toContain('timescaledb');
  });

  it('hypertables work, Community-only features are refused', async () => {
    const sql = db().sql();
    await sql`create extension if not exists timescaledb`;
    await sql`create table m (time timestamptz not null, value double precision)`;
    await sql`select create_hypertable('m', by_range('time'))`;
    const err = await failure(sql`alter table m set (timescaledb.compress)`);
    expect(err.code).toBe('0A000');
    expect(err.message).toMatch(/apache/i);
  });
});

describeWithDatabase('postgres', 'PostgreSQL without timescaledb preloaded', (db) => {
  it('does not preload timescaledb', async () => {
    const [row] = await db().sql()<
      { preload: string }[]
    >`select current_setting('shared_preload_libraries') as preload`;
    expect(row?.preload ?? '').not.toContain('timescaledb');
  });

  it('CREATE EXTENSION timescaledb fails: "must be preloaded" when installed, "not available" otherwise', async (ctx) => {
    const sql = db().sql();
    const available = await timescaledbRow(sql);
    if (db().source === 'local-cluster') {
      // This machine: the files are installed exactly when the .so is.
      const pkglibdir = execFileSync('pg_config', ['--pkglibdir'], { encoding: 'utf8' }).trim();
      expect(Boolean(available)).toBe(existsSync(join(pkglibdir, 'timescaledb.so')));
    }
    expect(Boolean(available)).toBe(db().facts.timescaledb.available);
    const err = await failure(sql`create extension timescaledb`);
    if (!available) {
      expect(err.message).toMatch(/not available|could not open extension control file/);
      return;
    }
    // Installed but not preloaded: the server answers FATAL XX000 "extension "timescaledb"
    // must be preloaded" and drops the connection, which postgres.js reports only as
    // CONNECTION_CLOSED (the FATAL arrives without ReadyForQuery and is discarded).
    if (err.code === 'CONNECTION_CLOSED') {
      const raw = await rawServerError(db().url, 'create extension timescaledb');
      ctx.skip(raw === 'unsupported-auth', 'postgres.js lost the FATAL and the raw check needs trust auth');
      expect(raw).toMatchObject({ severity: 'FATAL', code: expect.stringMatching(/^[0-9A-Z]{5}$/) });
      expect((raw as RawServerError).message).toMatch(/must be preloaded/);
    } else {
      expect(err.code).toMatch(/^[0-9A-Z]{5}$/);
      expect(err.message).toMatch(/preload/);
    }
  });
});

describeWithDatabase('postgres-bare', 'server without timescaledb', (db) => {
  it('has no timescaledb in pg_available_extensions, CREATE EXTENSION fails', async () => {
    const sql = db().sql();
    expect(await timescaledbRow(sql)).toBeUndefined();
    const err = await failure(sql`create extension timescaledb`);
    expect(err.message).toMatch(/not available|could not open extension control file/);
  });
});

for (const flavour of FLAVOURS) {
  describeWithDatabase(flavour, 'harness basics', (db) => {
    it('is a fresh database with no user tables, described correctly', async () => {
      const sql = db().sql();
      expect(await userTables(sql)).toEqual([]);
      const [row] = await sql<{ v: string; su: boolean }[]>`
        select current_setting('server_version') as v, (select rolsuper from pg_roles where rolname = current_user) as su`;
      expect(row?.v.startsWith(db().facts.serverVersion)).toBe(true);
      expect(row?.su).toBe(true);
      expect(db().singleConnection).toBe(db().source === 'embedded');
    });

    it('a second client can connect after the shared one (single-connection servers included)', async () => {
      await db().sql()`select 1`;
      const other = db().connect();
      const [row] = await other<{ ok: number }[]>`select 1 as ok`;
      expect(row?.ok).toBe(1);
      await other.end();
    });

    it('the password URL authenticates a non-superuser role; a wrong password is rejected', async () => {
      const d = db();
      if (d.source === 'local-cluster' || d.source === 'container') expect(d.passwordUrl).toBeDefined();
      if (!d.passwordUrl && d.source === 'env') {
        // A server named by TEST_DATABASE_URL_* (any version, e.g. a newer Community build)
        // authenticates as its own pg_hba.conf says, so the harness makes no password role there.
        expect(d.password).toBeUndefined();
        return;
      }
      if (!d.passwordUrl) {
        // The embedded server has no roles or authentication: any user and password land in
        // the same superuser session. Password-leak tests therefore run on local clusters.
        expect(d.source).toBe('embedded');
        const u = new URL(d.url);
        u.username = 'someone';
        u.password = 'anything';
        const any = postgres(u.toString(), { max: 1, onnotice: () => {} });
        try {
          const [row] = await any<{ user: string }[]>`select current_user as user`;
          expect(row?.user).toBe('postgres');
        } finally {
          await any.end();
        }
        return;
      }
      const url = d.passwordUrl;
      expect(d.password && url.includes(d.password)).toBe(true);
      const good = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const [row] = await good<{ user: string; su: boolean; db: string }[]>`
          select current_user as user, (select rolsuper from pg_roles where rolname = current_user) as su,
                 current_database() as db`;
        expect(row).toEqual({ user: 'homepot_pw', su: false, db: d.name });
        await good`create table owned_by_pw (id int)`; // usable: CREATE on schema public
        await good`drop table owned_by_pw`;
      } finally {
        await good.end();
      }
      const wrong = new URL(url);
      wrong.password = 'not-the-password';
      const bad = postgres(wrong.toString(), { max: 1, onnotice: () => {} });
      try {
        const err = await failure(bad`select 1`);
        expect(err.code).toBe('28P01'); // invalid_password: password auth is really enforced
      } finally {
        await bad.end();
      }
    });

    it('two databases from the lower-level API are independent, and dropAndClose drops', async () => {
      const a: TestDatabase = await createTestDatabase(flavour, { label: 'isolation-a' });
      let b: TestDatabase | undefined;
      try {
        b = await createTestDatabase(flavour, { label: 'isolation-b' });
        expect(a.url).not.toBe(b.url);
        await a.sql()`create table only_in_a (id int)`;
        expect(await userTables(a.sql())).toEqual(['public.only_in_a']);
        expect(await userTables(b.sql())).toEqual([]);
        expect(await userTables(db().sql())).toEqual([]);
      } finally {
        await a.dropAndClose();
        await b?.dropAndClose();
      }
      if (a.source === 'embedded') {
        const gone = postgres(a.url, { max: 1, connect_timeout: 2, onnotice: () => {} });
        const err = await failure(gone`select 1`);
        expect(err.code).toBe('ECONNREFUSED');
        await gone.end();
      } else {
        const rows = await db().sql()`select 1 from pg_database where datname in (${a.name}, ${b?.name ?? ''})`;
        expect(rows.length).toBe(0);
      }
    });
  });
}
