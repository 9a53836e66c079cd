/**
 * Issue 11 §5: an error's message and its hint are two sentences on one line, so the message
 * must end (a full stop, unless it ends with . ! or ? already) before the hint starts; the
 * hint is left as written (many end in a command to copy). Checked over real refusals of the
 * Apache edition, each run twice: with --json for the message and hint as the tool made them,
 * and for people, where the line must be exactly those two sentences.
 */
import { beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable } from './support/homepot.js';

/** Commands the Apache edition refuses with a message and a hint (exit 5). */
const REFUSALS = [
  ['setup', '--require', 'community'],
  ['compression', 'set'],
  ['compression', 'run'],
  ['retention', 'set', '30 days'],
  ['jobs', 'run', '1'],
  ['jobs', 'pause', '1'],
  ['aggregates', 'policy', 'device_metrics_hourly'],
];

describeWithDatabase('apache', 'an error ends its sentence before the hint', (db) => {
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  it('for every refusal: "error: <message>. <hint>"', async () => {
    for (const args of REFUSALS) {
      const json = await runCli([...args, '--json', '--database-url', db().url]);
      expect(json.code, `${args.join(' ')}\n${json.stderr}`).toBe(5);
      const { message, hint } = JSON.parse(json.stderr).error as { message: string; hint: string | null };
      expect(hint, args.join(' ')).toBeTruthy();
      const human = await runCli([...args, '--database-url', db().url]);
      const line = human.stderr.trim();
      expect(line.startsWith(`error: ${message}`), line).toBe(true);
      expect(line.endsWith(` ${hint}`), line).toBe(true);
      const between = line.slice(`error: ${message}`.length, line.length - hint!.length - 1);
      expect(between, line).toBe(/[.!?]$/.test(message) ? '' : '.');
    }
  }, 600_000);
});

describeWithDatabase('apache', 'a kind named in a sentence takes its article', (db) => {
  it('aggregates policy on an aggregate table: "here is an aggregate table", not "a aggregate table"', async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
    const created = await runCli(['create-aggregates', '--database-url', db().url], { timeoutMs: 180_000 });
    expect(created.code, created.stderr).toBe(0);
    const r = await runCli(['aggregates', 'policy', 'device_metrics_hourly', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('device_metrics_hourly here is an aggregate table');
    expect(r.stderr).not.toContain(' a aggregate');
  }, 300_000);
});
