/**
 * Issue 11 §5: a table or column name the user typed that matches nothing is an error on
 * every server kind, never "skipped" (exit 0). Each option that names a table or a column is
 * tried with a name that exists nowhere, on each flavour: the run fails with one line naming
 * what was typed, and nothing changes. Where the command cannot run on that server at all
 * (exit 5, the feature is missing), that refusal is the error; `setup` runs everywhere, so it
 * must look the name up everywhere (exit 4).
 */
import { beforeAll, expect, it } from 'vitest';
import { expectExit, oneLineError, snapshot } from './support/assertions.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase, FLAVOURS, type Flavour } from './support/databases.js';
import { loadHypertable, loadPlainRows } from './support/homepot.js';

const TABLE = 'no_such_table';
const COLUMN = 'no_such_column';

/** Each option that names a table or a column, with the name that matches nothing. */
const CASES: { args: string[]; typed: string }[] = [
  { args: ['setup', '--time-column', COLUMN], typed: COLUMN },
  { args: ['setup', '--table', TABLE], typed: TABLE },
  { args: ['setup', '--dry-run', '--time-column', COLUMN], typed: COLUMN },
  { args: ['chunks', TABLE], typed: TABLE },
  { args: ['compression', 'show', '--table', TABLE], typed: TABLE },
  { args: ['compression', 'set', '--table', TABLE], typed: TABLE },
  { args: ['compression', 'remove', '--table', TABLE], typed: TABLE },
  { args: ['compression', 'run', '--table', TABLE], typed: TABLE },
  { args: ['compression', 'stats', '--table', TABLE], typed: TABLE },
  { args: ['retention', 'show', '--table', TABLE], typed: TABLE },
  { args: ['retention', 'set', '90 days', '--table', TABLE], typed: TABLE },
  { args: ['retention', 'remove', '--table', TABLE], typed: TABLE },
  { args: ['retention', 'run', '--table', TABLE], typed: TABLE },
  { args: ['retention', 'run', '--time-column', COLUMN], typed: COLUMN },
  { args: ['chunk-interval', 'show', '--table', TABLE], typed: TABLE },
  { args: ['chunk-interval', 'set', '7 days', '--table', TABLE], typed: TABLE },
];

/** The server kinds where the whole command is unavailable (exit 5 comes before the name). */
function needsTimescale(args: string[]): boolean {
  return ['chunks', 'compression', 'retention', 'chunk-interval', 'create-aggregates'].includes(args[0]);
}

for (const flavour of FLAVOURS) {
  describeWithDatabase(flavour, 'a typed name that matches nothing', (db) => {
    const timescale = (f: Flavour) => f === 'timescale' || f === 'apache';
    beforeAll(async () => {
      if (timescale(flavour)) await loadHypertable(db().sql());
      else await loadPlainRows(db().sql());
      await db().closeClients();
    });

    it('is an error naming it, and changes nothing', async () => {
      const before = await snapshot(db());
      for (const { args, typed } of CASES) {
        const r = await runCli([...args, '--database-url', db().url]);
        const label = `${args.join(' ')} on ${flavour}`;
        expect(r.code, `${label}\n${r.stderr}`).not.toBe(0);
        if (r.code === 5 && needsTimescale(args) && !timescale(flavour)) continue;
        // Apache has no retention or compression policies: exit 5 is the right refusal there too.
        if (r.code === 5 && flavour === 'apache' && args[0] !== 'setup' && args[0] !== 'chunks') continue;
        // TimescaleDB installed but not preloaded: setup refuses the whole run (exit 5) first.
        if (r.code === 5 && flavour === 'postgres' && args[0] === 'setup') continue;
        expectExit(r, 4);
        oneLineError(r.stderr, new RegExp(typed));
      }
      expect(await snapshot(db())).toEqual(before);
    }, 300_000);
  });
}
