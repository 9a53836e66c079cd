/**
 * Issue 11 §4: named targets in the config file (`--target`, `HOMEPOT_TS_TARGET`), and
 * `status --all-targets`, through the built CLI against real servers: an Apache-edition
 * database, a plain PostgreSQL one, and a port nothing listens on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { summarizeTargets } from '../src/status-targets.js';
import { expectExit, expectOneLineError, query } from './support/assertions.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase, useDatabase } from './support/databases.js';
import { holdJobs } from './support/jobs.js';
import { loadHypertable, loadSchema } from './support/homepot.js';
import { freePort } from './support/pg.js';

/** A directory holding `homepot-ts.config.json` with `config`: the CLI runs there and finds it. */
function configDir(config: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'homepot-ts-targets-'));
  writeFileSync(path.join(dir, 'homepot-ts.config.json'), JSON.stringify(config, null, 2));
  return dir;
}

describe('named targets and status --all-targets', () => {
  const apache = useDatabase('apache');
  const bare = useDatabase('postgres-bare');
  let dead = '';

  beforeAll(async () => {
    await loadHypertable(apache().sql());
    await apache().closeClients();
    await loadSchema(bare().sql());
    await bare().closeClients();
    dead = `postgresql://nobody:deadpass1@127.0.0.1:${await freePort()}/nothing`;
  });

  /** staging: the apache database through a variable; site: the bare database's URL in the file; offline: dead. */
  const fleetConfig = () => ({
    setup: { chunkInterval: '7 days', compressAfter: '14 days' },
    targets: {
      staging: { databaseUrlEnv: 'STAGING_URL', setup: { chunkInterval: '1 day' } },
      site: { databaseUrl: bare().url, connectTimeout: 5 },
      offline: { databaseUrlEnv: 'OFFLINE_URL', connectTimeout: 2 },
    },
  });

  it('--target picks the connection and layers its settings over the shared ones; flags win', async () => {
    const cwd = configDir(fleetConfig());
    const env = { STAGING_URL: apache().url, OFFLINE_URL: dead, DATABASE_URL: dead };
    const status = await runCli(['status', '--json', '--target', 'staging'], { cwd, env });
    expectExit(status, 0);
    // The named target wins over DATABASE_URL (which points at the dead port).
    expect(status.json().connection.source).toBe('target staging (STAGING_URL)');
    expect(status.json().timescaledb.edition).toBe('apache');

    // --target wins over HOMEPOT_TS_TARGET; an explicit --database-url wins over the target's connection.
    const flagWins = await runCli(['status', '--json', '--target', 'staging'], {
      cwd,
      env: { ...env, HOMEPOT_TS_TARGET: 'offline' },
    });
    expectExit(flagWins, 0);
    const urlWins = await runCli(['status', '--json', '--target', 'offline', '--database-url', bare().url], {
      cwd,
      env,
    });
    expectExit(urlWins, 0);
    expect(urlWins.json().connection.source).toBe('--database-url');
  });

  it("a target's settings are layered: flag > environment > target > shared file > default", async () => {
    const cwd = configDir({
      setup: { table: 'devices' },
      targets: { a: { databaseUrlEnv: 'A_URL', setup: { table: 'sites' } }, b: { databaseUrlEnv: 'A_URL' } },
    });
    // chunks reads setup.table: a plain table is exit 4 naming it, the hypertable is listed.
    const chunks = (args: string[], env: Record<string, string> = {}) =>
      runCli(['chunks', ...args], { cwd, env: { A_URL: apache().url, ...env } });
    const a = await chunks(['--target', 'a']);
    expectExit(a, 4);
    expectOneLineError(a, /public\.sites is a plain table/);
    const b = await chunks(['--target', 'b']);
    expectExit(b, 4);
    expectOneLineError(b, /public\.devices is a plain table/);
    expectExit(await chunks(['--target', 'a'], { HOMEPOT_TS_TABLE: 'health_checks' }), 0);
    expectExit(await chunks(['--target', 'a', 'health_checks']), 0);
  });

  it('bad targets are one line, exit 2, nothing connected: unknown (listing the known), unset variable, no connection', async () => {
    const cwd = configDir(fleetConfig());
    const unknown = await runCli(['status', '--target', 'prod'], { cwd });
    expectExit(unknown, 2);
    expectOneLineError(unknown, /unknown target "prod" \(--target\): the config file defines staging, site, offline/);
    const fromEnv = await runCli(['status'], { cwd, env: { HOMEPOT_TS_TARGET: 'prod' } });
    expectExit(fromEnv, 2);
    expectOneLineError(fromEnv, /unknown target "prod" \(HOMEPOT_TS_TARGET\)/);

    const unset = await runCli(['status', '--target', 'staging'], { cwd, env: { STAGING_URL: undefined } });
    expectExit(unset, 2);
    expectOneLineError(unset, /target "staging": the environment variable STAGING_URL .* is not set/);

    const noConnection = configDir({ targets: { lonely: { setup: { table: 'x' } } } });
    const r = await runCli(['status', '--target', 'lonely'], { cwd: noConnection, env: { DATABASE_URL: bare().url } });
    expectExit(r, 2);
    expectOneLineError(r, /"targets\.lonely" has no connection: give databaseUrlEnv/);
  });

  it('status --all-targets: one line per target, JSON array, exit 3 when one is unreachable, no password shown', async () => {
    const cwd = configDir(fleetConfig());
    const password = apache().password;
    const stagingUrl = apache().passwordUrl ?? apache().url;
    const env = { STAGING_URL: stagingUrl, OFFLINE_URL: dead };
    const j = await runCli(['status', '--all-targets', '--json', '--debug'], { cwd, env });
    expectExit(j, 3);
    const list = j.json();
    expect(list.map((t: any) => t.target)).toEqual(['staging', 'site', 'offline']);
    const [staging, site, offline] = list;
    expect(staging).toMatchObject({ reachable: true, edition: 'apache', hypertable: true, error: null });
    expect(staging.timescaledbVersion).toMatch(/^2\./);
    expect(staging.policies).toBe(0);
    expect(staging.failingJobs).toBe(0);
    expect(site).toMatchObject({ reachable: true, edition: null, timescaledbVersion: null, hypertable: false });
    expect(offline).toMatchObject({ reachable: false, hypertable: null, policies: null });
    expect(offline.error).toMatchObject({ kind: 'connection-refused', exitCode: 3 });
    // stderr: --debug lines, then one JSON error naming the unreachable target.
    const last = JSON.parse(j.stderr.trim().split('\n').at(-1)!);
    expect(last.error.exitCode).toBe(3);
    expect(last.error.message).toMatch(/^1 of 3 targets could not be reached: offline \(/);
    for (const secret of ['deadpass1', ...(password ? [password] : [])]) {
      expect(j.stdout).not.toContain(secret);
      expect(j.stderr).not.toContain(secret);
    }

    // For people: a table whose every line fits 80 columns, the unreachable target with its error.
    const human = await runCli(['status', '--all-targets'], { cwd, env: { ...env, COLUMNS: '80' } });
    expectExit(human, 3);
    const lines = human.stdout.trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(lines.find((l) => l.includes('staging'))).toMatch(/│ staging +│ 15\.\d+ +│ 2\.\d+\.\d+ apache +│ yes /);
    expect(lines.find((l) => l.includes(' site '))).toMatch(/│ none +│ no /);
    expect(lines.find((l) => l.includes('offline'))).toMatch(/cannot connect to 127\.0\.0\.1:\d+: connection refused/);
    expectExit(human, 3);

    // All reachable: exit 0.
    const ok = await runCli(['status', '--all-targets', '--json'], {
      cwd: configDir({ targets: { staging: fleetConfig().targets.staging, site: fleetConfig().targets.site } }),
      env,
    });
    expectExit(ok, 0);
    expect(ok.json().map((t: any) => t.reachable)).toEqual([true, true]);
  });

  it('--all-targets refuses --target, --database-url and --embedded (exit 2), and a config without targets', async () => {
    const cwd = configDir(fleetConfig());
    const env = { STAGING_URL: apache().url, OFFLINE_URL: dead };
    for (const extra of [['--target', 'staging'], ['--database-url', bare().url], ['--embedded']]) {
      const r = await runCli(['status', '--all-targets', ...extra], { cwd, env });
      expectExit(r, 2);
      expectOneLineError(r, new RegExp(`--all-targets cannot be used with ${extra[0]}`));
    }
    const none = await runCli(['status', '--all-targets'], { cwd: configDir({}) });
    expectExit(none, 2);
    expectOneLineError(none, /the config file defines no targets/);
    // An unset variable is found before any target is reached.
    const unset = await runCli(['status', '--all-targets', '--json'], { cwd, env: { OFFLINE_URL: dead } });
    expectExit(unset, 2);
    expect(unset.stdout).toBe('');
    expect(JSON.parse(unset.stderr).error.message).toMatch(/STAGING_URL .* is not set/);
  });
});

describe('config file syntax errors (no database)', () => {
  it('JSON and YAML: the file, line, column and reason, in one line (exit 2)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'homepot-ts-syntax-'));
    writeFileSync(path.join(dir, 'bad.json'), '{\n  "setup": {\n    "table": "x",\n  }\n}\n');
    writeFileSync(path.join(dir, 'bad.yaml'), 'setup:\n  table: x\n   retention: 3d\n');
    writeFileSync(path.join(dir, 'cut.json'), '{ "setup": {');
    const json = await runCli(['status', '--config', 'bad.json'], { cwd: dir });
    expectExit(json, 2);
    expectOneLineError(json, /^error: config file bad\.json, line 4, column 3: invalid JSON: \S+/);
    const yaml = await runCli(['status', '--config', 'bad.yaml'], { cwd: dir });
    expectExit(yaml, 2);
    expectOneLineError(yaml, /^error: config file bad\.yaml, line 3, column 13: invalid YAML: bad indentation/);
    const cut = await runCli(['status', '--json', '--config', 'cut.json'], { cwd: dir });
    expectExit(cut, 2);
    expect(JSON.parse(cut.stderr).error.message).toMatch(/^config file cut\.json, line 1, column 13: invalid JSON: /);
    // Found by the search (not --config): the same line.
    const found = mkdtempSync(path.join(tmpdir(), 'homepot-ts-syntax-'));
    writeFileSync(path.join(found, '.homepot-tsrc.yml'), 'targets:\n  a: [\n');
    const searched = await runCli(['status'], { cwd: found });
    expectExit(searched, 2);
    expectOneLineError(searched, /config file .*\.homepot-tsrc\.yml, line \d+, column \d+: invalid YAML: /);
  });
});

describeWithDatabase('timescale', 'a Community target: its settings applied, then summarized', (db) => {
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  it("setup --target applies the target's retention; status --all-targets (CLI and library) counts its policies", async () => {
    const cwd = configDir({
      setup: { retention: '90 days' },
      targets: { ts: { databaseUrlEnv: 'TS_URL', setup: { retention: '120 days' } } },
    });
    const env = { TS_URL: db().url };
    const setup = await runCli(['setup', '--json', '--target', 'ts'], { cwd, env });
    expectExit(setup, 0);
    await holdJobs(db(), { internal: true });
    const [policy] = await query(
      db(),
      `SELECT config->>'drop_after' AS drop_after FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'`,
    );
    expect(policy.drop_after).toBe('120 days');
    // Jobs are held (none running, none due): what failed last stays what failed.
    const [{ failed }] = await query(
      db(),
      `SELECT count(*)::int AS failed FROM timescaledb_information.job_stats WHERE last_run_status = 'Failed'`,
    );

    const r = await runCli(['status', '--all-targets', '--json'], { cwd, env });
    expectExit(r, 0);
    const [ts] = r.json();
    expect(ts).toMatchObject({
      target: 'ts',
      source: 'target ts (TS_URL)',
      reachable: true,
      edition: 'community',
      hypertable: true,
      policies: 2,
      failingJobs: failed,
      error: null,
    });

    const logger = { info: () => {}, warn: () => {}, debug: () => {} };
    const [lib] = await summarizeTargets(
      [
        {
          name: 'ts',
          target: { kind: 'url', url: db().url, source: 'target ts databaseUrl' },
          connectTimeout: 10,
          table: 'health_checks',
        },
      ],
      { logger },
    );
    expect(lib).toMatchObject({ edition: 'community', hypertable: true, policies: 2, failingJobs: failed });
  });
});
