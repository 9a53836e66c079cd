import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../src/core/config.js';
import { HomepotError } from '../src/core/errors.js';
import { normalizeUrl, resolveTarget } from '../src/db/target.js';
import { parseQualifiedName } from '../src/db/names.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { freePort } from './support/pg.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'homepot-ts-config-'));

describe('config file validation (no database)', () => {
  it('reports every problem at once and refuses unknown keys', () => {
    let err: unknown;
    try {
      validateConfig(
        { databaseUrl: 'mysql://x', connectTimeout: -3, embeded: true, colour: 'yes' },
        'homepot-ts.config.json',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HomepotError);
    const msg = (err as HomepotError).message;
    expect(msg).toMatch(/^homepot-ts\.config\.json: 4 problems: /);
    expect(msg).toContain('"databaseUrl" must be a postgres:// or postgresql:// URL');
    expect(msg).toContain('"connectTimeout" must be a whole number of seconds from 1 to 600');
    expect(msg).toContain('unknown key "embeded"');
    expect(msg).toContain('unknown key "colour"');
    expect((err as HomepotError).exitCode).toBe(2);
  });

  it('cosmiconfig finds .homepot-tsrc.json, package.json "homepot-ts" and resolves paths relative to the file', async () => {
    const a = tmp();
    writeFileSync(path.join(a, '.homepot-tsrc.json'), JSON.stringify({ embedded: 'data/db', connectTimeout: 5 }));
    const la = await loadConfig({ cwd: a });
    expect(la.config).toEqual({ embedded: path.join(a, 'data/db'), connectTimeout: 5 });
    const b = tmp();
    writeFileSync(
      path.join(b, 'package.json'),
      JSON.stringify({ name: 'x', 'homepot-ts': { databaseUrl: 'postgres://u@h/db' } }),
    );
    expect((await loadConfig({ cwd: b })).config).toEqual({ databaseUrl: 'postgres://u@h/db' });
    expect((await loadConfig({ cwd: tmp() })).filepath).toBeNull();
  });
});

describe('connection precedence (no database)', () => {
  const config = { databaseUrl: 'postgres://c@config/db' };
  it('flag > HOMEPOT_TS_DATABASE_URL > DATABASE_URL > DATABASE__URL > config > PG*', () => {
    const env = {
      HOMEPOT_TS_DATABASE_URL: 'postgres://a@h1/db',
      DATABASE_URL: 'postgres://b@h2/db',
      DATABASE__URL: 'postgresql+asyncpg://d@h3/db',
    };
    expect(resolveTarget({ databaseUrl: 'postgres://f@flag/db', config, env }).source).toBe('--database-url');
    expect(resolveTarget({ config, env }).source).toBe('HOMEPOT_TS_DATABASE_URL');
    expect(resolveTarget({ config, env: { ...env, HOMEPOT_TS_DATABASE_URL: undefined } }).source).toBe('DATABASE_URL');
    const homepot = resolveTarget({ config, env: { DATABASE__URL: env.DATABASE__URL } });
    expect(homepot).toEqual({ kind: 'url', url: 'postgres://d@h3/db', source: 'DATABASE__URL' });
    expect(resolveTarget({ config, env: {} }).source).toBe('config databaseUrl');
    expect(resolveTarget({ config: {}, env: {} })).toEqual({ kind: 'pg-env', source: 'PG* environment' });
    expect(resolveTarget({ embedded: true, config, env, cwd: '/x' })).toEqual({
      kind: 'embedded',
      dir: '/x/.homepot-ts/db',
      source: '--embedded',
    });
    expect(() => resolveTarget({ databaseUrl: 'postgres://x@y/z', embedded: true, config, env })).toThrow(
      /cannot be used together/,
    );
  });
  it('normalizes SQLAlchemy URLs and refuses SQLite', () => {
    expect(normalizeUrl('postgresql+asyncpg://u:p@h:5432/db', 'x')).toBe('postgres://u:p@h:5432/db');
    expect(() => normalizeUrl('sqlite:///./homepot.db', 'DATABASE__URL')).toThrow(/SQLite/);
  });
});

describe('table names are names (no database)', () => {
  it('parses like PostgreSQL: unquoted folds to lower case, quotes keep everything', () => {
    expect(parseQualifiedName('Health_Checks')).toEqual({ schema: null, name: 'health_checks' });
    expect(parseQualifiedName('public.health_checks')).toEqual({ schema: 'public', name: 'health_checks' });
    expect(parseQualifiedName('"Fleet Ops"."Metrics ""Raw"""')).toEqual({ schema: 'Fleet Ops', name: 'Metrics "Raw"' });
    expect(parseQualifiedName('x; drop table devices')).toEqual({ schema: null, name: 'x; drop table devices' });
    expect(() => parseQualifiedName('a.b.c')).toThrow(/too many parts/);
    expect(() => parseQualifiedName('"unclosed')).toThrow(/unclosed/);
    expect(() => parseQualifiedName('.x')).toThrow(/empty part/);
  });
});

describeWithDatabase('postgres', 'precedence through the CLI', (db) => {
  let dead = '';
  beforeAll(async () => {
    dead = `postgres://nobody:pw@127.0.0.1:${await freePort()}/nothing`;
  });
  const source = async (args: string[], env: Record<string, string>, cwd?: string) => {
    const r = await runCli(['status', '--json', ...args], { env, ...(cwd ? { cwd } : {}) });
    expect(r.code, r.stderr).toBe(0);
    return r.json().connection.source as string;
  };

  it('each level wins over the ones below it (the losers point at a dead port)', async () => {
    const good = db().url;
    const cfgDir = tmp();
    writeFileSync(path.join(cfgDir, '.homepot-tsrc.json'), JSON.stringify({ databaseUrl: dead }));
    expect(await source(['--database-url', good], { HOMEPOT_TS_DATABASE_URL: dead, DATABASE_URL: dead }, cfgDir)).toBe(
      '--database-url',
    );
    expect(await source([], { HOMEPOT_TS_DATABASE_URL: good, DATABASE_URL: dead, DATABASE__URL: dead }, cfgDir)).toBe(
      'HOMEPOT_TS_DATABASE_URL',
    );
    expect(await source([], { DATABASE_URL: good, DATABASE__URL: dead }, cfgDir)).toBe('DATABASE_URL');
    expect(await source([], { DATABASE__URL: good.replace(/^postgres:/, 'postgresql+asyncpg:') }, cfgDir)).toBe(
      'DATABASE__URL',
    );
    const cfgGood = tmp();
    writeFileSync(path.join(cfgGood, 'homepot-ts.config.json'), JSON.stringify({ databaseUrl: good }));
    expect(await source([], {}, cfgGood)).toBe('config databaseUrl');
    const u = new URL(good);
    expect(
      await source(
        [],
        { PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGDATABASE: u.pathname.slice(1) },
        tmp(),
      ),
    ).toBe('PG* environment');
  });

  it('--env-file reads HOMEPOT backend/.env (DATABASE__URL); the real environment wins', async () => {
    const dir = tmp();
    const envFile = path.join(dir, '.env');
    writeFileSync(
      envFile,
      `# HOMEPOT settings\nDATABASE__URL="${db().url.replace(/^postgres:/, 'postgresql+asyncpg:')}"\nOTHER=1\n`,
    );
    expect(await source(['--env-file', envFile], {}, dir)).toBe('DATABASE__URL');
    const r = await runCli(['status', '--env-file', envFile], { env: { DATABASE__URL: dead }, cwd: dir });
    expect(r.code).toBe(3);
    // A missing file named in the config: our one-line error, exit 2.
    writeFileSync(path.join(dir, '.homepot-tsrc.json'), JSON.stringify({ envFile: 'nope.env' }));
    const missing = await runCli(['status'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read env file .*nope\.env/);
    // Node 20 itself checks any --env-file in argv, even after the script, and
    // exits 9 before our code runs when the file is missing (README notes it).
    const flag = await runCli(['status', '--env-file', path.join(dir, 'nope.env')]);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain('nope.env');
  });

  it('a broken config file is one error naming every problem (exit 2)', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, '.homepot-tsrc.json'),
      JSON.stringify({ databaseURL: db().url, connectTimeout: 'soon' }),
    );
    const r = await runCli(['status'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /2 problems: unknown key "databaseURL".*"connectTimeout" must be a whole number of seconds/,
    );
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    const r2 = await runCli(['status', '--config', bad]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^error: config file .*bad\.json, line 1, column 3: invalid JSON: /);
  });
});
