/**
 * testcontainers source. Only used when a Docker engine answers; on machines
 * without one (a docker CLI alone does not count) this fails fast and quietly.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD_ROLE_NAME, type PasswordRole } from './flavours.js';
import { quoteIdent, quoteLiteral, withClient } from './pg.js';

export interface RunningContainer {
  image: string;
  adminUrl: string;
  passwordRole: PasswordRole;
  stop(): Promise<void>;
}

const ENGINE_TIMEOUT_MS = 5000;

/** Cheap pre-check: is there anything that could be a Docker engine endpoint? */
function engineEndpointHint(): string | null {
  if (process.env.DOCKER_HOST) return `DOCKER_HOST=${process.env.DOCKER_HOST}`;
  if (process.env.TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE) return 'TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE';
  const home = homedir();
  const sockets = [
    '/var/run/docker.sock',
    join(home, '.docker/run/docker.sock'),
    join(home, '.docker/desktop/docker.sock'),
    join(home, '.colima/default/docker.sock'),
    join(home, '.rd/docker.sock'),
    process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'docker.sock') : '',
    process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'podman/podman.sock') : '',
  ].filter(Boolean);
  const found = sockets.find((s) => existsSync(s));
  if (found) return found;
  if (existsSync(join(home, '.testcontainers.properties'))) return '~/.testcontainers.properties';
  return null;
}

/** Resolves ok when a container engine answers within 5 s (instant "no" when there is no endpoint at all). Never throws. */
export async function dockerAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const hint = engineEndpointHint();
  if (!hint) return { ok: false, reason: 'no Docker engine (no DOCKER_HOST, no docker.sock)' };
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ENGINE_TIMEOUT_MS} ms`)), ENGINE_TIMEOUT_MS);
    });
    try {
      await Promise.race([getContainerRuntimeClient(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `Docker engine at ${hint} does not answer: ${(err as Error).message}` };
  }
}

export const IMAGES = {
  timescale: 'timescale/timescaledb:latest-pg17',
  postgres: 'postgres:17',
} as const;

export async function startContainer(image: string): Promise<RunningContainer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const password = randomBytes(12).toString('hex');
  const container = await new GenericContainer(image)
    .withEnvironment({ POSTGRES_PASSWORD: password, TIMESCALEDB_TELEMETRY: 'off', TS_TUNE_MAX_CONNS: '200' })
    .withExposedPorts(5432)
    .withCommand([
      'postgres',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ])
    // The entrypoint runs a temporary server for init first, hence twice.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .withStartupTimeout(180_000)
    .start();
  const adminUrl = `postgres://postgres:${password}@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  const passwordRole: PasswordRole = { user: PASSWORD_ROLE_NAME, password: `pw_${randomBytes(12).toString('hex')}` };
  // The port may accept connections a moment after the log line.
  let lastErr: unknown;
  for (let i = 0; i < 30; i++) {
    try {
      await withClient(adminUrl, (sql) =>
        sql.unsafe(
          `create role ${quoteIdent(passwordRole.user)} login password ${quoteLiteral(passwordRole.password)}`,
        ),
      );
      lastErr = undefined;
      break;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  if (lastErr) {
    await container.stop().catch(() => {});
    throw lastErr instanceof Error ? lastErr : new Error(JSON.stringify(lastErr));
  }
  return {
    image,
    adminUrl,
    passwordRole,
    stop: async () => {
      await container.stop({ timeout: 0 }).catch(() => {});
    },
  };
}
