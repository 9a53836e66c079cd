/**
 * Issue 9, what the operator typed and what the tool prints: the --source URL
 * kept out of `ps` (environment, config file), typed names folded like
 * PostgreSQL (A-Z only), every output stream redacted (stdout too), and
 * JavaScript config files run only from the project's own directory.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseColumnName } from '../src/core/columns.js';
import { parseQualifiedName } from '../src/db/names.js';
import { oneLineError, query } from './support/assertions.js';
import { runCli as run, type CliResult } from './support/cli.js';
import { createTestDatabase, describeWithDatabase, type TestDatabase } from './support/databases.js';
import { loadPlainRows, publicTables } from './support/homepot.js';
import { freePort, quoteIdent } from './support/pg.js';
import { loadSource } from './support/remote-source.js';

const tmp = (label: string) => mkdtempSync(path.join(tmpdir(), `homepot-ts-${label}-`));

function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  return run(args, { timeoutMs: 40_000, ...options });
}

/** Neither stream shows the password, in any spelling postgres.js or a URL would use. */
function expectNoPassword(r: CliResult, password: string): void {
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain(password);
    expect(text).not.toContain(encodeURIComponent(password));
  }
}

describe('typed names fold like PostgreSQL (no database)', () => {
  it('only A-Z are folded in unquoted names; quoted names and other letters keep their case', () => {
    expect(parseQualifiedName('ÄVENTS')).toEqual({ schema: null, name: 'Ävents' });
    expect(parseQualifiedName('Straße.ÖL')).toEqual({ schema: 'straße', name: 'Öl' });
    expect(parseQualifiedName('İSTANBUL')).toEqual({ schema: null, name: 'İstanbul' });
    expect(parseQualifiedName('"ÄVENTS"')).toEqual({ schema: null, name: 'ÄVENTS' });
    expect(parseQualifiedName('Health_Checks')).toEqual({ schema: null, name: 'health_checks' });
    expect(parseColumnName('ZEITSTEMPEL_Ä', '--time-column')).toBe('zeitstempel_Ä');
  });
});

describeWithDatabase('postgres', 'typed table names resolve to the table PostgreSQL would pick', (db) => {
  beforeAll(async () => {
    // 'ävents' (lower-case a-umlaut) holds old rows; JavaScript's toLowerCase() of ÄVENTS names it.
    await query(
      db(),
      `
      CREATE TABLE "ävents" (id int, "timestamp" timestamptz NOT NULL);
      INSERT INTO "ävents" SELECT i, now() - i * interval '1 hour' FROM generate_series(1, 100) i;`,
    );
  });

  it('PostgreSQL itself folds only A-Z: unquoted ÄVENTSX creates "Äventsx"', async () => {
    await query(db(), `CREATE TABLE ÄVENTSX (id int)`);
    const rows = await query<{ relname: string }>(db(), `SELECT relname FROM pg_class WHERE relname LIKE '%ventsx'`);
    expect(rows.map((r) => r.relname)).toEqual(['Äventsx']);
  });

  it('retention run --table ÄVENTS never touches "ävents": unknown table (exit 4), then the right table', async () => {
    const r = await runCli(['retention', 'run', '--table', 'ÄVENTS', '--older-than', '1d', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(4);
    oneLineError(r.stderr, /table "Ävents" does not exist/);
    expect((await query(db(), `SELECT count(*)::int AS n FROM "ävents"`))[0].n).toBe(100);

    // The table PostgreSQL means by ÄVENTS: created unquoted, so the server names it.
    await query(
      db(),
      `
      CREATE TABLE ÄVENTS (id int, "timestamp" timestamptz NOT NULL);
      INSERT INTO ÄVENTS SELECT i, now() - i * interval '1 hour' FROM generate_series(1, 50) i;`,
    );
    const ok = await runCli([
      'retention',
      'run',
      '--table',
      'ÄVENTS',
      '--older-than',
      '1d',
      '--json',
      '--database-url',
      db().url,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await query(db(), `SELECT count(*)::int AS n FROM "Ävents"`))[0].n).toBe(23);
    expect((await query(db(), `SELECT count(*)::int AS n FROM "ävents"`))[0].n).toBe(100);
  });
});

describeWithDatabase('postgres', 'the --source URL from the environment or the config file', (source) => {
  let target: TestDatabase;
  let sourceUrl = '';
  let password = '';
  beforeAll(async () => {
    await loadSource(source().sql(), { rows: 500 });
    const role = source().passwordUrl ? new URL(source().passwordUrl!).username : '';
    await source()
      .sql()
      .unsafe(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(role)}`);
    await source().closeClients();
    sourceUrl = source().passwordUrl!;
    password = source().password!;
    target = await createTestDatabase('apache', { label: 'security-inputs-target' });
  });
  afterAll(async () => {
    await target?.dropAndClose();
  });

  it('has a password-authenticated role to read the source with', () => {
    expect(sourceUrl).toMatch(/^postgres(ql)?:\/\//);
    expect(password.length).toBeGreaterThan(8);
    expect(sourceUrl).toContain(encodeURIComponent(password));
  });

  it('HOMEPOT_TS_SOURCE_URL: migrate-from-postgres --dry-run plans the copy from it; the password shows nowhere', async () => {
    const r = await runCli(['migrate-from-postgres', '--dry-run', '--database-url', target.url], {
      env: { HOMEPOT_TS_SOURCE_URL: sourceUrl },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CREATE TABLE public\.health_checks /);
    expectNoPassword(r, password);
    const j = await runCli(['migrate-from-postgres', '--dry-run', '--json', '--debug', '--database-url', target.url], {
      env: { HOMEPOT_TS_SOURCE_URL: sourceUrl },
    });
    expect(j.code, j.stderr).toBe(0);
    expect(j.json()).toMatchObject({ strategy: 'remote', outcome: 'planned' });
    expect(j.stderr).toContain('debug: source server from: HOMEPOT_TS_SOURCE_URL');
    expectNoPassword(j, password);
    expect(await publicTables(target.sql())).toEqual([]);
    await target.closeClients();
  });

  it('config migrate.source: used when neither flag nor environment gives one; the environment wins over it, the flag over both', async () => {
    const dir = tmp('source-config');
    const dead = `postgres://nobody:deadpass123@127.0.0.1:${await freePort()}/nothing`;
    writeFileSync(path.join(dir, '.homepot-tsrc.json'), JSON.stringify({ migrate: { source: sourceUrl } }));
    const r = await runCli(['migrate-from-postgres', '--dry-run', '--json', '--debug', '--database-url', target.url], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ strategy: 'remote', outcome: 'planned' });
    expect(r.stderr).toContain('debug: source server from: config migrate.source');
    expectNoPassword(r, password);

    const env = await runCli(['migrate-from-postgres', '--dry-run', '--database-url', target.url], {
      cwd: dir,
      env: { HOMEPOT_TS_SOURCE_URL: dead },
    });
    expect(env.code, env.stderr).toBe(3);
    oneLineError(env.stderr, /^error: source server: /);
    expectNoPassword(env, 'deadpass123');

    const flag = await runCli(
      ['migrate-from-postgres', '--dry-run', '--json', '--source', sourceUrl, '--database-url', target.url],
      { cwd: dir, env: { HOMEPOT_TS_SOURCE_URL: dead } },
    );
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.json().strategyReason).toMatch(/^--source /);
    expectNoPassword(flag, password);
  });

  it('a config migrate.source that is no postgres URL is refused like databaseUrl (exit 2)', async () => {
    const dir = tmp('source-config-bad');
    writeFileSync(
      path.join(dir, '.homepot-tsrc.json'),
      JSON.stringify({ migrate: { source: 'mysql://x:secretpw@h/db', extra: 1 } }),
    );
    const r = await runCli(['migrate-from-postgres', '--dry-run', '--database-url', target.url], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    oneLineError(
      r.stderr,
      /"migrate\.source" must be a postgres:\/\/ or postgresql:\/\/ URL.*unknown key "migrate\.extra"/,
    );
  });

  it('--help names the environment variable and the config key', async () => {
    const r = await runCli(['migrate-from-postgres', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/HOMEPOT_TS_SOURCE_URL/);
    expect(r.stdout).toMatch(/migrate\.source/);
  });
});

describeWithDatabase('postgres', 'stdout is redacted like stderr', (db) => {
  let password = '';
  beforeAll(async () => {
    password = db().password!;
    // A role named like the password owns a HOMEPOT table: status prints owners on stdout.
    await query(
      db(),
      `
      CREATE ROLE ${quoteIdent(password)};
      GRANT CREATE ON SCHEMA public TO ${quoteIdent(password)};`,
    );
    await loadPlainRows(db().sql());
    await query(db(), `ALTER TABLE sites OWNER TO ${quoteIdent(password)}`);
  });
  afterAll(async () => {
    await query(db(), `DROP OWNED BY ${quoteIdent(password)}; DROP ROLE IF EXISTS ${quoteIdent(password)}`).catch(
      () => {},
    );
  });

  it('status, human and --json, over a password-authenticated connection: the owner shows as ***', async () => {
    const url = db().passwordUrl!;
    const human = await runCli(['status', '--database-url', url, '--debug']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/sites/);
    expect(human.stdout).toContain('***');
    expectNoPassword(human, password);
    const json = await runCli(['status', '--json', '--database-url', url]);
    expect(json.code, json.stderr).toBe(0);
    const sites = (json.json().tables as { name: string; owner: string }[]).find((t) => t.name === 'sites');
    expect(sites?.owner).toBe('***');
    expectNoPassword(json, password);
  });

  it('a usage error that echoes a URL with a password hides it', async () => {
    const r = await runCli(['status', '--connect-timeout', 'postgres://u:typedsecret@h/db']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('typedsecret');
  });
});

describeWithDatabase('postgres', 'JavaScript config files run only from the project directory', (db) => {
  let parent = '';
  let child = '';
  const marker = () => path.join(parent, 'config-code-ran');
  beforeAll(() => {
    parent = tmp('js-config');
    child = path.join(parent, 'child');
    mkdirSync(child);
    writeFileSync(
      path.join(parent, '.homepot-tsrc.js'),
      `require('node:fs').writeFileSync(${JSON.stringify(marker())}, 'ran');\nmodule.exports = { connectTimeout: 7 };\n`,
    );
  });

  it('a .homepot-tsrc.js in a parent directory is not executed from a child directory', async () => {
    const r = await runCli(['status', '--debug', '--database-url', db().url], { cwd: child });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker()), "the parent directory's config code ran").toBe(false);
    expect(r.stderr).not.toMatch(/debug: config file: /);
    expect(r.stderr).toMatch(/\.homepot-tsrc\.js/);
  });

  it('the same file in the current directory is used', async () => {
    const r = await runCli(['status', '--debug', '--database-url', db().url], { cwd: parent });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker())).toBe(true);
    expect(r.stderr).toContain(`debug: config file: ${path.join(parent, '.homepot-tsrc.js')}`);
  });

  it('non-code formats are still found in parent directories; --config still loads JS from anywhere', async () => {
    const up = tmp('yaml-config');
    const below = path.join(up, 'a', 'b');
    mkdirSync(below, { recursive: true });
    writeFileSync(path.join(up, '.homepot-tsrc.yaml'), `databaseUrl: ${db().url}\n`);
    const r = await runCli(['status', '--json'], { cwd: below });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().connection.source).toBe('config databaseUrl');

    const explicit = await runCli(
      ['status', '--debug', '--config', path.join(parent, '.homepot-tsrc.js'), '--database-url', db().url],
      { cwd: below },
    );
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(explicit.stderr).toContain(`debug: config file: ${path.join(parent, '.homepot-tsrc.js')}`);
  });
});
