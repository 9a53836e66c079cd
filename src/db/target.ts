import { parseEnv } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HomepotError } from '../core/errors.js';
import type { ConfigFile, TargetConfig } from '../core/config.js';
import { registerUrlPassword } from '../core/redact.js';
import { showValue } from '../core/show.js';

/** The embedded database's default directory, relative to the working directory. */
export const DEFAULT_EMBEDDED_DIR = '.homepot-ts/db';

/** Where the connection came from: shown by `status` and in --debug, and documented in README. */
export type TargetSource =
  | '--database-url'
  | '--embedded'
  | 'HOMEPOT_TS_DATABASE_URL'
  | 'DATABASE_URL'
  | 'DATABASE__URL'
  | 'config databaseUrl'
  | 'config embedded'
  | `target ${string}`
  | 'PG* environment';

export type Target =
  | { kind: 'url'; url: string; source: TargetSource }
  | { kind: 'embedded'; dir: string | null; source: TargetSource }
  | { kind: 'pg-env'; source: 'PG* environment' };

export interface TargetInputs {
  databaseUrl?: string | undefined;
  /** --embedded: true for the default directory, a string for a directory. */
  embedded?: boolean | string | undefined;
  config: ConfigFile;
  /** A named target (--target, HOMEPOT_TS_TARGET): its connection comes right after the flags. */
  target?: { name: string; settings: TargetConfig } | null | undefined;
  /** Environment to read (process.env merged over the env file). */
  env: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Pick the database, highest first: --database-url / --embedded > a named
 * target's connection > HOMEPOT_TS_DATABASE_URL > DATABASE_URL > DATABASE__URL (HOMEPOT's own
 * setting) > config file > postgres.js's PG* variables.
 */
export function resolveTarget(inputs: TargetInputs): Target {
  const target = pickTarget(inputs);
  if (target.kind !== 'embedded') checkPgPort(inputs.env);
  return target;
}

/**
 * PGPORT is read by postgres.js for a URL without a port and for the PG*
 * connection: a value that is no port is bad input (exit 2), not a failure.
 */
function checkPgPort(env: Record<string, string | undefined>): void {
  const v = env.PGPORT;
  if (v === undefined) return;
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535)) {
    throw new HomepotError('config', `PGPORT must be a port number from 1 to 65535, got ${showValue(v)}`, {
      hint: 'Fix or unset PGPORT (or give the port in --database-url).',
    });
  }
}

function pickTarget(inputs: TargetInputs): Target {
  const cwd = inputs.cwd ?? process.cwd();
  if (inputs.databaseUrl !== undefined && inputs.embedded !== undefined && inputs.embedded !== false) {
    throw new HomepotError('usage', '--database-url and --embedded cannot be used together', {
      hint: 'Give one of them: a server URL, or --embedded for the built-in database.',
    });
  }
  if (inputs.databaseUrl !== undefined)
    return { kind: 'url', url: normalizeUrl(inputs.databaseUrl, '--database-url'), source: '--database-url' };
  if (inputs.embedded !== undefined && inputs.embedded !== false) {
    return { kind: 'embedded', dir: embeddedDir(inputs.embedded, cwd), source: '--embedded' };
  }
  if (inputs.target) return targetConnection(inputs.target.name, inputs.target.settings, inputs.env, cwd);
  for (const name of ['HOMEPOT_TS_DATABASE_URL', 'DATABASE_URL', 'DATABASE__URL'] as const) {
    const v = inputs.env[name];
    if (v !== undefined && v.trim() !== '') return { kind: 'url', url: normalizeUrl(v, name), source: name };
  }
  if (inputs.config.databaseUrl)
    return {
      kind: 'url',
      url: normalizeUrl(inputs.config.databaseUrl, 'config databaseUrl'),
      source: 'config databaseUrl',
    };
  if (inputs.config.embedded !== undefined && inputs.config.embedded !== false) {
    return { kind: 'embedded', dir: embeddedDir(inputs.config.embedded, cwd), source: 'config embedded' };
  }
  return { kind: 'pg-env', source: 'PG* environment' };
}

/**
 * A named target's connection: the URL in the variable it names (the password
 * stays out of the file), its URL, or its embedded database. The config
 * validation made sure it has exactly one.
 */
function targetConnection(name: string, t: TargetConfig, env: Record<string, string | undefined>, cwd: string): Target {
  if (t.databaseUrlEnv !== undefined) {
    const v = env[t.databaseUrlEnv];
    if (v === undefined || v.trim() === '') {
      // Never the value: only whether it is set.
      throw new HomepotError(
        'config',
        `target "${name}": the environment variable ${t.databaseUrlEnv} (its databaseUrlEnv) is ${v === undefined ? 'not set' : 'empty'}`,
        { hint: `Set ${t.databaseUrlEnv} to the target's postgresql:// URL (in a pipeline: from its secrets).` },
      );
    }
    registerUrlPassword(v);
    const source = `target ${name} (${t.databaseUrlEnv})` as const;
    return { kind: 'url', url: normalizeUrl(v, `${t.databaseUrlEnv} (target "${name}")`), source };
  }
  if (t.databaseUrl !== undefined) {
    registerUrlPassword(t.databaseUrl);
    const source = `target ${name} databaseUrl` as const;
    return { kind: 'url', url: normalizeUrl(t.databaseUrl, `targets.${name}.databaseUrl`), source };
  }
  if (t.embedded !== undefined && t.embedded !== false)
    return { kind: 'embedded', dir: embeddedDir(t.embedded, cwd), source: `target ${name} embedded` };
  throw new HomepotError('config', `target "${name}" has no connection`, {
    hint: 'Give it databaseUrlEnv, databaseUrl or embedded in the config file (README, "Named targets").',
  });
}

function embeddedDir(value: true | string, cwd: string): string {
  return path.resolve(cwd, value === true ? DEFAULT_EMBEDDED_DIR : value);
}

/**
 * Accept the URL forms HOMEPOT's settings use: SQLAlchemy's
 * `postgresql+asyncpg://` becomes `postgresql://`. SQLite is refused with a
 * reason, since TimescaleDB needs PostgreSQL.
 */
export function normalizeUrl(url: string, source: string): string {
  const trimmed = url.trim();
  if (/^sqlite/i.test(trimmed)) {
    throw new HomepotError('config', `${source} points at SQLite; TimescaleDB needs PostgreSQL`, {
      hint: 'Configure HOMEPOT for PostgreSQL and give its postgresql:// URL.',
    });
  }
  const m = /^(postgres(?:ql)?)(\+[\w]+)?:\/\//i.exec(trimmed);
  if (!m) {
    throw new HomepotError('config', `${source} is not a PostgreSQL URL (expected postgres://user@host:5432/dbname)`, {
      hint: 'Use the form postgresql://user:password@host:5432/database.',
    });
  }
  const rest = trimmed.slice(m[0].length);
  return `postgres://${rest}`;
}

/** Where migrate-from-postgres's source URL came from (shown with --debug). */
export type SourceUrlOrigin = '--source' | 'HOMEPOT_TS_SOURCE_URL' | 'config migrate.source';

/**
 * The --source server, highest first: --source > HOMEPOT_TS_SOURCE_URL >
 * config migrate.source; null when none is given. A flag is readable by every
 * local user in `ps` for the whole run, so the other two keep the password out
 * of it. The password is registered for redaction at once, before any output.
 */
export function resolveSourceUrl(inputs: {
  source?: string | undefined;
  config: ConfigFile;
  env: Record<string, string | undefined>;
}): { url: string; origin: SourceUrlOrigin } | null {
  const env = inputs.env.HOMEPOT_TS_SOURCE_URL;
  const [raw, origin]: [string | undefined, SourceUrlOrigin] =
    inputs.source !== undefined
      ? [inputs.source, '--source']
      : env !== undefined && env.trim() !== ''
        ? [env, 'HOMEPOT_TS_SOURCE_URL']
        : [inputs.config.migrate?.source, 'config migrate.source'];
  if (raw === undefined) return null;
  registerUrlPassword(raw);
  return { url: normalizeUrl(raw, origin), origin };
}

/**
 * Read a dotenv file without touching process.env. The real environment wins
 * over the file, as with Node's own --env-file and dotenv.
 */
export function readEnvFile(file: string, cwd = process.cwd()): Record<string, string> {
  const full = path.resolve(cwd, file);
  const hint = 'Check the path given to --env-file (HOMEPOT keeps its settings in backend/.env).';
  let bytes: Buffer;
  try {
    bytes = readFileSync(full);
  } catch (err) {
    throw new HomepotError(
      'config',
      `cannot read env file ${showValue(file)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      { hint },
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = '\0';
  }
  // parseEnv reads nothing from a binary file, and the connection would silently fall back to localhost.
  if (text.includes('\0')) {
    throw new HomepotError('config', `env file ${showValue(file)} is not a dotenv file (it holds binary data)`, {
      hint,
    });
  }
  return parseEnv(text) as Record<string, string>;
}
