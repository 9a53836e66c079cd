import * as kinds from './parse/values.js';
import { usageError, watchUsage } from './parse/usage.js';
import { type RunCommand, createContext, type GlobalOptions } from './context.js';
import { makeChalk } from './render/table.js';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { endSentence, HomepotError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { writeErr, writeOut } from '../core/streams.js';
import { registerAggregates } from './commands/aggregates.js';
import { registerChunks } from './commands/chunks.js';
import { registerCompression } from './commands/compression.js';
import { registerDemo } from './commands/demo.js';
import { registerJobs } from './commands/jobs.js';
import { registerSetup } from './commands/setup.js';
import { registerChunkInterval } from './commands/chunk-interval.js';
import { registerRetention } from './commands/retention.js';
import { registerStatus } from './commands/status.js';
import { registerMigrate } from './commands/migrate.js';
import { registerDoctor } from './commands/doctor.js';
import { describeError } from '../db/describe-error.js';
import { cancelRunningStatements, endRunningPools } from '../db/interrupt.js';

// The version is package.json's (one place to change); dist/cli/main.js and src/cli/main.ts both sit two levels below it.
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Build the program. Global options live on the program once; commander
 * recognises them before or after the command name, and each command reads
 * them with optsWithGlobals().
 */
export function buildProgram(signal: AbortSignal, outcome: { exitCode: number } = { exitCode: ExitCode.ok }): Command {
  const program = new Command('homepot-ts')
    .description('Set up and look after TimescaleDB for HOMEPOT')
    .version(VERSION)
    .exitOverride()
    // Help goes through our writers (they redact passwords); commander's usage errors are not
    // printed by commander at all: main() reports them as one line (or one JSON object).
    .configureOutput({ writeOut, writeErr, outputError: () => {} })
    .option(
      '--database-url <url>',
      'PostgreSQL URL (else HOMEPOT_TS_DATABASE_URL, DATABASE_URL, DATABASE__URL, config, PG* variables)',
      kinds.url('--database-url'),
    )
    .option(
      '--embedded [dir]',
      'use the embedded TimescaleDB, persisted in dir (default .homepot-ts/db)',
      kinds.path('--embedded'),
    )
    .option(
      '--target <target>',
      'a named target of the config file: its connection and settings (else HOMEPOT_TS_TARGET)',
      kinds.targetName('--target'),
    )
    .option(
      '--config <file>',
      'config file (default: search for homepot-ts config from the current directory)',
      kinds.path('--config'),
    )
    .option(
      '--env-file <file>',
      'read DATABASE_URL / DATABASE__URL from a dotenv file (HOMEPOT: backend/.env)',
      kinds.path('--env-file'),
    )
    .addOption(
      new Option('--connect-timeout <seconds>', 'seconds to wait for a connection, 1-600').argParser(
        kinds.connectTimeout('--connect-timeout'),
      ),
    )
    .option('--json', 'machine-readable JSON on stdout (errors as JSON on stderr)', false)
    .option('--wide', 'tables keep every column and full values (else they fit the terminal, COLUMNS, or 80)', false)
    .option('--no-color', 'no colour (also NO_COLOR; FORCE_COLOR forces it)')
    .option('-q, --quiet', 'only data and warnings: no progress or notes', false)
    .option('--debug', 'show debug lines and stack traces', false);

  const run: RunCommand = async (cmd, body) => {
    const options = cmd.optsWithGlobals<GlobalOptions>();
    const ctx = await createContext(options, signal);
    const code = await body(ctx);
    if (code !== undefined) outcome.exitCode = code;
  };

  registerStatus(program, run);
  registerChunks(program, run);
  registerJobs(program, run);
  registerSetup(program, run);
  registerCompression(program, run);
  registerRetention(program, run);
  registerChunkInterval(program, run);
  registerAggregates(program, run);
  registerMigrate(program, run);
  registerDemo(program, run);
  registerDoctor(program, run);
  pointToGlobalOptions(program);
  return program;
}

/** Global options are listed once, in the top-level help; each command's help says where. */
function pointToGlobalOptions(cmd: Command): void {
  for (const sub of cmd.commands) {
    sub.addHelpText('after', '\nGlobal options (--database-url, --json, --wide, ...): homepot-ts --help');
    pointToGlobalOptions(sub);
  }
}

/**
 * After a first Ctrl-C, a statement still running this long is cancelled:
 * stepwise commands stop between steps well before, a single long statement
 * (an in-place migration) would otherwise run to its end.
 */
const CTRL_C_GRACE_MS = 2000;

/**
 * Run the CLI; resolves to the exit code. Never calls process.exit, except
 * when a signal ends the run (SIGTERM, a second Ctrl-C): then the running
 * statements are cancelled on the server and the pools closed first, so no
 * lock outlives the process.
 */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  /** Set once a signal ends the run: the exit code, and the line already printed. */
  let ended: number | undefined;
  let grace: NodeJS.Timeout | undefined;
  const endNow = (code: number, line: string) => {
    if (ended !== undefined) return;
    ended = code;
    clearTimeout(grace);
    controller.abort();
    writeErr(line);
    void (async () => {
      await cancelRunningStatements();
      await endRunningPools(1);
      process.exit(code);
    })();
  };
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      endNow(ExitCode.interrupted, '\ninterrupted: cancelling the running statement and quitting\n');
      return;
    }
    writeErr('\ninterrupted: stopping after the current step (Ctrl-C again to quit now)\n');
    controller.abort();
    grace = setTimeout(() => void cancelRunningStatements(), CTRL_C_GRACE_MS).unref();
  };
  const onSigterm = () =>
    endNow(ExitCode.terminated, '\nterminated (SIGTERM): cancelling the running statement and quitting\n');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  // A command's own exit code for an outcome that is not an error (doctor: 8, 10).
  const outcome = { exitCode: ExitCode.ok as number };
  const program = buildProgram(controller.signal, outcome);
  const usage = watchUsage(program);
  try {
    await program.parseAsync(argv);
    return ended ?? outcome.exitCode;
  } catch (err) {
    // Ended by a signal: what fails now is the cancelled work, already reported.
    if (ended !== undefined) return ended;
    if (interrupts > 0) return reportError(asInterruption(err), argv);
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return ExitCode.ok;
      return reportError(usageError(err, usage.current()), argv);
    }
    return reportError(err, argv);
  } finally {
    clearTimeout(grace);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

/** After Ctrl-C, a statement we cancelled is the interruption, not a failure. */
function asInterruption(err: unknown): unknown {
  const e = err instanceof HomepotError ? err : describeError(err);
  if (e.sqlstate !== '57014') return err;
  return new HomepotError(
    'interrupted',
    'interrupted: the statement running on the server was cancelled, and its transaction rolled back',
    {
      hint: 'Run the command again to do the rest.',
      cause: err,
    },
  );
}

/**
 * The one place an error is printed: one line on stderr (`error: ...`), or
 * with --json one JSON object. --debug adds the stack: after the line, or
 * under --json inside the object (`error.stack`), so stderr's error is still
 * one JSON object.
 */
function reportError(err: unknown, argv: string[]): number {
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  const e = err instanceof HomepotError ? err : describeError(err);
  if (json) {
    writeErr(
      JSON.stringify({
        error: {
          kind: e.kind,
          message: e.message,
          hint: e.hint ?? null,
          sqlstate: e.sqlstate ?? null,
          exitCode: e.exitCode,
          ...(debug ? { stack: stackOf(e) } : {}),
        },
      }) + '\n',
    );
    return e.exitCode;
  } else {
    const c = makeChalk(process.stderr, { color: !argv.includes('--no-color'), json: false });
    writeErr(`${c.red('error:')} ${endSentence(e.message)}${e.hint ? ' ' + c.dim(e.hint) : ''}\n`);
  }
  if (debug) writeErr(stackOf(e) + '\n');
  return e.exitCode;
}

function stackOf(e: HomepotError): string {
  const cause = (e.cause ?? e) as Error;
  return String(cause?.stack ?? cause);
}
