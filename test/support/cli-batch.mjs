/* global process, setTimeout, Buffer */
/**
 * Runs many invocations of the built CLI in one child process, each exactly as
 * bin/homepot-ts.js runs one (`process.exitCode = await main(process.argv)`),
 * with its stdout and stderr captured and its environment and working
 * directory set: starting Node once per bad input would make the table-driven
 * test (test/bad-input.test.ts) take many minutes on two cores.
 *
 * node test/support/cli-batch.mjs <cases.json> <results.json>
 * cases: [{ args: string[], env?: {NAME: value | null}, cwd?: string }]
 * results: [{ code: number | 'timeout' | 'threw' | 'not run', stdout, stderr, ms }]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { main } from '../../dist/cli/main.js';

const [casesFile, resultsFile, timeoutArg] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const timeoutMs = Number(timeoutArg ?? 30000);

let current = null;
const capture = (stream, key) => {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    if (!current) return write(chunk, ...rest);
    current[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    const callback = rest.find((r) => typeof r === 'function');
    if (callback) callback();
    return true;
  };
};
capture(process.stdout, 'stdout');
capture(process.stderr, 'stderr');

const results = [];
const home = process.cwd();
for (const c of cases) {
  const saved = {};
  for (const [k, v] of Object.entries(c.env ?? {})) {
    saved[k] = process.env[k];
    if (v === null) delete process.env[k];
    else process.env[k] = v;
  }
  process.chdir(c.cwd ?? home);
  current = { stdout: '', stderr: '' };
  const started = Date.now();
  let code;
  try {
    code = await Promise.race([
      main(['node', 'homepot-ts', ...c.args]),
      new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref()),
    ]);
  } catch (err) {
    code = 'threw';
    current.stderr += String(err?.stack ?? err);
  }
  results.push({ ...current, code, ms: Date.now() - started });
  current = null;
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  // A case that never ended may still be running: the rest of the batch is not run.
  if (code === 'timeout') break;
}
while (results.length < cases.length) results.push({ code: 'not run', stdout: '', stderr: '', ms: 0 });
writeFileSync(resultsFile, JSON.stringify(results));
process.exit(0);
