/**
 * Issue 11 §5: hints and comments point people at README sections by name (`README,
 * "Configuration"`); a renamed or missing section leaves them pointing at nothing, as
 * `(README, "Servers")` did. Every such reference in src/ and sql/ must name a heading of
 * README.md, or one of the parts of a heading that lists several commands, or a paragraph
 * titled in bold (`**Who moves the rows.**`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

/** `README, "X"`, `README "X"`, `README ("X"`, `README.md, "X"` and the same with single quotes. */
const REFERENCE = /README(?:\.md)?\s*[,(]?\s*(["'])([^"'\n]+)\1/g;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** The names a reference may use: each heading, its comma-separated parts, and bold paragraph titles. */
function sectionNames(readme: string): Set<string> {
  const names = new Set<string>();
  for (const line of readme.split('\n')) {
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (heading) {
      const text = heading[1].replace(/`/g, '').trim();
      names.add(text);
      for (const part of text.split(',')) names.add(part.trim());
    }
    for (const bold of line.matchAll(/\*\*([^*]+?)\.?\*\*/g)) names.add(bold[1].trim());
  }
  return names;
}

it('every README section named in src/ and sql/ exists in README.md', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const names = sectionNames(readme);
  const references = [...files(path.join(ROOT, 'src')), ...files(path.join(ROOT, 'sql'))].flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(REFERENCE)].map((m) => ({
      where: path.relative(ROOT, file),
      section: m[2],
    })),
  );
  // The pattern must keep finding them: a test that reads none proves nothing.
  expect(references.length).toBeGreaterThan(10);
  expect(references.filter((r) => !names.has(r.section))).toEqual([]);
});
