import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { expectExit, oneLineError } from './support/assertions.js';

/*
 * --connect-timeout bounds the whole attempt: the TCP connect, the startup
 * handshake and every host of a multi-host URL. A port that answers but is
 * not PostgreSQL (an HTTP server, a load balancer) is named as such at once,
 * instead of postgres.js reconnecting hundreds of times a second forever.
 * Only loopback servers started here.
 */

/** A loopback server on a free port; `onConnection` decides what it does with a client. */
async function listen(
  onConnection: (socket: net.Socket) => void,
): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on loopback that nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = await listen(() => {});
  await s.close();
  return s.port;
}

/**
 * Run the CLI and measure how long it took, less what starting Node and
 * loading the CLI takes on this (busy) machine: the time the connection took.
 */
async function timed(args: string[]): Promise<{ r: CliResult; seconds: number }> {
  const started = Date.now();
  const r = await runCli(args, { timeoutMs: 30_000 });
  return { r, seconds: (Date.now() - started) / 1000 - startup };
}
let startup = 0;
beforeAll(async () => {
  const started = Date.now();
  await runCli(['--version']);
  startup = (Date.now() - started) / 1000;
});

describe('--connect-timeout bounds the whole attempt, and a port that is not PostgreSQL is named', () => {
  let http: Awaited<ReturnType<typeof listen>>;
  let silent: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    // What an HTTP server (or a load balancer's HTTP port) answers to bytes it cannot parse.
    http = await listen((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nBad Request'),
      );
    });
    silent = await listen(() => {});
  });
  afterAll(async () => {
    await http?.close();
    await silent?.close();
  });

  it('an HTTP port: exit 3 within the timeout, one line saying it is not a PostgreSQL server', async () => {
    const { r, seconds } = await timed([
      'status',
      '--database-url',
      `postgresql://u@127.0.0.1:${http.port}/db`,
      '--connect-timeout',
      '2',
    ]);
    expectExit(r, 3);
    expect(seconds).toBeLessThan(3);
    oneLineError(
      r.stderr,
      new RegExp(`not a PostgreSQL server at 127\\.0\\.0\\.1:${http.port} \\(it answered "HTTP/1\\.1 400 Bad Request`),
    );
    // Not hundreds of reconnects: one attempt is enough to know.
    expect(http.connections()).toBeLessThan(5);
  });

  it('an HTTP port with --json: the error kind and exit code', async () => {
    const { r } = await timed([
      'status',
      '--json',
      '--database-url',
      `postgresql://u@127.0.0.1:${http.port}/db`,
      '--connect-timeout',
      '2',
    ]);
    expectExit(r, 3);
    const e = JSON.parse(r.stderr.trim()).error;
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(/not a PostgreSQL server/);
  });

  it('an HTTP port asked for TLS first (sslmode=require): still named as not PostgreSQL', async () => {
    const { r, seconds } = await timed([
      'status',
      '--database-url',
      `postgresql://u@127.0.0.1:${http.port}/db?sslmode=require`,
      '--connect-timeout',
      '2',
    ]);
    expectExit(r, 3);
    expect(seconds).toBeLessThan(3);
    oneLineError(r.stderr, new RegExp(`not a PostgreSQL server at 127\\.0\\.0\\.1:${http.port}`));
  });

  it('a server that accepts and says nothing: exit 3 within the timeout', async () => {
    const { r, seconds } = await timed([
      'status',
      '--database-url',
      `postgresql://u@127.0.0.1:${silent.port}/db`,
      '--connect-timeout',
      '2',
    ]);
    expectExit(r, 3);
    expect(seconds).toBeLessThan(3.5);
    oneLineError(r.stderr, new RegExp(`127\\.0\\.0\\.1:${silent.port}.*(timed out|did not answer)`));
  });

  it('a multi-host URL whose hosts do not resolve or refuse: exit 3 within the timeout, naming each', async () => {
    const port = await closedPort();
    const { r, seconds } = await timed([
      'status',
      '--database-url',
      `postgresql://u@nonexistent.invalid:5432,127.0.0.1:${port}/db`,
      '--connect-timeout',
      '2',
    ]);
    expectExit(r, 3);
    expect(seconds).toBeLessThan(3.5);
    oneLineError(r.stderr, new RegExp(`nonexistent\\.invalid:5432.*127\\.0\\.0\\.1:${port}`));
  });

  it('a multi-host URL whose hosts are an HTTP port and a silent one: exit 3 within the timeout', async () => {
    const { r, seconds } = await timed([
      'status',
      '--database-url',
      `postgresql://u@127.0.0.1:${http.port},127.0.0.1:${silent.port}/db`,
      '--connect-timeout',
      '2',
    ]);
    expectExit(r, 3);
    expect(seconds).toBeLessThan(3.5);
    oneLineError(r.stderr, /not a PostgreSQL server|timed out/);
  });
});

describeWithDatabase('apache', 'a multi-host URL connects to the host that answers', (db) => {
  it('first host dead, second the real server: status works', async () => {
    const port = await closedPort();
    const url = new URL(db().url);
    const multi = `postgresql://${url.username}${url.password ? ':' + url.password : ''}@127.0.0.1:${port},${url.host}${url.pathname}${url.search}`;
    const { r, seconds } = await timed(['status', '--json', '--database-url', multi, '--connect-timeout', '5']);
    expectExit(r, 0);
    expect(seconds).toBeLessThan(20);
    expect(r.json().connection).toBeTruthy();
  });
});
