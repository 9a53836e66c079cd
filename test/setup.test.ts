import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase, flavourInfo, type TestDatabase } from './support/databases.js';
import { loadPlainRows, loadSchema } from './support/homepot.js';
import { expectExit, expectReadOnlyRefusal, oneLineError, outcomes, query, snapshot } from './support/assertions.js';
import { LOCK_WAIT_NOTE, runContending } from './support/contention.js';
import { holdJobs } from './support/jobs.js';

type Step = {
  id: string;
  state: string;
  outcome: string;
  reason?: string;
  statements: string[];
  error?: { message: string };
};

async function rowCount(db: TestDatabase): Promise<number> {
  const [r] = await db.sql().unsafe(`SELECT count(*)::int AS n FROM health_checks`);
  await db.closeClients();
  return r.n;
}

describe('setup: bad intervals are refused before any SQL runs', () => {
  for (const [flag, value, pattern] of [
    ['--retention', '7 dayz', /unknown unit "dayz"/],
    ['--compress-after', '-1 day', /negative/],
    ['--chunk-interval', '0', /has no unit|zero/],
    ['--chunk-interval', '0 days', /zero/],
    ['--lock-timeout', 'soon', /not an interval/],
  ] as const) {
    it(`${flag} ${value}`, async () => {
      // A dead URL: the error must come before any connection attempt.
      const r = await runCli(['setup', flag, value, '--database-url', 'postgres://u@127.0.0.1:1/db']);
      expect(r.code).toBe(2);
      oneLineError(r.stderr, pattern);
    });
  }
});

describeWithDatabase('timescale', 'setup on a plain database, TimescaleDB Community', (db) => {
  // One test, two steps: the extension cannot be dropped and created again in the embedded
  // database's single backend, so "a plain database" exists once per block.
  it('--dry-run shows the plan with its SQL and changes nothing; the first run then creates everything, keeps every row, and warns about the conversion lock', async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
    const rows = await rowCount(db());
    const before = await snapshot(db());
    const dry = await runCli(['--wide', 'setup', '--dry-run', '--database-url', db().url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE;');
    expect(dry.stdout).toMatch(
      /SELECT create_hypertable\('public\.health_checks'::regclass, by_range\('timestamp', '7 days'::interval\), migrate_data => true\);/,
    );
    // TimescaleDB 2.18+ (both Community sources): the columnstore names, not the deprecated compression ones.
    expect(dry.stdout).toContain(
      `ALTER TABLE public.health_checks SET (timescaledb.enable_columnstore, timescaledb.segmentby = 'device_id', timescaledb.orderby = '"timestamp" DESC, id');`,
    );
    expect(dry.stdout).toContain(
      `CALL add_columnstore_policy('public.health_checks'::regclass, after => '7 days'::interval);`,
    );
    expect(dry.stdout).toContain(
      `SELECT add_retention_policy('public.health_checks'::regclass, drop_after => '90 days'::interval);`,
    );
    const dryJson = (await runCli(['setup', '--dry-run', '--json', '--database-url', db().url])).json();
    expect(dryJson.dryRun).toBe(true);
    expect(dryJson.changed).toBe(false);
    expect(await snapshot(db())).toEqual(before);

    const r = await runCli(['setup', '--json', '--require', 'community', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(outcomes(j)).toEqual({
      extension: 'created',
      hypertable: 'created',
      'index:idx_health_checks_device_time': 'created',
      'index:idx_devices_site': 'created',
      compression: 'created',
      'compression-policy': 'created',
      'retention-policy': 'created',
    });
    expect(j.warnings.join(' ')).toMatch(/ACCESS EXCLUSIVE lock/);
    expect(await rowCount(db())).toBe(rows);
    const [ht] = await db()
      .sql()
      .unsafe(`SELECT num_chunks FROM timescaledb_information.hypertables WHERE hypertable_name = 'health_checks'`);
    expect(Number(ht.num_chunks)).toBeGreaterThan(0);
    const jobs = await db()
      .sql()
      .unsafe(
        `SELECT proc_name, config FROM timescaledb_information.jobs WHERE hypertable_name = 'health_checks' ORDER BY 1`,
      );
    await db().closeClients();
    expect(jobs.map((x) => [x.proc_name, x.config.compress_after ?? x.config.drop_after])).toEqual([
      ['policy_compression', '7 days'],
      ['policy_retention', '90 days'],
    ]);
  });
});

describeWithDatabase('timescale', 'setup run again, TimescaleDB Community', (db) => {
  /**
   * Each test starts from HOMEPOT set up with the defaults, whatever the tests before it did:
   * the tables loaded again and a default `setup` (its policies held, so a real scheduler
   * changes nothing under the test).
   */
  async function useDefaultSetup(): Promise<void> {
    // One at a time: a hypertable cannot be dropped along with other objects.
    for (const t of ['health_checks', 'devices', 'sites']) await query(db(), `DROP TABLE IF EXISTS ${t} CASCADE`);
    await loadPlainRows(db().sql());
    await db().closeClients();
    const r = await runCli(['setup', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    await holdJobs(db());
  }

  it('second run: every step unchanged, and says so', async () => {
    await useDefaultSetup();
    const before = await snapshot(db());
    const r = await runCli(['setup', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(new Set(Object.values(outcomes(r.json())))).toEqual(new Set(['unchanged']));
    expect(r.json().changed).toBe(false);
    const human = await runCli(['setup', '--database-url', db().url]);
    expect(human.stderr).toMatch(/nothing to change/);
    expect(await snapshot(db())).toEqual(before);
  });

  it('a changed setting updates exactly the policy it concerns (no duplicate policy)', async () => {
    await useDefaultSetup();
    const r = await runCli(['setup', '--json', '--retention', '180d', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const o = outcomes(r.json());
    expect(o['retention-policy']).toBe('updated');
    expect(
      Object.entries(o)
        .filter(([k]) => k !== 'retention-policy')
        .every(([, v]) => v === 'unchanged'),
    ).toBe(true);
    const jobs = await db()
      .sql()
      .unsafe(`SELECT config FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'`);
    await db().closeClients();
    expect(jobs).toHaveLength(1);
    expect(jobs[0].config.drop_after).toBe('180 days');
    const c = await runCli([
      'setup',
      '--json',
      '--retention',
      '180 days',
      '--compress-after',
      '14d',
      '--chunk-interval',
      '1d',
      '--database-url',
      db().url,
    ]);
    expect(outcomes(c.json())).toMatchObject({
      'retention-policy': 'unchanged',
      'compression-policy': 'updated',
      hypertable: 'updated',
      compression: 'unchanged',
    });
    // ... and the catalog says so: the one compression job's config, the time dimension's interval.
    const [policies, dims] = [
      await db()
        .sql()
        .unsafe(
          `SELECT proc_name, config->>'compress_after' AS compress_after, config->>'drop_after' AS drop_after FROM timescaledb_information.jobs WHERE hypertable_name = 'health_checks' ORDER BY 1`,
        ),
      await db()
        .sql()
        .unsafe(
          `SELECT column_name::text, time_interval::text FROM timescaledb_information.dimensions WHERE hypertable_name = 'health_checks'`,
        ),
    ];
    await db().closeClients();
    expect(policies.map((p) => [p.proc_name, p.compress_after ?? p.drop_after])).toEqual([
      ['policy_compression', '14 days'],
      ['policy_retention', '180 days'],
    ]);
    expect(dims.map((d) => [d.column_name, d.time_interval])).toEqual([['timestamp', '1 day']]);
    const again = await runCli([
      'setup',
      '--json',
      '--retention',
      '180 days',
      '--compress-after',
      '14d',
      '--chunk-interval',
      '1d',
      '--database-url',
      db().url,
    ]);
    expect(new Set(Object.values(outcomes(again.json())))).toEqual(new Set(['unchanged']));
  });

  it('different compression settings are detected and updated', async () => {
    await useDefaultSetup();
    const r = await runCli([
      'setup',
      '--json',
      '--retention',
      '180 days',
      '--compress-after',
      '14d',
      '--chunk-interval',
      '1d',
      '--order-by',
      '"timestamp" DESC',
      '--database-url',
      db().url,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json()).compression).toBe('updated');
    const [s] = await db()
      .sql()
      .unsafe(
        `SELECT orderby FROM timescaledb_information.hypertable_compression_settings WHERE hypertable::text = 'health_checks'`,
      );
    await db().closeClients();
    expect(s.orderby).toBe('"timestamp" DESC');
  });
});

describeWithDatabase('apache', 'setup on TimescaleDB Apache edition', (db) => {
  let rows = 0;
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
    rows = await rowCount(db());
  });

  it('--require community fails (exit 5) and changes nothing', async () => {
    const before = await snapshot(db());
    const r = await runCli(['setup', '--require', 'community', '--database-url', db().url]);
    expect(r.code).toBe(5);
    oneLineError(r.stderr, /--require community: this server runs the TimescaleDB Apache-2 edition/);
    expect(await snapshot(db())).toEqual(before);
  });

  it('a role that may not create the extension: exit 6, names the privilege and what a superuser must run', async () => {
    const before = await snapshot(db());
    const r = await runCli(['setup', '--database-url', db().passwordUrl!]);
    expect(r.code).toBe(6);
    oneLineError(
      r.stderr,
      /may not create the timescaledb extension .*superuser.*CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE/,
    );
    expect(r.stdout + r.stderr).not.toContain(db().password!);
    expect(await snapshot(db())).toEqual(before);
  });

  it('creates the hypertable and indexes; compression and retention reported as not available', async () => {
    const r = await runCli(['setup', '--json', '--require', 'timescaledb', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.edition).toBe('apache');
    expect(outcomes(j)).toEqual({
      extension: 'created',
      hypertable: 'created',
      'index:idx_health_checks_device_time': 'created',
      'index:idx_devices_site': 'created',
      compression: 'skipped',
      'compression-policy': 'skipped',
      'retention-policy': 'skipped',
    });
    const retention = j.steps.find((s: Step) => s.id === 'retention-policy');
    expect(retention.state).toBe('not-available');
    expect(retention.reason).toMatch(/Community edition.*retention run/);
    expect(await rowCount(db())).toBe(rows);
    const again = await runCli(['setup', '--json', '--database-url', db().url]);
    expect(new Set(Object.values(outcomes(again.json())))).toEqual(new Set(['unchanged', 'skipped']));
    expect(again.json().changed).toBe(false);
  });
});

describeWithDatabase('apache', 'setup: table checks before converting', (db) => {
  beforeAll(async () => {
    const sql = db().sql();
    await loadSchema(sql);
    await sql.unsafe(`
      CREATE TABLE no_time (id int PRIMARY KEY, v int);
      CREATE TABLE text_time (id int, "timestamp" text NOT NULL);
      CREATE TABLE nullable_time (id int, "timestamp" timestamptz);
      CREATE TABLE unique_no_time (id int UNIQUE, "timestamp" timestamptz NOT NULL);
      CREATE EXTENSION IF NOT EXISTS timescaledb;`);
    await db().closeClients();
  });

  for (const [table, code, pattern] of [
    ['nosuch', 4, /table "nosuch" does not exist/],
    ['no_time', 4, /has no column "timestamp"/],
    ['text_time', 4, /is text, not a time type/],
    ['nullable_time', 4, /allows NULL.*SET NOT NULL/],
    ['unique_no_time', 4, /unique constraints or indexes without "timestamp".*unique_no_time_id_key.*DROP CONSTRAINT/],
  ] as const) {
    it(`--table ${table}: exit ${code}, nothing changed`, async () => {
      const before = await snapshot(db());
      const r = await runCli(['setup', '--table', table, '--database-url', db().url]);
      expect(r.code).toBe(code);
      oneLineError(r.stderr, pattern);
      expect(await snapshot(db())).toEqual(before);
    });
  }

  it('a read-only session: exit 6 before anything runs', async () => {
    await expectReadOnlyRefusal(db(), [['setup']], /read-only/, async () => {
      const s = await runCli(['status', '--json', '--database-url', db().url]);
      expect(s.json().server.readOnly).toBe(true);
    });
  });
});

describeWithDatabase('apache', 'setup: concurrent pipelines', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });

  it('4 setup processes waiting for the change lock at once all exit 0; each object is created once', async () => {
    const runs = await runContending(
      db(),
      [0, 1, 2, 3].map(() => ['setup', '--json', '--database-url', db().url]),
    );
    for (const r of runs) expectExit(r, 0);
    const created = runs.map((r) => outcomes(r.json()));
    for (const id of ['extension', 'hypertable', 'index:idx_health_checks_device_time', 'index:idx_devices_site']) {
      expect(
        created.filter((o) => o[id] === 'created'),
        id,
      ).toHaveLength(1);
      expect(
        created.filter((o) => o[id] === 'unchanged'),
        id,
      ).toHaveLength(3);
    }
    const [n] = await query(
      db(),
      `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'idx_health_checks_device_time'`,
    );
    expect(n.n).toBe(1);
  });

  it('a run that waits for the lock says so on stderr; with --json or --quiet it does not', async () => {
    const [human, json, quiet] = await runContending(db(), [
      ['setup', '--database-url', db().url],
      ['setup', '--json', '--database-url', db().url],
      ['setup', '--quiet', '--database-url', db().url],
    ]);
    for (const r of [human, json, quiet]) expectExit(r, 0);
    expect(human.stderr).toContain(LOCK_WAIT_NOTE);
    expect(json.stderr).not.toContain(LOCK_WAIT_NOTE);
    expect(json.json().steps.length).toBeGreaterThan(0);
    expect(quiet.stderr).not.toContain(LOCK_WAIT_NOTE);
  });
});

/** Four setups on a Community server, leaving one policy of each kind: the jobs as the server lists them. */
async function policyJobs(db: TestDatabase): Promise<[string, number][]> {
  const jobs = await query(
    db,
    `SELECT proc_name, count(*)::int AS n FROM timescaledb_information.jobs WHERE hypertable_name = 'health_checks' GROUP BY 1 ORDER BY 1`,
  );
  return jobs.map((j) => [j.proc_name, j.n]);
}
const SETUP_ONCE_EACH = [
  ['policy_compression', 1],
  ['policy_retention', 1],
];

// The embedded server takes one connection at a time (it queues whole processes), so runs there never
// overlap: on it this is an idempotency test; on a real Community server the runs contend for the lock.
const communityOverlaps = (() => {
  const info = flavourInfo('timescale');
  return info.available && info.source !== 'embedded';
})();

describeWithDatabase('timescale', 'setup: concurrent pipelines on Community (policies)', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });

  if (communityOverlaps) {
    it('4 setup processes waiting for the change lock at once all exit 0 and leave one policy of each kind', async () => {
      const runs = await runContending(
        db(),
        [0, 1, 2, 3].map(() => ['setup', '--json', '--database-url', db().url]),
        { timeoutMs: 240_000 },
      );
      for (const r of runs) expectExit(r, 0);
      expect(runs.filter((r) => outcomes(r.json())['retention-policy'] === 'created')).toHaveLength(1);
      expect(await policyJobs(db())).toEqual(SETUP_ONCE_EACH);
    }, 300_000);
  } else {
    it('embedded (one connection at a time): 4 setup processes started together all exit 0 and leave one policy of each kind', async () => {
      const runs = await Promise.all(
        [0, 1, 2, 3].map(() => runCli(['setup', '--json', '--database-url', db().url], { timeoutMs: 240_000 })),
      );
      for (const r of runs) expectExit(r, 0);
      expect(runs.filter((r) => outcomes(r.json())['retention-policy'] === 'created')).toHaveLength(1);
      expect(await policyJobs(db())).toEqual(SETUP_ONCE_EACH);
    }, 300_000);
  }
});

describeWithDatabase('postgres', 'setup where TimescaleDB is installed but not preloaded', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });
  it('exit 5 naming the setting and the restart; nothing changed', async () => {
    const before = await snapshot(db());
    const r = await runCli(['setup', '--database-url', db().url]);
    if (db().info.facts.timescaledb.available) {
      expect(r.code).toBe(5);
      oneLineError(r.stderr, /not preloaded.*shared_preload_libraries.*restart/);
      expect(await snapshot(db())).toEqual(before);
    } else {
      // Not installed at all (e.g. the postgres image): what setup promises on plain PostgreSQL.
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/not available/);
      const [facts] = await db()
        .sql()
        .unsafe(
          `SELECT (SELECT count(*)::int FROM pg_extension WHERE extname = 'timescaledb') AS ext,
                  (SELECT array_agg(indexname::text ORDER BY indexname) FROM pg_indexes WHERE indexname IN ('idx_health_checks_device_time', 'idx_devices_site')) AS indexes`,
        );
      await db().closeClients();
      expect(facts).toEqual({ ext: 0, indexes: ['idx_devices_site', 'idx_health_checks_device_time'] });
    }
  });
});

describeWithDatabase('postgres-bare', 'setup on plain PostgreSQL', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });
  it('creates the indexes, warns that TimescaleDB is missing, exits 0; second run unchanged', async () => {
    const r = await runCli(['setup', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json())).toEqual({
      extension: 'skipped',
      hypertable: 'skipped',
      'index:idx_health_checks_device_time': 'created',
      'index:idx_devices_site': 'created',
      compression: 'skipped',
      'compression-policy': 'skipped',
      'retention-policy': 'skipped',
    });
    expect(r.json().steps[0].reason).toMatch(/not installed.*Install the timescaledb package/);
    const human = await runCli(['setup', '--database-url', db().url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/not available/);
    const again = await runCli(['setup', '--json', '--database-url', db().url]);
    expect(again.json().changed).toBe(false);
  });
  it('--require timescaledb: exit 5', async () => {
    const r = await runCli(['setup', '--require', 'timescaledb', '--database-url', db().url]);
    expect(r.code).toBe(5);
    oneLineError(r.stderr, /--require timescaledb: TimescaleDB is not installed/);
  });
});
