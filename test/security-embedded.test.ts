import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTarget, type Connection } from '../src/db/connection.js';
import { runCli } from './support/cli.js';

/*
 * The embedded server (PGlite over the wire protocol on 127.0.0.1) is open to
 * every local user while the CLI runs. It must ask for a password only the CLI
 * knows: a client without it, or with a wrong one, is refused (28P01) before
 * anything reaches the database.
 */

// Every embedded start runs initdb inside WASM: seconds on an idle machine, more on a busy one.
const SLOW = { timeout: 240_000 };
const quiet = { info() {}, warn() {}, debug() {}, raw() {} };

/** Try a query as another local user would, with the URL given; resolves to the error code or 'connected'. */
async function attempt(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, connect_timeout: 30, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return 'connected';
  } catch (err) {
    return String((err as { code?: string }).code ?? (err as Error).message);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Speak the protocol by hand: a StartupMessage, then at once a Query, without authenticating. */
async function skipAuthentication(port: number, query: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0', 'utf8');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    const text = Buffer.from(query + '\0', 'utf8');
    const q = Buffer.alloc(5);
    q.write('Q', 0, 'latin1');
    q.writeInt32BE(4 + text.length, 1);
    let answer = Buffer.alloc(0);
    socket.on('connect', () => socket.write(Buffer.concat([startup, params, q, text])));
    socket.on('data', (d: Buffer) => (answer = Buffer.concat([answer, d])));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.toString('latin1')));
    setTimeout(() => socket.destroy(), 5000);
  });
}

describe('the embedded server asks for a password only the CLI knows', SLOW, () => {
  let conn: Connection;
  let port: number;
  beforeAll(async () => {
    // Exactly as the CLI starts it for --embedded (in memory here).
    conn = await connectTarget(
      { kind: 'embedded', dir: null, source: '--embedded' },
      { logger: quiet, connectTimeout: 60 },
    );
    port = conn.endpoint.port;
    await conn.sql`CREATE TABLE secret_rows (v text)`;
    await conn.sql`INSERT INTO secret_rows VALUES ('only for the CLI')`;
    // The CLI's single connection closes after 5 s idle: then other local users get their turn.
  }, SLOW.timeout);
  afterAll(async () => {
    await conn?.close();
  });

  it('no password: refused with 28P01', async () => {
    expect(await attempt(`postgres://postgres@127.0.0.1:${port}/postgres`)).toBe('28P01');
  });

  it('a wrong password: refused with 28P01', async () => {
    expect(await attempt(`postgres://postgres:guess@127.0.0.1:${port}/postgres`)).toBe('28P01');
    expect(await attempt(`postgres://anyone:postgres@127.0.0.1:${port}/postgres`)).toBe('28P01');
  });

  it('a client that skips authentication gets a FATAL error, is dropped, and nothing runs', async () => {
    const started = Date.now();
    const answer = await skipAuthentication(port, `DROP TABLE secret_rows`);
    expect(answer).toMatch(/28P01/);
    // Closed by the server after the error (waiting for a queued turn aside), not left holding the connection.
    expect(Date.now() - started).toBeLessThan(5000 + 4000);
    expect(answer).not.toMatch(/DROP TABLE/);
    // The CLI's own connection (it has the password) still finds the table and its row.
    expect(await conn.sql`SELECT v FROM secret_rows`).toEqual([{ v: 'only for the CLI' }]);
  });
});

describe('a local client that connects and never authenticates', SLOW, () => {
  it('is dropped after 10 s, so it cannot keep the only connection from the CLI', async () => {
    const conn = await connectTarget(
      { kind: 'embedded', dir: null, source: '--embedded' },
      { logger: quiet, connectTimeout: 60 },
    );
    try {
      await conn.sql.end({ timeout: 5 }); // the CLI lets go of its connection; the server runs on
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const socket = net.connect(conn.endpoint.port, '127.0.0.1');
        socket.on('error', reject);
        socket.on('close', () => resolve(Date.now() - started));
        setTimeout(() => socket.destroy(), 30_000);
      });
      expect(closedAfter).toBeGreaterThan(8_000);
      expect(closedAfter).toBeLessThan(20_000);
    } finally {
      await conn.close();
    }
  });
});

describe('the CLI itself uses the embedded server with its password', SLOW, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homepot-security-embedded-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('status --embedded <dir> works and prints no password', async () => {
    const r = await runCli(['status', '--json', '--debug', '--embedded', join(dir, 'db')], { timeoutMs: 200_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().connection).toBeTruthy();
    expect(r.stdout + r.stderr).not.toMatch(/postgres:\/\/postgres:[^*@]/);
  });
});
