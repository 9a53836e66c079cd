/**
 * Issue 11 §6: the pipeline examples (examples/*.yml, and the README's "In a pipeline"
 * section) cannot rot: each file is YAML of the shape its CI reads, and every
 * `homepot-ts` command line in them is parsed by the real program (buildProgram, every
 * command's action replaced by a no-op: unknown commands and options, missing arguments
 * and bad values are refused exactly as the CLI refuses them). No database.
 */
import { readFileSync } from 'node:fs';
import { defaultLoaders } from 'cosmiconfig';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { ROOT } from './support/cli.js';

const read = (rel: string) => readFileSync(new URL(`../${rel}`, import.meta.url), 'utf8');
const loadYaml = (rel: string): any => defaultLoaders['.yaml'](`${ROOT}${rel}`, read(rel));

/** Every string in a parsed YAML document (run:, script:, before_script: ...). */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === 'object') return Object.values(node).flatMap(strings);
  return [];
}

/** The arguments of each `npx homepot-ts ...` in the text, up to the first shell operator. */
function commandLines(text: string): string[][] {
  const out: string[][] = [];
  for (const m of text.matchAll(/(?:npx |^\$ )homepot-ts((?: +[^\s|;&>`]+)*)/gm)) {
    const rest = (m[1] ?? '').trim();
    const words = rest === '' ? [] : rest.split(/ +/);
    out.push(words.map((w) => w.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1')));
  }
  return out;
}

function withNoOpActions(program: Command): Command {
  const visit = (c: Command) => {
    c.action(() => {});
    c.commands.forEach(visit);
  };
  program.commands.forEach(visit);
  return program;
}

/** Parse one command line with the real program; resolves to the error message, or null. */
async function parseError(args: string[]): Promise<string | null> {
  const program = withNoOpActions(buildProgram(new AbortController().signal));
  try {
    await program.parseAsync(args, { from: 'user' });
    return null;
  } catch (err) {
    // --version and --help end the parse by design.
    if (['commander.version', 'commander.helpDisplayed'].includes((err as { code?: string }).code ?? '')) return null;
    return (err as Error).message;
  }
}

/** The README's "In a pipeline" section. */
function pipelineSection(): string {
  const readme = read('README.md');
  const start = readme.indexOf('\n## In a pipeline');
  expect(start, 'README has an "In a pipeline" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end);
}

describe('pipeline examples (no database)', () => {
  it('the parser check itself refuses what the CLI refuses, and knows --check', async () => {
    expect(await parseError(['setup', '--json'])).toBeNull();
    expect(await parseError(['setup', '--bogus'])).toMatch(/unknown option/);
    expect(await parseError(['stauts'])).toMatch(/unknown command/);
    expect(await parseError(['setup', '--require', 'everything'])).toMatch(/--require/);
    expect(await parseError(['setup', '--check', '--json'])).toBeNull();
    expect(await parseError(['create-aggregates', '--check'])).toBeNull();
    expect(await parseError(['status', '--check'])).toMatch(/unknown option/);
  });

  it('examples/github-actions.yml: pull requests check, pushes to main deploy, on timescale/timescaledb, --json kept', () => {
    const wf = loadYaml('examples/github-actions.yml');
    expect(Object.keys(wf.on)).toEqual(['pull_request', 'push']);
    for (const job of [wf.jobs.check, wf.jobs.deploy]) {
      expect(job.services.timescaledb.image).toBe('timescale/timescaledb:latest-pg15');
      const upload = job.steps.find((s: any) => String(s.uses).startsWith('actions/upload-artifact@'));
      expect(upload).toMatchObject({ if: 'always()', with: { path: 'homepot-ts-output/' } });
    }
    const check = strings(wf.jobs.check).join('\n');
    const deploy = strings(wf.jobs.deploy).join('\n');
    expect(check).toMatch(/homepot-ts setup --check --json/);
    expect(check).toMatch(/"\$code" -eq 7/);
    expect(deploy).toMatch(/homepot-ts setup .*--json[\s\S]*homepot-ts create-aggregates --json/);
  });

  it('examples/gitlab-ci.yml: merge requests check (exit 7 a warning), the default branch deploys', () => {
    const ci = loadYaml('examples/gitlab-ci.yml');
    expect(ci['.homepot-ts'].services[0]).toMatchObject({ name: 'timescale/timescaledb:latest-pg15' });
    expect(ci['.homepot-ts'].artifacts).toMatchObject({ when: 'always', paths: ['homepot-ts-output/'] });
    expect(ci['homepot-ts drift'].allow_failure).toEqual({ exit_codes: [7] });
    expect(ci['homepot-ts drift'].script.join('\n')).toMatch(/homepot-ts setup --check --json/);
    expect(ci['homepot-ts deploy'].script.join('\n')).toMatch(/setup .*--json[\s\S]*create-aggregates --json/);
    for (const job of ['homepot-ts drift', 'homepot-ts rehearsal', 'homepot-ts deploy'])
      expect(ci[job].extends).toBe('.homepot-ts');
  });

  it('every homepot-ts command line in the examples and the README section parses with the real program', async () => {
    const sources: Record<string, string> = {
      'examples/github-actions.yml': strings(loadYaml('examples/github-actions.yml')).join('\n'),
      'examples/gitlab-ci.yml': strings(loadYaml('examples/gitlab-ci.yml')).join('\n'),
      'README.md "In a pipeline"': pipelineSection(),
    };
    let checked = 0;
    for (const [where, text] of Object.entries(sources)) {
      const lines = commandLines(text).filter((l) => l.length > 0);
      expect(lines.length, where).toBeGreaterThan(2);
      for (const args of lines) {
        expect(await parseError(args), `${where}: homepot-ts ${args.join(' ')}`).toBeNull();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
