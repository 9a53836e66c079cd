/**
 * Run the built CLI (bin/homepot-ts.js → dist/) as a child process, the way
 * users and pipelines do. `npm test` builds first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/homepot-ts.js', import.meta.url));

export interface CliResult {
  code: number | null;
  /** The signal that ended the process (null when it exited by itself). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not JSON). */
  json<T = any>(): T;
}

/** Variables that would point the CLI at another database: never inherited by tests. */
const CONNECTION_VARS = [
  'HOMEPOT_TS_DATABASE_URL',
  'HOMEPOT_TS_SOURCE_URL',
  'HOMEPOT_TS_TARGET',
  'DATABASE_URL',
  'DATABASE__URL',
  'PGHOST',
  'PGPORT',
  'PGUSER',
  'PGPASSWORD',
  'PGDATABASE',
  'FORCE_COLOR',
  'NO_COLOR',
];

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/**
 * Start the CLI and return at once: the child (to signal it, e.g. SIGKILL in
 * the middle of a run) and its result when it exits.
 */
export function startCli(
  args: string[],
  options: CliOptions = {},
): { child: ChildProcess; result: Promise<CliResult> } {
  if (!existsSync(new URL('../../dist/cli/main.js', import.meta.url))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm test does it)');
  }
  // Human output fits COLUMNS (80 when unset, as through a pipe). Tests about what a command says
  // get a wide terminal, so a value is never cut for width; test/terminal.test.ts (and each test
  // that checks a width) sets COLUMNS itself and checks the fitting.
  const env: Record<string, string> = { COLUMNS: '200' };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !CONNECTION_VARS.includes(k) && k !== 'COLUMNS') env[k] = v;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      });
    });
  });
  return { child, result };
}

/** Run the CLI and press Ctrl-C (SIGINT) once its stderr matches `when`; `signalled` says whether it did. */
export async function runCliInterrupted(
  args: string[],
  when: RegExp,
  options: CliOptions = {},
): Promise<CliResult & { signalled: boolean }> {
  const { child, result } = startCli(args, options);
  let stderr = '';
  let signalled = false;
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!signalled && when.test(stderr)) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  return { ...(await result), signalled };
}
