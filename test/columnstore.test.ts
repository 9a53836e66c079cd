import { beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable } from './support/homepot.js';
import { cellAfter, outcomes, query, snapshot } from './support/assertions.js';
import { holdJobs, NOT_TODAY } from './support/jobs.js';
import { hasColumnstoreApi } from '../src/db/capabilities.js';
import { parseInterval } from '../src/core/intervals.js';
import { resolveTable } from '../src/db/names.js';
import { query as templateQuery } from '../src/db/sql.js';
import { compressionSettingsStep } from '../src/steps/compression-settings.js';
import { policyStep, removePolicyStatement } from '../src/steps/policy.js';

/**
 * TimescaleDB 2.18 renamed compression to columnstore. Both Community sources of the
 * `timescale` flavour (embedded 2.23, a real 2.28.3 build) have the new API, so the
 * statements homepot-ts runs there are the columnstore ones; a policy added by hand
 * with either API is the same job (proc policy_compression), which the tool finds.
 */

type Step = { id: string; outcome: string; statements: string[] };

const SETTINGS = `ALTER TABLE public.health_checks SET (timescaledb.enable_columnstore, timescaledb.segmentby = 'device_id', timescaledb.orderby = '"timestamp" DESC, id')`;
const ADD = `CALL add_columnstore_policy('public.health_checks'::regclass, after => '7 days'::interval)`;
const REMOVE = `CALL remove_columnstore_policy('public.health_checks'::regclass, if_exists => true)`;

/** The two ways a person may have enabled compression and added the policy before homepot-ts ran. */
const BY_HAND = {
  'the compression API (SELECT add_compression_policy)': [
    `ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',
       timescaledb.compress_orderby = '"timestamp" DESC, id')`,
    `SELECT add_compression_policy('health_checks', compress_after => INTERVAL '7 days', initial_start => ${NOT_TODAY})`,
  ],
  'the columnstore API (CALL add_columnstore_policy)': [
    `ALTER TABLE health_checks SET (timescaledb.enable_columnstore, timescaledb.segmentby = 'device_id',
       timescaledb.orderby = '"timestamp" DESC, id')`,
    `CALL add_columnstore_policy('health_checks', after => INTERVAL '7 days', initial_start => ${NOT_TODAY})`,
  ],
};

describeWithDatabase('timescale', 'compression (columnstore) API on TimescaleDB Community', (db) => {
  const url = () => db().url;
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  async function decompressAll(): Promise<void> {
    await query(
      db(),
      `SELECT decompress_chunk(format('%I.%I', chunk_schema, chunk_name)::regclass)
       FROM timescaledb_information.chunks WHERE hypertable_name = 'health_checks' AND is_compressed`,
    );
  }

  /** No policy, nothing compressed, compression off. */
  async function compressionOff(): Promise<void> {
    await query(db(), `SELECT remove_compression_policy('health_checks', if_exists => true)`);
    await decompressAll();
    await query(db(), `ALTER TABLE health_checks SET (timescaledb.compress = false)`);
  }

  /** The compression policy jobs of health_checks as the catalog records them. */
  async function policyJobs() {
    return query<{ job_id: number; application_name: string; compress_after: string }>(
      db(),
      `SELECT job_id, application_name, config ->> 'compress_after' AS compress_after
       FROM timescaledb_information.jobs
       WHERE proc_name = 'policy_compression' AND hypertable_name = 'health_checks'`,
    );
  }

  it('set and remove run the columnstore statements: the dry run shows them, the server records the policy as TimescaleDB names it', async () => {
    await compressionOff();
    const dry = await runCli(['compression', 'set', '--dry-run', '--json', '--database-url', url()]);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = dry.json().steps.map((s: Step) => [s.id, s.statements]);
    expect(planned).toEqual([
      ['compression', [SETTINGS]],
      ['compression-policy', [ADD]],
    ]);

    const r = await runCli(['compression', 'set', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    await holdJobs(db());
    // What ran is what the dry run showed.
    expect(r.json().steps.map((s: Step) => [s.id, s.statements])).toEqual(planned);
    expect(outcomes(r.json())).toEqual({ compression: 'created', 'compression-policy': 'created' });
    const jobs = await policyJobs();
    expect(jobs).toHaveLength(1);
    // "Columnstore Policy [N]" is what add_columnstore_policy and add_compression_policy both name
    // the job from TimescaleDB 2.20 on; the job's proc and config key kept their old names.
    expect(jobs[0]).toMatchObject({
      application_name: `Columnstore Policy [${jobs[0].job_id}]`,
      compress_after: '7 days',
    });
    const [settings] = await query(
      db(),
      `SELECT h.compression_enabled,
              (SELECT array_agg(attname::text ORDER BY segmentby_column_index) FROM timescaledb_information.compression_settings
                WHERE hypertable_name = 'health_checks' AND segmentby_column_index IS NOT NULL) AS segment_by
       FROM timescaledb_information.hypertables h WHERE h.hypertable_name = 'health_checks'`,
    );
    expect(settings).toEqual({ compression_enabled: true, segment_by: ['device_id'] });

    const human = await runCli(['compression', 'set', '--dry-run', '--after', '3d', '--database-url', url()]);
    expect(human.stdout).toContain('compression (columnstore) policy');

    const dryRemove = await runCli(['compression', 'remove', '--dry-run', '--json', '--database-url', url()]);
    expect(dryRemove.json().steps.map((s: Step) => s.statements)).toEqual([[REMOVE]]);
    const remove = await runCli(['compression', 'remove', '--json', '--database-url', url()]);
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.json().steps.map((s: Step) => s.statements)).toEqual([[REMOVE]]);
    expect(await policyJobs()).toEqual([]);
  }, 240_000);

  for (const [api, statements] of Object.entries(BY_HAND)) {
    it(`a policy added with ${api} is the same policy: show finds it, set and setup leave it unchanged, remove removes it`, async () => {
      await compressionOff();
      for (const s of statements) await query(db(), s);
      const [job] = await policyJobs();
      expect(job).toBeDefined();

      const show = await runCli(['compression', 'show', '--json', '--database-url', url()]);
      expect(show.code, show.stderr).toBe(0);
      expect(show.json()).toMatchObject({
        enabled: true,
        segmentBy: ['device_id'],
        policy: { jobId: job.job_id, compressAfter: '7 days' },
      });
      const human = await runCli(['compression', 'show', '--database-url', url()]);
      expect(cellAfter(human.stdout, 'compression (columnstore)')).toBe('enabled');

      const before = await snapshot(db());
      const set = await runCli(['compression', 'set', '--json', '--database-url', url()]);
      expect(set.code, set.stderr).toBe(0);
      expect(outcomes(set.json())).toEqual({ compression: 'unchanged', 'compression-policy': 'unchanged' });
      expect(set.json().changed).toBe(false);
      expect(await snapshot(db())).toEqual(before);

      // setup with the fixture's chunk interval and without retention: its compression steps
      // find the hand-made settings and policy; a second run changes nothing at all.
      const args = ['setup', '--chunk-interval', '1d', '--no-retention', '--json', '--database-url', url()];
      const setup = await runCli(args);
      expect(setup.code, setup.stderr).toBe(0);
      expect(outcomes(setup.json())).toMatchObject({ compression: 'unchanged', 'compression-policy': 'unchanged' });
      const again = await runCli(args);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json().changed).toBe(false);
      expect(await policyJobs()).toEqual([job]);

      const remove = await runCli(['compression', 'remove', '--json', '--database-url', url()]);
      expect(remove.code, remove.stderr).toBe(0);
      expect(outcomes(remove.json())).toEqual({ 'compression-policy': 'updated' });
      // Whichever API added it, the columnstore procedure removes it: one job either way.
      expect(remove.json().steps.map((s: Step) => s.statements)).toEqual([[REMOVE]]);
      expect(await policyJobs()).toEqual([]);
    }, 240_000);
  }

  it('before TimescaleDB 2.18 the compression names: what homepot-ts renders for such a server runs on one that still has them, and reads back as the same settings and policy', async () => {
    // No server here is older than 2.18: the version decides, and a 2.28 server still takes the old names.
    expect(['2.13.0', '2.17.2', '2.18.0', '2.23.0-dev', '2.28.3', '3.0.0'].map(hasColumnstoreApi)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    await compressionOff();
    const sql = db().sql();
    const table = await resolveTable(sql, 'health_checks');
    const orderBy = [
      { column: 'timestamp', descending: true },
      { column: 'id', descending: false },
    ];
    const settings = await compressionSettingsStep(sql, {
      table,
      isHypertable: true,
      segmentBy: ['device_id'],
      orderBy,
      columnstore: false,
    });
    const policy = await policyStep(sql, 'compression', {
      table,
      installed: true,
      interval: parseInterval('2 days'),
      columnstore: false,
    });
    const remove = await removePolicyStatement(sql, 'compression', table, false);
    await db().closeClients();
    expect([...settings.statements, ...policy.statements, remove]).toEqual([
      `ALTER TABLE public.health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = '"timestamp" DESC, id')`,
      `SELECT add_compression_policy('public.health_checks'::regclass, compress_after => '2 days'::interval)`,
      `SELECT remove_compression_policy('public.health_checks'::regclass, if_exists => true)`,
    ]);
    for (const s of [...settings.statements, ...policy.statements]) await query(db(), s);
    // A real scheduler starts the new policy at once: hold it, and undo what it may have compressed.
    await holdJobs(db());
    await decompressAll();
    const set = await runCli(['compression', 'set', '--after', '2d', '--json', '--database-url', url()]);
    expect(set.code, set.stderr).toBe(0);
    expect(outcomes(set.json())).toEqual({ compression: 'unchanged', 'compression-policy': 'unchanged' });

    // compression run's statement for such a server: compress_chunk, which compresses the chunk.
    const chunks = await templateQuery<{ chunk_name: string; statement: string }>(
      db().sql(),
      'compression/eligible-chunks.sql',
      ['public', 'health_checks', '2 days', false],
    );
    await db().closeClients();
    expect(chunks.length).toBeGreaterThan(0);
    for (const c of chunks)
      expect(c.statement).toBe(
        `SELECT compress_chunk('_timescaledb_internal.${c.chunk_name}'::regclass, if_not_compressed => true)`,
      );
    await query(db(), chunks[0].statement);
    const [compressed] = await query(
      db(),
      `SELECT is_compressed FROM timescaledb_information.chunks WHERE chunk_name = '${chunks[0].chunk_name}'`,
    );
    expect(compressed).toEqual({ is_compressed: true });

    await query(db(), remove);
    expect(await policyJobs()).toEqual([]);
  }, 240_000);
});
