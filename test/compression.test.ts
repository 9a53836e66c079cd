import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable } from './support/homepot.js';
import { cellAfter, expectReadOnlyRefusal, oneLineError, outcomes, query, snapshot } from './support/assertions.js';
import { formatBytes } from '../src/cli/render/format.js';
import { holdJobs, lastRunStartedAt, NOT_TODAY } from './support/jobs.js';

describe('compression: bad input is refused before any SQL runs', () => {
  for (const args of [
    ['compression', 'set', '--after', '7 dayz'],
    ['compression', 'run', '--older-than', '-1 day'],
    ['compression', 'set', '--segment-by', 'device_id', '--order-by', 'device_id'],
    ['compression', 'set', '--order-by', 'a;b'],
  ]) {
    it(args.join(' '), async () => {
      // A dead URL: the error must come before any connection attempt.
      const r = await runCli([...args, '--database-url', 'postgres://u@127.0.0.1:1/db']);
      expect(r.code, r.stderr).toBe(2);
    });
  }
});

describeWithDatabase('timescale', 'compression on TimescaleDB Community', (db) => {
  const url = () => db().url;
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  /**
   * Each test sets up the compression state it needs, whatever the tests before it did:
   * compression off (no policy, nothing compressed), or on with HOMEPOT's settings, a policy
   * compressing after `after` (added as the CLI adds it, not due today) and the `compressed`
   * oldest chunks compressed.
   */
  async function useCompression(state: { after: string; compressed: number } | null): Promise<void> {
    const [h] = await query(
      db(),
      `SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'health_checks'`,
    );
    if (h.compression_enabled) {
      await query(db(), `SELECT remove_compression_policy('health_checks', if_exists => true)`);
      await query(db(), `SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks('health_checks') c`);
      await query(db(), `ALTER TABLE health_checks SET (timescaledb.compress = false)`);
    }
    if (state) {
      await query(
        db(),
        `ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',
           timescaledb.compress_orderby = '"timestamp" DESC, id')`,
      );
      await query(
        db(),
        `SELECT add_compression_policy('health_checks', compress_after => INTERVAL '${state.after}', initial_start => ${NOT_TODAY})`,
      );
      if (state.compressed > 0)
        await query(
          db(),
          `SELECT compress_chunk(c.chunk) FROM (SELECT format('%I.%I', chunk_schema, chunk_name) AS chunk
             FROM timescaledb_information.chunks WHERE hypertable_name = 'health_checks'
             ORDER BY range_start LIMIT ${state.compressed}) c`,
        );
    }
    const [now] = await query(
      db(),
      `SELECT (SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'health_checks') AS enabled,
              (SELECT count(*)::int FROM timescaledb_information.chunks WHERE hypertable_name = 'health_checks' AND is_compressed) AS compressed,
              (SELECT array_agg(config->>'compress_after') FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression') AS after`,
    );
    expect(now).toEqual({
      enabled: state !== null,
      compressed: state?.compressed ?? 0,
      after: state ? [state.after] : null,
    });
  }

  it('set: enables compression and adds the policy; a second run is unchanged', async () => {
    await useCompression(null);
    const dry = await runCli(['--wide', 'compression', 'set', '--dry-run', '--database-url', url()]);
    expect(dry.code, dry.stderr).toBe(0);
    // TimescaleDB 2.18+ (both Community sources): the columnstore API, not the deprecated compression one.
    expect(dry.stdout).toContain(
      `ALTER TABLE public.health_checks SET (timescaledb.enable_columnstore, timescaledb.segmentby = 'device_id', timescaledb.orderby = '"timestamp" DESC, id');`,
    );
    expect(dry.stdout).toContain(
      `CALL add_columnstore_policy('public.health_checks'::regclass, after => '7 days'::interval);`,
    );

    const r = await runCli(['compression', 'set', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      command: 'compression set',
      hypertable: { schema: 'public', name: 'health_checks' },
      changed: true,
    });
    expect(outcomes(r.json())).toEqual({ compression: 'created', 'compression-policy': 'created' });
    // A real scheduler starts the new policy at once and may compress chunks at any time:
    // hold it a day, so the snapshots and chunk counts below see only what the CLI did.
    await holdJobs(db());

    const before = await snapshot(db());
    const again = await runCli(['compression', 'set', '--json', '--database-url', url()]);
    expect(again.code, again.stderr).toBe(0);
    expect(outcomes(again.json())).toEqual({ compression: 'unchanged', 'compression-policy': 'unchanged' });
    expect(again.json().changed).toBe(false);
    const human = await runCli(['compression', 'set', '--database-url', url()]);
    expect(human.stderr).toMatch(/nothing to change/);
    expect(await snapshot(db())).toEqual(before);
  });

  it('set --after: updates exactly the policy (no second policy); then unchanged', async () => {
    await useCompression({ after: '7 days', compressed: 0 });
    const r = await runCli(['compression', 'set', '--after', '2d', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json())).toEqual({ compression: 'unchanged', 'compression-policy': 'updated' });
    const jobs = await query(
      db(),
      `SELECT config FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'`,
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0].config.compress_after).toBe('2 days');
    const again = await runCli(['compression', 'set', '--after', '2 days', '--json', '--database-url', url()]);
    expect(outcomes(again.json())).toEqual({ compression: 'unchanged', 'compression-policy': 'unchanged' });
  });

  it('show: settings, policy and chunk counts, as JSON and for people', async () => {
    await useCompression({ after: '2 days', compressed: 1 });
    const r = await runCli(['compression', 'show', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    // A real server runs a scheduler; the embedded one has none, and says so.
    const scheduler = db().source !== 'embedded';
    const [chunks] = await query(
      db(),
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE is_compressed)::int AS compressed
       FROM timescaledb_information.chunks WHERE hypertable_name = 'health_checks'`,
    );
    expect(j).toMatchObject({
      hypertable: { schema: 'public', name: 'health_checks' },
      available: true,
      reason: null,
      enabled: true,
      segmentBy: ['device_id'],
      orderBy: [
        { column: 'timestamp', descending: true },
        { column: 'id', descending: false },
      ],
      policy: { compressAfter: '2 days', scheduled: true },
      chunks: { total: 4, compressed: chunks.compressed },
      jobScheduler: scheduler,
    });
    expect(chunks).toEqual({ total: 4, compressed: 1 });
    expect(j.policy.lastRunStartedAt).toBe(await lastRunStartedAt(db(), j.policy.jobId));
    if (!scheduler) expect(j.policy.lastRunStartedAt).toBeNull();
    const human = await runCli(['--wide', 'compression', 'show', '--database-url', url()]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('segment by device_id, order by "timestamp" DESC, id');
    expect(human.stdout).toContain(`job ${j.policy.jobId}: compress after 2 days`);
    expect(cellAfter(human.stdout, 'compressed chunks')).toBe(`${chunks.compressed} of 4`);
    if (scheduler) expect(human.stderr).not.toMatch(/No job scheduler/);
    else expect(human.stderr).toMatch(/No job scheduler runs here/);
  });

  it('run --dry-run lists the chunks it would compress and changes nothing', async () => {
    await useCompression({ after: '2 days', compressed: 0 });
    const before = await snapshot(db());
    const r = await runCli(['compression', 'run', '--dry-run', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({
      command: 'compression run',
      dryRun: true,
      changed: false,
      olderThan: '2 days',
      olderThanSource: 'policy',
      chunksCompressed: 0,
    });
    // 4 one-day chunks ending at today's midnight: the 2 oldest end more than 2 days ago.
    expect(j.steps).toHaveLength(2);
    for (const s of j.steps) {
      expect(s.outcome).toBe('skipped');
      expect(s.statements[0]).toMatch(
        /^CALL convert_to_columnstore\('_timescaledb_internal\._hyper_\d+_\d+_chunk'::regclass, if_not_columnstore => true\)$/,
      );
    }
    const human = await runCli(['compression', 'run', '--dry-run', '--database-url', url()]);
    expect(human.stdout).toMatch(/CALL convert_to_columnstore\(/);
    expect(await snapshot(db())).toEqual(before);
  });

  it('run compresses the old chunks, with progress and sizes; stats shows the sizes the server holds', async () => {
    await useCompression({ after: '2 days', compressed: 0 });
    const r = await runCli(['compression', 'run', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    // Not a terminal: plain progress lines, then what was saved.
    expect(r.stderr).toMatch(/compressing: 2\/2 chunks \(100%\)/);
    const chunks = await query(
      db(),
      `SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'health_checks' ORDER BY range_start`,
    );
    expect(chunks.map((c) => c.is_compressed)).toEqual([true, true, false, false]);

    // The sizes as TimescaleDB reports them, per chunk and for the hypertable.
    const server = await query(
      db(),
      `SELECT s.chunk_schema, s.chunk_name, s.compression_status,
              s.before_compression_total_bytes::float8 AS before, s.after_compression_total_bytes::float8 AS after
       FROM chunk_compression_stats('public.health_checks') s
       JOIN timescaledb_information.chunks c ON c.chunk_schema = s.chunk_schema AND c.chunk_name = s.chunk_name
       ORDER BY c.range_start`,
    );
    const [total] = await query(
      db(),
      `SELECT before_compression_total_bytes::float8 AS before, after_compression_total_bytes::float8 AS after
       FROM hypertable_compression_stats('public.health_checks')`,
    );
    const done = server.filter((c) => c.compression_status === 'Compressed');
    expect(done.map((c) => c.chunk_name)).toEqual(chunks.slice(0, 2).map((c) => c.chunk_name));
    const before = done.reduce((n, c) => n + Number(c.before), 0);
    const after = done.reduce((n, c) => n + Number(c.after), 0);
    expect(before).toBeGreaterThan(after);
    expect(r.stderr).toContain(
      `compressed 2 chunks of public.health_checks: ${formatBytes(before)} → ${formatBytes(after)} (${(before / after).toFixed(1)}× smaller)`,
    );

    const stats = await runCli(['compression', 'stats', '--json', '--database-url', url()]);
    expect(stats.code, stats.stderr).toBe(0);
    const [h] = stats.json().hypertables;
    expect(h).toMatchObject({
      schema: 'public',
      name: 'health_checks',
      totalChunks: 4,
      compressedChunks: 2,
      beforeBytes: Number(total.before),
      afterBytes: Number(total.after),
      ratio: Math.round((Number(total.before) / Number(total.after)) * 100) / 100,
    });
    expect(h.ratio).toBeGreaterThan(1);
    expect(h.chunks.map((c: any) => [c.schema, c.name, c.status, c.beforeBytes, c.afterBytes, c.ratio])).toEqual(
      server.map((c) => [
        c.chunk_schema,
        c.chunk_name,
        c.compression_status,
        c.before === null ? null : Number(c.before),
        c.after === null ? null : Number(c.after),
        c.before !== null && c.after !== null && Number(c.after) > 0
          ? Math.round((Number(c.before) / Number(c.after)) * 100) / 100
          : null,
      ]),
    );
    const human = await runCli(['compression', 'stats', '--table', 'health_checks', '--database-url', url()]);
    expect(cellAfter(human.stdout, 'public.health_checks')).toBe(
      `2 of 4 ${formatBytes(h.beforeBytes)} ${formatBytes(h.afterBytes)} ${h.ratio.toFixed(1)}×`,
    );
  });

  it('run again: nothing to compress, and says so', async () => {
    await useCompression({ after: '2 days', compressed: 2 });
    const before = await snapshot(db());
    const r = await runCli(['compression', 'run', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ changed: false, steps: [], chunksCompressed: 0 });
    const human = await runCli(['compression', 'run', '--older-than', '30d', '--database-url', url()]);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(
      /nothing to compress: public\.health_checks has no uncompressed chunks older than 30 days/,
    );
    expect(await snapshot(db())).toEqual(before);
  });

  it('remove: the policy goes, compressed chunks stay compressed (and how to decompress); again: unchanged', async () => {
    await useCompression({ after: '2 days', compressed: 2 });
    const r = await runCli(['compression', 'remove', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json())).toEqual({ 'compression-policy': 'updated' });
    expect(r.json()).toMatchObject({ compressedChunks: 2 });
    expect(r.json().note).toMatch(/stay compressed.*decompress_chunk/);
    expect(
      await query(db(), `SELECT 1 FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'`),
    ).toHaveLength(0);
    const [c] = await query(db(), `SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed`);
    expect(c.n).toBe(2);

    const again = await runCli(['compression', 'remove', '--database-url', url()]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/unchanged/);
    expect(again.stderr).toMatch(
      /2 compressed chunks of public\.health_checks stay compressed.*SELECT decompress_chunk\(c, if_compressed => true\) FROM show_chunks\('public\.health_checks'\) c;/,
    );
    const show = await runCli(['compression', 'show', '--json', '--database-url', url()]);
    expect(show.json()).toMatchObject({ enabled: true, policy: null, chunks: { total: 4, compressed: 2 } });
    // Without a policy, run falls back to the default age (7 days): nothing that old here.
    const run = await runCli(['compression', 'run', '--json', '--database-url', url()]);
    expect(run.json()).toMatchObject({ olderThan: '7 days', olderThanSource: 'default', chunksCompressed: 0 });
  });

  it('unknown table and plain table: exit 4', async () => {
    for (const cmd of ['show', 'set', 'run', 'remove', 'stats']) {
      const r = await runCli(['compression', cmd, '--table', 'nosuch', '--database-url', url()]);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(4);
      oneLineError(r.stderr, /table "nosuch" does not exist/);
    }
    const r = await runCli(['compression', 'set', '--table', 'devices', '--database-url', url()]);
    expect(r.code).toBe(4);
    oneLineError(r.stderr, /public\.devices is a plain table, not a hypertable/);
  });
});

describeWithDatabase('apache', 'compression on TimescaleDB Apache edition', (db) => {
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  it('set, run, remove, stats: exit 5 naming the Community edition; nothing changes', async () => {
    const before = await snapshot(db());
    for (const cmd of ['set', 'run', 'remove', 'stats']) {
      const r = await runCli(['compression', cmd, '--database-url', db().url]);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(5);
      oneLineError(
        r.stderr,
        new RegExp(`^error: compression ${cmd} needs the TimescaleDB Community edition .*Apache-2 edition`),
      );
    }
    const j = await runCli(['compression', 'set', '--json', '--database-url', db().url]);
    expect(JSON.parse(j.stderr).error).toMatchObject({ kind: 'timescaledb-edition', exitCode: 5 });
    expect(await snapshot(db())).toEqual(before);
  });

  it('show: not available and why, exit 0', async () => {
    const r = await runCli(['compression', 'show', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      available: false,
      enabled: false,
      policy: null,
      chunks: { total: 4, compressed: 0 },
    });
    expect(r.json().reason).toMatch(/Community edition.*Apache-2/);
    const human = await runCli(['compression', 'show', '--database-url', db().url]);
    expect(human.stdout).toMatch(/not available/);
    expect(human.stdout).toMatch(/Community edition/);
  });

  it('a read-only session: exit 6 before anything runs', async () => {
    await expectReadOnlyRefusal(
      db(),
      [
        ['compression', 'set'],
        ['compression', 'run'],
        ['compression', 'remove'],
      ],
      /read-only/,
    );
  });
});

describeWithDatabase('postgres-bare', 'compression without TimescaleDB', (db) => {
  it('show says not available (exit 0); set exits 5 naming the Community edition', async () => {
    await db().sql().unsafe(`CREATE TABLE health_checks (id serial, "timestamp" timestamptz NOT NULL)`);
    await db().closeClients();
    const show = await runCli(['compression', 'show', '--json', '--database-url', db().url]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.json()).toMatchObject({ available: false });
    expect(show.json().reason).toMatch(/Community edition; TimescaleDB is not installed/);
    const set = await runCli(['compression', 'set', '--database-url', db().url]);
    expect(set.code).toBe(5);
    oneLineError(set.stderr, /Community edition/);
  });
});

describeWithDatabase('timescale', 'partially compressed chunks (rows inserted after compression)', (db) => {
  const url = () => db().url;
  /** Chunks with TimescaleDB's "partial" status bit (8), as the catalog has it. */
  const partialChunks = async () =>
    (
      await query<{ chunk: string }>(
        db(),
        // The chunks there are (2.28's catalog has no "dropped" column; the view lists live chunks only).
        `SELECT format('%I.%I', k.schema_name, k.table_name) AS chunk FROM _timescaledb_catalog.chunk k
         JOIN timescaledb_information.chunks c ON c.chunk_schema = k.schema_name AND c.chunk_name = k.table_name
         WHERE k.status & 8 <> 0 ORDER BY 1`,
      )
    ).map((r) => r.chunk);

  it('chunks shows them as partially compressed; compression run recompresses them; then nothing is partial', async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
    const set = await runCli(['compression', 'set', '--json', '--database-url', url()]);
    expect(set.code, set.stderr).toBe(0);
    await holdJobs(db());
    const first = await runCli(['compression', 'run', '--older-than', '2 days', '--json', '--database-url', url()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().chunksCompressed).toBeGreaterThanOrEqual(2);
    // Late rows into the oldest (compressed) chunk: they stay uncompressed in it.
    await query(
      db(),
      `INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, endpoint, "timestamp")
       SELECT d.id, true, 20, 200, '/health', t FROM devices d,
         generate_series(date_trunc('day', now()) - INTERVAL '4 days' + INTERVAL '5 minutes',
                         date_trunc('day', now()) - INTERVAL '4 days' + INTERVAL '2 hours', INTERVAL '10 minutes') t`,
    );
    const partial = await partialChunks();
    expect(partial).toHaveLength(1);
    const [rows] = await query<{ n: number }>(db(), `SELECT count(*)::int AS n FROM health_checks`);

    const list = await runCli(['chunks', '--json', '--order', 'oldest', '--database-url', url()]);
    expect(list.code, list.stderr).toBe(0);
    const j = list.json();
    expect(j.partiallyCompressed).toBe(1);
    expect(j.chunks.filter((c: any) => c.partiallyCompressed).map((c: any) => `${c.schema}.${c.name}`)).toEqual(
      partial,
    );
    const human = await runCli(['chunks', '--order', 'oldest', '--database-url', url()]);
    expect(human.stdout).toMatch(/│ partially\s+│/);
    expect(human.stderr).toMatch(/1 partially compressed: rows inserted after compression/);

    const dry = await runCli([
      'compression',
      'run',
      '--older-than',
      '2 days',
      '--dry-run',
      '--json',
      '--database-url',
      url(),
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json().steps.map((s: any) => [s.id, s.current.split(',')[0]])).toEqual([
      [`chunk:${partial[0]}`, 'partially compressed (rows inserted after compression)'],
    ]);
    const r = await runCli(['compression', 'run', '--older-than', '2 days', '--json', '--database-url', url()]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json())).toEqual({ [`chunk:${partial[0]}`]: 'updated' });
    expect(r.json().chunksCompressed).toBe(1);
    expect(await partialChunks()).toEqual([]);
    const [after] = await query<{ n: number }>(db(), `SELECT count(*)::int AS n FROM health_checks`);
    expect(after.n).toBe(rows.n);
    const again = await runCli(['compression', 'run', '--older-than', '2 days', '--json', '--database-url', url()]);
    expect(again.json()).toMatchObject({ changed: false, chunksCompressed: 0 });
  }, 180_000);
});
