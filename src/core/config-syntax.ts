import { defaultLoaders, type Loader, type Loaders } from 'cosmiconfig';
import path from 'node:path';
import { HomepotError } from './errors.js';

/**
 * cosmiconfig's JSON and YAML loaders, whose errors name the file, the line,
 * the column and the reason in one line. cosmiconfig's own JSON error is a
 * code frame over several lines, of which the first is `JSON Error in
 * <file>:` with nothing after it (what people saw: `JSON Error in bad.json: .`).
 */
export function loadersWithSyntaxErrors(base: Loaders = defaultLoaders): Loaders {
  return {
    ...base,
    '.json': loadJson,
    '.yaml': wrapYaml(base['.yaml']),
    '.yml': wrapYaml(base['.yml']),
    noExt: wrapYaml(base.noExt),
  };
}

/** The file as the user sees it (relative to the current directory), the line and the column. */
function where(filepath: string, line: number, column: number): string {
  const shown = path.relative(process.cwd(), filepath) || filepath;
  return `${shown}, line ${line}, column ${column}`;
}

function syntaxError(kind: 'JSON' | 'YAML', at: string, reason: string, cause: unknown): HomepotError {
  return new HomepotError('config', `config file ${at}: invalid ${kind}: ${reason}`, {
    hint: `Fix the file's ${kind} syntax there.`,
    cause,
  });
}

/** Line and column (both from 1) of a character offset. */
function lineColumn(content: string, offset: number): { line: number; column: number } {
  const before = content.slice(0, Math.max(0, Math.min(offset, content.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

const loadJson: Loader = (filepath, content) => {
  try {
    return JSON.parse(content) as unknown;
  } catch (err) {
    // V8: "Expected ',' or '}' after property value in JSON at position 35" (Node 22 adds
    // " (line 4 column 3)"); "Unexpected end of JSON input" has no position: the end of the file.
    const message = (err as Error).message;
    const m = /^(.*?)(?: in JSON)? at position (\d+)/s.exec(message);
    const offset = m ? Number(m[2]) : content.length;
    const reason = (m ? m[1]! : message.split('\n')[0]!).replace(/ in JSON$/, '').slice(0, 200);
    const { line, column } = lineColumn(content, offset);
    throw syntaxError('JSON', where(filepath, line, column), reason, err);
  }
};

/** js-yaml's exception: `reason` and a 0-based `mark`. */
interface YamlException {
  reason?: string;
  mark?: { line: number; column: number };
  message: string;
}

function wrapYaml(load: Loader | undefined): Loader {
  return (filepath, content) => {
    if (!load) throw new HomepotError('internal', 'cosmiconfig has no YAML loader');
    try {
      return load(filepath, content) as unknown;
    } catch (err) {
      const e = err as YamlException;
      if (!e.mark || typeof e.reason !== 'string') throw err;
      throw syntaxError('YAML', where(filepath, e.mark.line + 1, e.mark.column + 1), e.reason.slice(0, 200), err);
    }
  };
}
