import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable } from './support/homepot.js';
import { freePort } from './support/pg.js';
import { expectOneLineError } from './support/assertions.js';

const SECRET = 'S3cr3t-Pa55word!';

function expectNoSecret(r: { stderr: string; stdout: string }, secret: string) {
  expect(r.stdout).not.toContain(secret);
  expect(r.stderr).not.toContain(secret);
  expect(r.stderr).not.toContain(encodeURIComponent(secret));
}

describe('connection errors without a server', () => {
  let silent: net.Server;
  let silentPort = 0;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: what a black-holed host looks like to a client.
    silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('connection refused: exit 3, one line with the fix, no password', async () => {
    const port = await freePort();
    const url = `postgresql://homepot:${encodeURIComponent(SECRET)}@127.0.0.1:${port}/homepot_db`;
    for (const args of [['status'], ['status', '--debug'], ['chunks', 'health_checks']]) {
      const r = await runCli([...args, '--database-url', url]);
      expect(r.code).toBe(3);
      expectNoSecret(r, SECRET);
      if (!args.includes('--debug'))
        expectOneLineError(
          r,
          new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}: connection refused.*Is PostgreSQL running`),
        );
    }
    const j = await runCli(['status', '--json', '--database-url', url]);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stderr).error).toMatchObject({ kind: 'connection-refused', exitCode: 3 });
    expectNoSecret(j, SECRET);
  });

  it('timeout (host does not answer): exit 3 after --connect-timeout, not the default 10 s', async () => {
    const url = `postgres://homepot:${encodeURIComponent(SECRET)}@127.0.0.1:${silentPort}/homepot_db`;
    const started = Date.now();
    const r = await runCli(['status', '--connect-timeout', '1', '--database-url', url]);
    const elapsed = Date.now() - started;
    expect(r.code).toBe(3);
    expectOneLineError(r, /timed out after 1 s.*unreachable/);
    expectNoSecret(r, SECRET);
    // Not a speed assertion: the port accepts and never answers, so only a timer ends the attempt,
    // and which timer is the point. With the option ignored the CLI would wait the default 10 s;
    // 1 s plus Node's start-up stays far below 5 s even on a loaded machine.
    expect(elapsed, 'the CLI waited longer than --connect-timeout 1 allows').toBeLessThan(5_000);
    // ... and the wait really was the timeout: a black-holed host does not fail by itself.
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
  });

  it('unknown host: exit 3', async () => {
    const r = await runCli([
      'status',
      '--connect-timeout',
      '3',
      '--database-url',
      'postgres://u@no-such-host.invalid:5432/db',
    ]);
    expect(r.code).toBe(3);
    expectOneLineError(r, /(not found|timed out)/);
  });

  it('a URL that is not PostgreSQL, and SQLite: exit 2 before connecting', async () => {
    const r = await runCli(['status', '--database-url', 'mysql://u:pw@localhost/db']);
    expect(r.code).toBe(2);
    expectOneLineError(r, /not a PostgreSQL URL/);
    const s = await runCli(['status'], { env: { DATABASE__URL: 'sqlite+aiosqlite:///./homepot.db' } });
    expect(s.code).toBe(2);
    expectOneLineError(s, /DATABASE__URL points at SQLite/);
  });

  it('bad usage: unknown option and unknown command exit 2', async () => {
    expect((await runCli(['status', '--frobnicate'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/status/);
  });
});

describeWithDatabase('apache', 'server-side errors', (db) => {
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  const withPassword = (password: string, database?: string) => {
    const u = new URL(db().passwordUrl!);
    u.password = encodeURIComponent(password);
    if (database) u.pathname = '/' + database;
    return u.toString();
  };

  it('the password URL really authenticates (so the next tests mean something)', async () => {
    expect(db().passwordUrl).toBeTruthy();
    const r = await runCli(['status', '--json', '--database-url', db().passwordUrl!]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.role).toMatchObject({ canCreateExtension: false });
    expect(j.server.superuser).toBe(false);
    expect(j.role.tables.find((t: any) => t.name === 'health_checks')).toMatchObject({ exists: true, owned: false });
    expectNoSecret(r, db().password!);
  });

  it('authentication failed: exit 3, names the user, never the password', async () => {
    const wrong = 'Wrong-' + SECRET;
    for (const extra of [[], ['--debug'], ['--json']]) {
      const r = await runCli(['status', ...extra, '--database-url', withPassword(wrong)]);
      expect(r.code).toBe(3);
      expectNoSecret(r, wrong);
      expectNoSecret(r, db().password!);
      if (extra.length === 0) expectOneLineError(r, /password authentication failed for user ".+"/);
    }
  });

  it('unknown database: exit 3 with createdb hint', async () => {
    const r = await runCli(['status', '--database-url', withPassword(db().password!, 'no_such_db_hpt')]);
    expect(r.code).toBe(3);
    expectOneLineError(r, /database "no_such_db_hpt" does not exist.*createdb/);
    expectNoSecret(r, db().password!);
  });

  it('password from the environment (DATABASE_URL) is hidden too, wherever the connection is printed', async () => {
    const password = db().password!;
    const role = new URL(db().passwordUrl!).username;
    const r = await runCli(['chunks', 'nosuch'], { env: { DATABASE_URL: db().passwordUrl! } });
    expect(r.code).toBe(4);
    expectNoSecret(r, password);
    // The CLI prints the connection's database name: on stderr in the error for a database that does
    // not exist (and --debug's "connected to"), on stdout in status's connection. A name that carries
    // the password shows whether the environment's password was registered for redaction; without
    // that, nothing the CLI prints would ever contain it and this test could not fail.
    const missing = await runCli(['status'], { env: { DATABASE_URL: withPassword(password, `nosuch_${password}`) } });
    expect(missing.code).toBe(3);
    expectOneLineError(missing, /database "nosuch_\*\*\*" does not exist.*createdb nosuch_\*\*\*/);
    expectNoSecret(missing, password);
    const named = `hpt_${password}`;
    await db().sql().unsafe(`CREATE DATABASE "${named}" TEMPLATE template0`);
    await db().closeClients();
    try {
      const s = await runCli(['status', '--json', '--debug'], { env: { DATABASE_URL: withPassword(password, named) } });
      expect(s.code, s.stderr).toBe(0);
      expect(s.json().connection).toMatchObject({ database: 'hpt_***', user: role, source: 'DATABASE_URL' });
      expect(s.stderr).toMatch(new RegExp(`connected to 127\\.0\\.0\\.1:\\d+/hpt_\\*\\*\\* as ${role}`));
      expectNoSecret(s, password);
    } finally {
      await db().sql().unsafe(`DROP DATABASE IF EXISTS "${named}"`);
      await db().closeClients();
    }
  });

  it('missing privilege: exit 6 naming what to grant', async () => {
    // Read-only commands need only CONNECT and the catalog; take CONNECT away.
    const role = new URL(db().passwordUrl!).username;
    await db().sql().unsafe(`REVOKE CONNECT ON DATABASE "${db().name}" FROM PUBLIC, "${role}"`);
    await db().closeClients();
    const r = await runCli(['status', '--database-url', db().passwordUrl!]);
    expect(r.code).toBe(6);
    expectOneLineError(
      r,
      new RegExp(
        `permission denied for database "?${db().name}"?.*GRANT CONNECT ON DATABASE "${db().name}" TO "${role}"`,
      ),
    );
    expectNoSecret(r, db().password!);
    const j = await runCli(['status', '--json', '--database-url', db().passwordUrl!]);
    expect(JSON.parse(j.stderr).error).toMatchObject({ kind: 'permission-denied', sqlstate: '42501', exitCode: 6 });
  });
});
