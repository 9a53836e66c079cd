import type { Command } from 'commander';
import type { ChalkInstance } from 'chalk';
import { detectCapabilities, type Capabilities } from '../db/capabilities.js';
import { loadConfig, type ConfigFile } from '../core/config.js';
import { chooseTarget, configForTarget } from '../core/config-targets.js';
import { connectTarget, type Connection } from '../db/connection.js';
import { describeError } from '../db/describe-error.js';
import { createLogger, type Logger } from '../core/logger.js';
import { makeChalk, setOutputWidth, type OutputOptions } from './render/table.js';
import { detectWidth } from './render/fit.js';
import { toJson } from './render/json.js';
import { makeSpinner, type Spinner } from './feedback.js';
import { writeOut } from '../core/streams.js';
import { readEnvFile, resolveTarget, type Target } from '../db/target.js';
import { resolveSetting, type SettingSources } from './options.js';
import type { ExitCodeValue } from '../core/exit-codes.js';

/** Options every command accepts (defined once on the program in src/cli.ts). */
export interface GlobalOptions {
  databaseUrl?: string;
  embedded?: boolean | string;
  config?: string;
  envFile?: string;
  connectTimeout?: number;
  /** A named target of the config file (else HOMEPOT_TS_TARGET). */
  target?: string;
  /** `status --all-targets`: no one target is chosen (HOMEPOT_TS_TARGET is not read). */
  allTargets?: boolean;
  json: boolean;
  color: boolean;
  quiet: boolean;
  debug: boolean;
  /** --wide: tables keep every column and full values, whatever the terminal's width. */
  wide?: boolean;
}

/**
 * Runs a command's body with a context (src/cli/main.ts). A body may return
 * an exit code for an outcome that is not an error (doctor's 8 and 10):
 * main() ends with it after the output is written.
 */
export type RunCommand = (cmd: Command, body: (ctx: CommandContext) => Promise<void | ExitCodeValue>) => Promise<void>;

/** What a command's wiring gets: output helpers and the resolved settings. */
export interface CommandContext {
  options: GlobalOptions;
  /** chalk for stdout (tables), chalkErr for stderr (talk). */
  chalk: ChalkInstance;
  chalkErr: ChalkInstance;
  logger: Logger;
  /** The settings this run uses: the chosen target's over the shared ones. */
  config: ConfigFile;
  /** The config file as written (every target in it), for `status --all-targets`. */
  fileConfig: ConfigFile;
  /** The named target this run is for, or null. */
  targetName: string | null;
  /** The environment: process.env over the env file. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where settings come from besides flags (cli/options.ts resolves them). */
  sources: SettingSources;
  target: Target;
  /** Aborted on Ctrl-C: long work checks it between steps. */
  signal: AbortSignal;
  /** Write data to stdout. */
  print(text: string): void;
  /** Write a JSON document to stdout. */
  printJson(value: unknown): void;
  /** A spinner on stderr for people; a silent stand-in otherwise. */
  spinner(text: string): Spinner;
  /** true when people watch stderr (TTY, no --json, no --quiet). */
  interactive: boolean;
}

export async function createContext(options: GlobalOptions, signal: AbortSignal): Promise<CommandContext> {
  const output: OutputOptions = {
    json: options.json,
    quiet: options.quiet,
    debug: options.debug,
    color: options.color,
  };
  const chalk = makeChalk(process.stdout, output);
  const chalkErr = makeChalk(process.stderr, output);
  setOutputWidth(detectWidth(process.stdout, process.env, Boolean(options.wide)));
  const logger = createLogger({
    ...output,
    chalk: chalkErr,
    // Talk is wrapped on a terminal only: a log file or pipe keeps one message a line (grep, one-line errors).
    width: process.stderr.isTTY ? detectWidth(process.stderr, process.env, Boolean(options.wide)) : undefined,
  });
  const loaded = await loadConfig(options.config ? { file: options.config } : {});
  const { filepath, ignored } = loaded;
  for (const file of ignored) {
    logger.warn(`ignored ${file}: JavaScript config files run only from the current directory (or with --config)`);
  }
  if (filepath) logger.debug(`config file: ${filepath}`);
  const envFile = options.envFile ?? loaded.config.envFile;
  const fileEnv = envFile ? readEnvFile(envFile) : {};
  if (envFile) logger.debug(`env file: ${envFile}`);
  const env = { ...fileEnv, ...process.env };
  const chosen = options.allTargets ? null : chooseTarget(loaded.config, options.target, env);
  if (chosen) logger.debug(`target: ${chosen.name} (from ${chosen.origin})`);
  const config = chosen ? configForTarget(loaded.config, chosen.settings) : loaded.config;
  const sources: SettingSources = { config, env };
  const target = resolveTarget({
    databaseUrl: options.databaseUrl,
    embedded: options.embedded,
    target: chosen,
    config,
    env,
  });
  logger.debug(`database from: ${target.source}`);
  const interactive = Boolean(process.stderr.isTTY) && !options.json && !options.quiet;
  return {
    options: { ...options, connectTimeout: resolveSetting('connectTimeout', options.connectTimeout, sources) },
    chalk,
    chalkErr,
    logger,
    config,
    fileConfig: loaded.config,
    targetName: chosen?.name ?? null,
    env,
    sources,
    target,
    signal,
    interactive,
    print: (text) => writeOut(text.endsWith('\n') ? text : text + '\n'),
    printJson: (value) => writeOut(toJson(value) + '\n'),
    spinner: (text) => makeSpinner(text, interactive),
  };
}

/**
 * Connect, read capabilities, run `fn`, and always close the pool (and the
 * embedded server). Errors come out as HomepotError.
 */
export async function withConnection<T>(
  ctx: CommandContext,
  fn: (conn: Connection, caps: Capabilities) => Promise<T>,
): Promise<T> {
  const spin = ctx.spinner(ctx.target.kind === 'embedded' ? 'starting the embedded TimescaleDB' : 'connecting');
  let conn: Connection | undefined;
  try {
    conn = await connectTarget(ctx.target, {
      logger: ctx.logger,
      connectTimeout: ctx.options.connectTimeout ?? 10,
    });
    spin.update('reading server capabilities');
    const caps = await detectCapabilities(conn.sql);
    spin.stop();
    return await fn(conn, caps);
  } catch (err) {
    spin.stop();
    throw describeError(err, conn?.endpoint);
  } finally {
    await conn?.close().catch((e: unknown) => ctx.logger.debug(`closing: ${(e as Error).message}`));
  }
}
