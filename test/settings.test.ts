/**
 * Issue 10: one resolver for every setting, in one order: flag > environment
 * (HOMEPOT_TS_*) > config file > the seed's default. The library function
 * first (no database), then the built CLI on a real server, where the table
 * each source names decides which table a command reads.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveSetting, resolveSettings, SETUP_DEFAULTS } from '../src/cli/options.js';
import { HomepotError } from '../src/core/errors.js';
import { oneLineError, query } from './support/assertions.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';

describe('resolveSetting (no database)', () => {
  const config = { setup: { table: 'from_config' }, lockTimeout: '30s', connectTimeout: 20 };

  it('flag > environment > config > default, for each setting that has each source', () => {
    const env = { HOMEPOT_TS_TABLE: 'from_env', HOMEPOT_TS_LOCK_TIMEOUT: '45s', HOMEPOT_TS_CONNECT_TIMEOUT: '7' };
    expect(resolveSetting('table', 'from_flag', { config, env })).toBe('from_flag');
    expect(resolveSetting('table', undefined, { config, env })).toBe('from_env');
    expect(resolveSetting('table', undefined, { config, env: {} })).toBe('from_config');
    expect(resolveSetting('table', undefined, { config: {}, env: {} })).toBe(SETUP_DEFAULTS.table);

    expect(resolveSetting('lockTimeout', undefined, { config, env }).seconds).toBe(45);
    expect(resolveSetting('lockTimeout', undefined, { config, env: {} }).seconds).toBe(30);
    expect(resolveSetting('lockTimeout', undefined, { config: {}, env: {} }).seconds).toBe(10);

    expect(resolveSetting('connectTimeout', 3, { config, env })).toBe(3);
    expect(resolveSetting('connectTimeout', undefined, { config, env })).toBe(7);
    expect(resolveSetting('connectTimeout', undefined, { config, env: {} })).toBe(20);
    expect(resolveSetting('connectTimeout', undefined, { config: {}, env: {} })).toBe(10);
  });

  it('settings without a variable ignore the environment; config false means "none"', () => {
    const got = resolveSettings(
      ['timeColumn', 'retention', 'compression'],
      {},
      {
        config: { setup: { timeColumn: 'ts', retention: false, compression: false } },
        env: { HOMEPOT_TS_TIME_COLUMN: 'nope' },
      },
    );
    expect(got).toEqual({ timeColumn: 'ts', retention: null, compression: false });
  });

  it('an empty or malformed value is a usage error naming where it came from', () => {
    const bad = (fn: () => unknown, where: RegExp) => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HomepotError);
      expect((err as HomepotError).kind).toBe('usage');
      expect((err as HomepotError).message).toMatch(where);
    };
    bad(() => resolveSetting('table', '', { config, env: {} }), /^--table is empty/);
    bad(() => resolveSetting('table', undefined, { config, env: { HOMEPOT_TS_TABLE: ' ' } }), /^HOMEPOT_TS_TABLE/);
    bad(
      () => resolveSetting('lockTimeout', undefined, { config, env: { HOMEPOT_TS_LOCK_TIMEOUT: 'soon' } }),
      /HOMEPOT_TS_LOCK_TIMEOUT/,
    );
    bad(
      () => resolveSetting('connectTimeout', undefined, { config, env: { HOMEPOT_TS_CONNECT_TIMEOUT: '601' } }),
      /^HOMEPOT_TS_CONNECT_TIMEOUT must be a whole number of seconds from 1 to 600/,
    );
  });
});

describeWithDatabase('postgres', 'the CLI resolves --table from flag, environment, config, default', (db) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'homepot-ts-settings-'));
  beforeAll(async () => {
    // Four tables whose row counts say which one a command read.
    await query(
      db(),
      `CREATE TABLE t_flag ("timestamp" timestamptz NOT NULL);
       CREATE TABLE t_env ("timestamp" timestamptz NOT NULL);
       CREATE TABLE t_config ("timestamp" timestamptz NOT NULL);
       CREATE TABLE health_checks ("timestamp" timestamptz NOT NULL);
       INSERT INTO t_flag SELECT now() - interval '400 days' FROM generate_series(1, 1);
       INSERT INTO t_env SELECT now() - interval '400 days' FROM generate_series(1, 2);
       INSERT INTO t_config SELECT now() - interval '400 days' FROM generate_series(1, 3);
       INSERT INTO health_checks SELECT now() - interval '400 days' FROM generate_series(1, 4);`,
    );
    writeFileSync(path.join(dir, '.homepot-tsrc.json'), JSON.stringify({ setup: { table: 't_config' } }));
  });

  /** retention run --dry-run counts the rows it would delete: the count names the table it read. */
  const wouldDelete = async (args: string[], env: Record<string, string> = {}, cwd = dir) => {
    const r = await runCli(
      ['retention', 'run', '--older-than', '1 year', '--dry-run', '--json', '--database-url', db().url, ...args],
      {
        cwd,
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    return r.json<{ table: string; rowsDeleted: number }>();
  };

  it('each source wins over the ones below it', async () => {
    const env = { HOMEPOT_TS_TABLE: 't_env' };
    expect(await wouldDelete(['--table', 't_flag'], env)).toMatchObject({ rowsDeleted: 1 });
    expect(await wouldDelete([], env)).toMatchObject({ rowsDeleted: 2 });
    expect(await wouldDelete([])).toMatchObject({ rowsDeleted: 3 });
    expect(await wouldDelete([], {}, tmpdir())).toMatchObject({ rowsDeleted: 4 });
  });

  it('a bad value in the environment: exit 2, one line naming the variable, nothing read', async () => {
    const r = await runCli(['retention', 'run', '--older-than', '1 year', '--database-url', db().url], {
      cwd: dir,
      env: { HOMEPOT_TS_LOCK_TIMEOUT: 'soon' },
    });
    expect(r.code, r.stderr).toBe(2);
    oneLineError(r.stderr, /HOMEPOT_TS_LOCK_TIMEOUT/);
    expect((await query(db(), `SELECT count(*)::int AS n FROM t_config`))[0].n).toBe(3);
  });
});
