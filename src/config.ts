import { cosmiconfig } from 'cosmiconfig';
import path from 'node:path';
import { HomepotError } from './errors.js';

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
}

export interface LoadedConfig {
  config: ConfigFile;
  /** Where it came from, or null when no file was found. */
  filepath: string | null;
}

type Check = (value: unknown) => string | null;

const isNonEmptyString: Check = (v) => (typeof v === 'string' && v.trim() !== '' ? null : 'must be a non-empty string');

/** One validator per allowed key; a key not listed here is refused. */
const schema: Record<keyof ConfigFile, Check> = {
  databaseUrl: (v) => {
    const e = isNonEmptyString(v);
    if (e) return e;
    return /^postgres(ql)?(\+\w+)?:\/\//i.test(v as string) ? null : 'must be a postgres:// or postgresql:// URL';
  },
  embedded: (v) =>
    typeof v === 'boolean' || (typeof v === 'string' && v.trim() !== '')
      ? null
      : 'must be true, false, or a directory path',
  connectTimeout: (v) =>
    typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 600 ? null : 'must be a number of seconds between 1 and 600',
  envFile: isNonEmptyString,
};

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
  const problems: string[] = [];
  const known = Object.keys(schema);
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const check = schema[key as keyof ConfigFile];
    if (!check) {
      problems.push(`unknown key "${key}" (allowed: ${known.join(', ')})`);
      continue;
    }
    const problem = check(value);
    if (problem) problems.push(`"${key}" ${problem}`);
  }
  if (problems.length > 0) {
    throw new HomepotError('config', `${source}: ${problems.length} problem${problems.length > 1 ? 's' : ''}: ${problems.join('; ')}`, {
      hint: 'Fix the config file (README.md, "Configuration", lists every key).',
    });
  }
  return raw as ConfigFile;
}

const MODULE = 'homepot-ts';

/** Find and load the config file (or the one given by --config). */
export async function loadConfig(options: { file?: string; cwd?: string } = {}): Promise<LoadedConfig> {
  // cosmiconfig's default places plus homepot-ts.config.{json,yaml,yml}.
  const explorer = cosmiconfig(MODULE, {
    searchStrategy: 'project',
    searchPlaces: [
      'package.json',
      `.${MODULE}rc`, `.${MODULE}rc.json`, `.${MODULE}rc.yaml`, `.${MODULE}rc.yml`, `.${MODULE}rc.js`, `.${MODULE}rc.mjs`, `.${MODULE}rc.cjs`,
      `.config/${MODULE}rc`, `.config/${MODULE}rc.json`, `.config/${MODULE}rc.yaml`, `.config/${MODULE}rc.yml`,
      `${MODULE}.config.json`, `${MODULE}.config.yaml`, `${MODULE}.config.yml`, `${MODULE}.config.js`, `${MODULE}.config.mjs`, `${MODULE}.config.cjs`,
    ],
  });
  let result;
  try {
    result = options.file
      ? await explorer.load(path.resolve(options.cwd ?? process.cwd(), options.file))
      : await explorer.search(options.cwd ?? process.cwd());
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new HomepotError('config', `config file not found: ${options.file}`, {
        hint: 'Check the path given to --config.',
      });
    }
    throw new HomepotError('config', `cannot read config file${options.file ? ' ' + options.file : ''}: ${e.message.split('\n')[0]}`, {
      hint: 'Fix the file\'s syntax (JSON, YAML or JavaScript).',
      cause: err,
    });
  }
  if (!result || result.isEmpty) return { config: {}, filepath: result?.filepath ?? null };
  const config = validateConfig(result.config, path.relative(process.cwd(), result.filepath) || result.filepath);
  // Relative paths in a config file are relative to that file, not to the cwd.
  const dir = path.dirname(result.filepath);
  if (typeof config.embedded === 'string') config.embedded = path.resolve(dir, config.embedded);
  if (config.envFile) config.envFile = path.resolve(dir, config.envFile);
  return { config, filepath: result.filepath };
}
