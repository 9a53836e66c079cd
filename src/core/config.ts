import { cosmiconfig, type Loaders } from 'cosmiconfig';
import { loadersWithSyntaxErrors } from './config-syntax.js';
import path from 'node:path';
import { HomepotError } from './errors.js';
import { parseInterval, parseLockTimeout } from './intervals.js';
import { parseColumnList, parseOrderBy } from './columns.js';
import { showValue } from './show.js';

/**
 * The config file's shape. Every key is optional; flags and environment win
 * over the file (README, "Configuration").
 */
export interface ConfigFile {
  /** postgres:// URL of the HOMEPOT database. */
  databaseUrl?: string;
  /** Use the embedded TimescaleDB: true for the default directory, or a directory. */
  embedded?: boolean | string;
  /** Seconds to wait for a connection before giving up. */
  connectTimeout?: number;
  /** A dotenv file to read DATABASE_URL / DATABASE__URL from (HOMEPOT keeps backend/.env). */
  envFile?: string;
  /** lock_timeout for changing steps, e.g. "10s". */
  lockTimeout?: string;
  /** What `setup` and the tuning commands aim for (README, "setup"). */
  setup?: SetupConfig;
  /** What `create-aggregates` aims for (README, "create-aggregates"). */
  aggregates?: AggregatesConfig;
  /** migrate-from-postgres settings (README, "migrate-from-postgres"). */
  migrate?: MigrateConfig;
  /** Named targets (README, "Named targets"): each a connection and settings layered over the ones above. */
  targets?: Record<string, TargetConfig>;
}

/**
 * One named target: its connection (exactly one of databaseUrl, databaseUrlEnv,
 * embedded) and the settings it layers over the shared ones.
 */
export interface TargetConfig {
  databaseUrl?: string;
  /** The name of an environment variable holding the URL, so no password sits in the file. */
  databaseUrlEnv?: string;
  embedded?: boolean | string;
  connectTimeout?: number;
  lockTimeout?: string;
  setup?: SetupConfig;
  aggregates?: AggregatesConfig;
  migrate?: MigrateConfig;
}

export interface MigrateConfig {
  /** postgres:// URL of the server to copy from (what --source gives), kept out of `ps`. */
  source?: string;
}

/** One aggregate's refresh policy; startOffset null: refresh from the beginning of the data. */
export interface AggregatePolicyConfig {
  startOffset?: string | null;
  endOffset?: string;
  schedule?: string;
}

export interface AggregatesConfig {
  /** Continuous aggregates answer with real-time rows (materialized_only = false). Default true. */
  realTime?: boolean;
  /** History is materialized in windows of this length, oldest first. Default "7 days". */
  window?: string;
  device_metrics_hourly?: AggregatePolicyConfig;
  device_metrics_daily?: AggregatePolicyConfig;
  site_metrics_hourly?: AggregatePolicyConfig;
}

export interface SetupConfig {
  table?: string;
  timeColumn?: string;
  chunkInterval?: string;
  compression?: boolean;
  compressAfter?: string;
  segmentBy?: string | string[];
  orderBy?: string;
  /** An interval, or false for no retention policy. */
  retention?: string | false;
  require?: 'timescaledb' | 'community';
}

export interface LoadedConfig {
  config: ConfigFile;
  /** Where it came from, or null when no file was found. */
  filepath: string | null;
  /** JavaScript config files found above the current directory and not run (README, "Configuration"). */
  ignored: string[];
}

/** A validator: the problems with one value (empty when fine), each naming its key path. */
type Check = (value: unknown, path: string) => string[];

/** Build a Check from a predicate returning one problem text or null. */
const leaf =
  (fn: (v: unknown) => string | null): Check =>
  (v, path) => {
    const problem = fn(v);
    return problem ? [`"${path}" ${problem}`] : [];
  };

const isNonEmptyString = leaf((v) => (typeof v === 'string' && v.trim() !== '' ? null : 'must be a non-empty string'));

/** An interval, with the bounds the command line has (parseInterval; lockTimeout: parseLockTimeout). */
const intervalCheck = (parse: (v: string) => unknown) =>
  leaf((v) => {
    if (typeof v !== 'string') return 'must be an interval such as "7 days" or "7d"';
    try {
      parse(v);
      return null;
    } catch (e) {
      return `is not a valid interval (${(e as Error).message.replace(/^interval /, '')})`;
    }
  });
const isInterval = intervalCheck((v) => parseInterval(v));

const parses = (fn: (v: string) => unknown) =>
  leaf((v) => {
    if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string')))
      return 'must be a string';
    try {
      fn(v as string);
      return null;
    } catch (e) {
      return `is invalid: ${(e as Error).message}`;
    }
  });

/** An object whose keys are all known; unknown keys are problems too. */
function object<T extends object>(keys: Record<keyof T, Check>): Check {
  return (v, path) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [`"${path}" must be an object`];
    const prefix = path === '' ? '' : path + '.';
    const problems: string[] = [];
    for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
      // Own keys only: "__proto__" or "toString" in a file are unknown keys, not Object's.
      const check = Object.hasOwn(keys, key) ? (keys as Record<string, Check>)[key] : undefined;
      if (!check) problems.push(`unknown key "${prefix}${key}" (allowed: ${Object.keys(keys).join(', ')})`);
      else problems.push(...check(value, prefix + key));
    }
    return problems;
  };
}

const setupSchema = object<SetupConfig>({
  table: isNonEmptyString,
  timeColumn: isNonEmptyString,
  chunkInterval: isInterval,
  compression: leaf((v) => (typeof v === 'boolean' ? null : 'must be true or false')),
  compressAfter: isInterval,
  segmentBy: parses((v) => parseColumnList(v, 'segmentBy', { allowNone: true })),
  orderBy: parses((v) => parseOrderBy(v, 'orderBy')),
  retention: (v, path) => (v === false ? [] : isInterval(v, path)),
  require: leaf((v) => (v === 'timescaledb' || v === 'community' ? null : 'must be "timescaledb" or "community"')),
});

const aggregatePolicySchema = object<AggregatePolicyConfig>({
  startOffset: (v, path) => (v === null ? [] : isInterval(v, path)),
  endOffset: isInterval,
  schedule: isInterval,
});

const aggregatesSchema = object<AggregatesConfig>({
  realTime: leaf((v) => (typeof v === 'boolean' ? null : 'must be true or false')),
  window: isInterval,
  device_metrics_hourly: aggregatePolicySchema,
  device_metrics_daily: aggregatePolicySchema,
  site_metrics_hourly: aggregatePolicySchema,
});

const isPostgresUrl: Check = (v, path) => {
  const e = isNonEmptyString(v, path);
  if (e.length > 0) return e;
  return /^postgres(ql)?(\+\w+)?:\/\//i.test(v as string)
    ? []
    : [`"${path}" must be a postgres:// or postgresql:// URL`];
};

const migrateSchema = object<MigrateConfig>({
  source: isPostgresUrl,
});

const isEmbedded = leaf((v) =>
  typeof v === 'boolean' || (typeof v === 'string' && v.trim() !== '')
    ? null
    : 'must be true, false, or a directory path',
);
const isConnectTimeout = leaf((v) =>
  Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 600
    ? null
    : 'must be a whole number of seconds from 1 to 600',
);
const isLockTimeout = intervalCheck((v) => parseLockTimeout(v));

/** A target's name: what --target and HOMEPOT_TS_TARGET carry, printed in tables and messages. */
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const targetKeys = object<TargetConfig>({
  databaseUrl: isPostgresUrl,
  databaseUrlEnv: leaf((v) =>
    typeof v === 'string' && ENV_NAME.test(v) ? null : 'must be the name of an environment variable (A-Z, 0-9, _)',
  ),
  embedded: isEmbedded,
  connectTimeout: isConnectTimeout,
  lockTimeout: isLockTimeout,
  setup: setupSchema,
  aggregates: aggregatesSchema,
  migrate: migrateSchema,
});

/** One target: its keys, and exactly one connection (a target without one would fall back to whatever DATABASE_URL says). */
const targetSchema: Check = (v, path) => {
  const problems = targetKeys(v, path);
  if (problems.length > 0 || v === null || typeof v !== 'object') return problems;
  const t = v as TargetConfig;
  const given = (['databaseUrl', 'databaseUrlEnv', 'embedded'] as const).filter(
    (k) => t[k] !== undefined && t[k] !== false,
  );
  if (given.length === 1) return [];
  return given.length === 0
    ? [
        `"${path}" has no connection: give databaseUrlEnv (an environment variable holding the URL), databaseUrl or embedded`,
      ]
    : [`"${path}" has more than one connection (${given.join(', ')}): give one`];
};

const targetsSchema: Check = (v, path) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [`"${path}" must be an object of named targets`];
  const problems: string[] = [];
  for (const [name, target] of Object.entries(v as Record<string, unknown>)) {
    if (!TARGET_NAME.test(name))
      problems.push(`target name ${showValue(name)} must be letters, digits, "_", "." or "-" (at most 63)`);
    else problems.push(...targetSchema(target, `${path}.${name}`));
  }
  return problems;
};

/** The whole file: one validator per allowed key; a key not listed here is refused. */
const schema = object<ConfigFile>({
  databaseUrl: isPostgresUrl,
  embedded: isEmbedded,
  connectTimeout: isConnectTimeout,
  envFile: isNonEmptyString,
  lockTimeout: isLockTimeout,
  setup: setupSchema,
  aggregates: aggregatesSchema,
  migrate: migrateSchema,
  targets: targetsSchema,
});

/**
 * Check a parsed config object; every problem is reported at once, so a user
 * fixes their file in one go.
 */
export function validateConfig(raw: unknown, source: string): ConfigFile {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HomepotError('config', `${source}: the config must be an object of settings`, {
      hint: 'See README.md, "Configuration", for the keys.',
    });
  }
  const problems = schema(raw, '');
  if (problems.length > 0) {
    throw new HomepotError(
      'config',
      `${source}: ${problems.length} problem${problems.length > 1 ? 's' : ''}: ${problems.join('; ')}`,
      {
        hint: 'Fix the config file (README.md, "Configuration", lists every key).',
      },
    );
  }
  return raw;
}

const MODULE = 'homepot-ts';

/** Extensions cosmiconfig loads by running the file as code. */
const CODE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts'] as const;

/**
 * cosmiconfig's loaders, except that a code file (JavaScript, TypeScript) is
 * run only when it lies in `dir`, the directory the command runs in. A JS
 * config in a parent directory (someone else's home, /tmp, a checkout above
 * the project) would otherwise run as whoever runs homepot-ts; JSON and YAML
 * are data, so they are still searched upwards. This also covers a file
 * reached through `$import` or places added by a cosmiconfig meta config.
 */
function loadersRunningCodeOnlyIn(dir: string, ignored: string[]): Loaders {
  const loaders: Loaders = loadersWithSyntaxErrors();
  for (const ext of CODE_EXTENSIONS) {
    const load = loaders[ext];
    if (!load) continue;
    loaders[ext] = (filepath, content) => {
      if (path.dirname(path.resolve(filepath)) === dir) return load(filepath, content) as unknown;
      ignored.push(filepath);
      return undefined;
    };
  }
  return loaders;
}

/** Find and load the config file (or the one given by --config). */
export async function loadConfig(options: { file?: string; cwd?: string } = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const ignored: string[] = [];
  // cosmiconfig's default places plus homepot-ts.config.{json,yaml,yml}. A file given with
  // --config is the operator's choice and loads whatever its kind.
  const explorer = cosmiconfig(MODULE, {
    searchStrategy: 'project',
    loaders: options.file ? loadersWithSyntaxErrors() : loadersRunningCodeOnlyIn(cwd, ignored),
    searchPlaces: [
      'package.json',
      `.${MODULE}rc`,
      `.${MODULE}rc.json`,
      `.${MODULE}rc.yaml`,
      `.${MODULE}rc.yml`,
      `.${MODULE}rc.js`,
      `.${MODULE}rc.mjs`,
      `.${MODULE}rc.cjs`,
      `.config/${MODULE}rc`,
      `.config/${MODULE}rc.json`,
      `.config/${MODULE}rc.yaml`,
      `.config/${MODULE}rc.yml`,
      `${MODULE}.config.json`,
      `${MODULE}.config.yaml`,
      `${MODULE}.config.yml`,
      `${MODULE}.config.js`,
      `${MODULE}.config.mjs`,
      `${MODULE}.config.cjs`,
    ],
  });
  let result;
  try {
    result = options.file ? await explorer.load(path.resolve(cwd, options.file)) : await explorer.search(cwd);
  } catch (err) {
    if (err instanceof HomepotError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new HomepotError('config', `config file not found: ${showValue(options.file ?? '')}`, {
        hint: 'Check the path given to --config.',
      });
    }
    throw new HomepotError(
      'config',
      // A system error's message repeats the path (10 KB of it, control characters and all): its code says enough.
      `cannot read config file${options.file ? ' ' + showValue(options.file) : ''}: ${e.code ?? e.message.split('\n')[0]!.slice(0, 300)}`,
      {
        hint: "Fix the file's syntax (JSON, YAML or JavaScript).",
        cause: err,
      },
    );
  }
  if (!result || result.isEmpty) return { config: {}, filepath: result?.filepath ?? null, ignored };
  const config = validateConfig(result.config, path.relative(process.cwd(), result.filepath) || result.filepath);
  // Relative paths in a config file are relative to that file, not to the cwd.
  const dir = path.dirname(result.filepath);
  if (typeof config.embedded === 'string') config.embedded = path.resolve(dir, config.embedded);
  if (config.envFile) config.envFile = path.resolve(dir, config.envFile);
  for (const t of Object.values(config.targets ?? {})) {
    if (typeof t.embedded === 'string') t.embedded = path.resolve(dir, t.embedded);
  }
  return { config, filepath: result.filepath, ignored };
}
