import { beforeAll, expect, it } from 'vitest';
import {
  connectTarget,
  ExitCode,
  HomepotError,
  resolveSetupOptions,
  resolveTarget,
  runSetup,
  type Logger,
  type SetupResult,
} from '../src/index.js';
import { snapshot } from './support/assertions.js';
import { describeWithDatabase } from './support/databases.js';
import { loadPlainRows } from './support/homepot.js';

describeWithDatabase('apache', 'library: the README "Library" example', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });

  it('connects as the CLI does and returns the setup plan without changing anything', async () => {
    const before = await snapshot(db());
    const printed: string[] = [];
    const console = { log: (...args: unknown[]) => void printed.push(args.join(' ')), error: () => {} };
    const process = { env: { DATABASE_URL: db().url } as Record<string, string | undefined> };
    let plan: SetupResult | undefined;

    // README "Library", as written (console and process.env are this test's stand-ins).
    const logger: Logger = { info: console.error, warn: console.error, debug: () => {} };
    const conn = await connectTarget(resolveTarget({ config: {}, env: process.env }), { logger });
    try {
      plan = await runSetup(conn.sql, resolveSetupOptions({ dryRun: true }, {}));
      for (const step of plan.steps) console.log(step.id, step.state, step.outcome, step.reason ?? '');
    } finally {
      await conn.close();
    }

    expect(plan.dryRun).toBe(true);
    expect(plan.changed).toBe(false);
    expect(plan.failedStep).toBeNull();
    expect(plan.edition).toBe('apache');
    // The steps `setup` reports on this server (test/setup.test.ts), each planned, none run.
    expect(Object.fromEntries(plan.steps.map((s) => [s.id, [s.state, s.outcome]]))).toEqual({
      extension: ['needed', 'skipped'],
      hypertable: ['needed', 'skipped'],
      'index:idx_health_checks_device_time': ['needed', 'skipped'],
      'index:idx_devices_site': ['needed', 'skipped'],
      compression: ['not-available', 'skipped'],
      'compression-policy': ['not-available', 'skipped'],
      'retention-policy': ['not-available', 'skipped'],
    });
    expect(plan.steps.find((s) => s.id === 'hypertable')?.statements.join('\n')).toMatch(/create_hypertable/);
    expect(printed).toHaveLength(plan.steps.length);
    expect(printed[0]).toMatch(/^extension needed skipped dry run$/);
    expect(await snapshot(db())).toEqual(before);
  });

  it('exports HomepotError and ExitCode', () => {
    expect(new HomepotError('usage', 'bad flag').exitCode).toBe(ExitCode.usage);
  });
});
