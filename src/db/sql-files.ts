import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package's sql/ directory: the same relative place from src/ (tests) and dist/ (built). */
export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

const cache = new Map<string, string>();

/**
 * Text of one of our own SQL files, e.g. `sqlFile('queries/chunks.sql')`.
 * Only these files are ever run with `sql.unsafe`; user input goes in as
 * parameters ($1, $2, ...), never into the text.
 */
export function sqlFile(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(SQL_DIR, name), 'utf8');
    cache.set(name, text);
  }
  return text;
}
