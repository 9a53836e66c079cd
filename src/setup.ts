import { featureGap } from './db/features.js';
import { describeServerKind, detectCapabilities, type Capabilities } from './db/capabilities.js';
import { formatOrderBy, quoteIfNeeded, type OrderItem } from './core/columns.js';
import type { Sql } from './db/connection.js';
import { HomepotError } from './core/errors.js';
import type { Interval } from './core/intervals.js';
import { checkConvertible, preflight } from './steps/hypertable.js';
import { findRelation, parseQualifiedName, resolveTable, type ResolvedTable } from './db/names.js';
import { num } from './core/numbers.js';
import { applyOptions, applySteps, withChangeLock, type ApplyResult, type ChangeHooks, type Step } from './db/plan.js';
import { sqlFile, renderStatement } from './db/sql.js';
import { requireOwnerRights } from './db/table-owner.js';

/** What `setup` makes the database look like (README, "setup"). */
export interface SetupOptions {
  table: string;
  timeColumn: string;
  chunkInterval: Interval;
  /** false: leave compression alone (--no-compression). */
  compression: boolean;
  compressAfter: Interval;
  segmentBy: string[];
  orderBy: OrderItem[];
  /** null: no retention policy (--no-retention). */
  retention: Interval | null;
  /** Turn a missing feature into a failure: 'timescaledb' = any edition, 'community' = everything. */
  require: 'timescaledb' | 'community' | null;
  lockTimeout: Interval;
  dryRun: boolean;
}

export interface SetupResult extends ApplyResult {
  server: string;
  edition: Capabilities['timescaledb']['edition'];
  warnings: string[];
}

/** Steps for the extension; separate because everything after it depends on it. */
async function extensionStep(sql: Sql, caps: Capabilities): Promise<Step> {
  const ts = caps.timescaledb;
  const statements = [await renderStatement(sql, 'setup/render-create-extension.sql', [])];
  if (ts.installedVersion)
    return {
      id: 'extension',
      title: 'TimescaleDB extension',
      state: 'in-place',
      current: ts.installedVersion,
      statements,
    };
  if (!ts.availableVersion) {
    return {
      id: 'extension',
      title: 'TimescaleDB extension',
      state: 'not-available',
      statements,
      reason:
        'TimescaleDB is not installed on this server: HOMEPOT keeps working on plain PostgreSQL. Install the timescaledb package for this PostgreSQL version, preload it, restart, and run setup again.',
    };
  }
  return { id: 'extension', title: 'TimescaleDB extension', state: 'needed', wanted: ts.availableVersion, statements };
}

/** Plan everything after the extension. */
async function tableSteps(
  sql: Sql,
  caps: Capabilities,
  opts: SetupOptions,
  extensionWillExist: boolean,
): Promise<{ steps: Step[]; warnings: string[] }> {
  const steps: Step[] = [];
  const warnings: string[] = [];
  const table = await resolveTable(sql, opts.table);
  const installed = Boolean(caps.timescaledb.installedVersion);
  const hasTimescale = installed || extensionWillExist;
  // Before CREATE EXTENSION the license may be unknown (embedded database): plan for Community, say so.
  const edition = caps.timescaledb.edition ?? (hasTimescale ? 'community' : null);
  const community = hasTimescale && edition === 'community';

  // --- hypertable ---
  const hypertableTitle = `${table.display} as a hypertable on ${quoteIfNeeded(opts.timeColumn)}, ${opts.chunkInterval.text} chunks`;
  let isHypertable = false;
  if (!hasTimescale) {
    steps.push({
      id: 'hypertable',
      title: hypertableTitle,
      state: 'not-available',
      statements: [],
      reason: 'needs TimescaleDB (not installed on this server)',
    });
  } else {
    const current = installed
      ? (
          (await sql.unsafe(sqlFile('setup/hypertable-info.sql'), [
            table.schema,
            table.name,
            opts.chunkInterval.text,
          ])) as unknown as {
            column_name: string;
            chunk_interval: string;
            interval_matches: boolean;
          }[]
        )[0]
      : undefined;
    if (current) {
      isHypertable = true;
      if (current.column_name !== opts.timeColumn) {
        throw new HomepotError(
          'unsuitable-table',
          `${table.display} is already a hypertable on ${quoteIfNeeded(current.column_name)}, not ${quoteIfNeeded(opts.timeColumn)}`,
          {
            hint: `Use --time-column ${quoteIfNeeded(current.column_name)}; a hypertable's time column cannot change.`,
          },
        );
      }
      steps.push(
        current.interval_matches
          ? {
              id: 'hypertable',
              title: hypertableTitle,
              state: 'in-place',
              current: `chunks of ${current.chunk_interval}`,
              statements: [],
            }
          : {
              id: 'hypertable',
              title: hypertableTitle,
              state: 'different',
              current: `chunks of ${current.chunk_interval}`,
              wanted: `chunks of ${opts.chunkInterval.text} (new chunks only; existing chunks keep their size)`,
              statements: [
                await renderStatement(sql, 'setup/render-set-chunk-interval.sql', [
                  table.schema,
                  table.name,
                  opts.chunkInterval.text,
                ]),
              ],
            },
      );
    } else {
      if (table.relkind !== 'r') {
        throw new HomepotError(
          'unsuitable-table',
          `${table.display} is not a plain table (it is a ${table.relkind === 'p' ? 'partitioned table' : table.relkind === 'v' ? 'view' : 'relation of kind ' + table.relkind}) and cannot become a hypertable`,
          {
            hint: 'Point --table at an ordinary table.',
          },
        );
      }
      const { info, warnings: w } = await checkConvertible(sql, table, opts.timeColumn);
      warnings.push(...w);
      const [rows] = await sql<
        { any: boolean }[]
      >`SELECT EXISTS (SELECT 1 FROM ${sql(table.schema)}.${sql(table.name)}) AS any`;
      const hasRows = Boolean(rows?.any);
      // Converting moves the rows into chunks: only with the owner's rights (README "Who moves the rows").
      // An empty table moves nothing and runs no code of its owner.
      if (hasRows) await requireOwnerRights(sql, table, 'setup');
      const estimate = num(info.row_estimate) ?? 0;
      steps.push({
        id: 'hypertable',
        title: hypertableTitle,
        state: 'needed',
        statements: [
          await renderStatement(sql, 'setup/render-create-hypertable.sql', [
            table.schema,
            table.name,
            opts.timeColumn,
            opts.chunkInterval.text,
            hasRows,
          ]),
        ],
        ...(hasRows
          ? {
              warning: `${table.display} already holds rows${estimate > 0 ? ` (about ${estimate.toLocaleString('en-US')})` : ''}: converting copies them into chunks while holding an ACCESS EXCLUSIVE lock on the table (no reads or writes) for the whole copy, about 33 s per 4.3 M rows (1.5 GB) measured here. For a large table in use, run homepot-ts migrate-from-postgres instead (online: writes keep flowing), or convert it in a maintenance window.`,
            }
          : {}),
      });
    }
  }

  // --- indexes (every server) ---
  const timeCol = opts.timeColumn;
  const wantedIndexes: { name: string; table: ResolvedTable; columns: string[]; descending: boolean[] }[] = [];
  if (opts.segmentBy.length > 0) {
    wantedIndexes.push({
      name:
        table.name === 'health_checks' && opts.segmentBy.join() === 'device_id'
          ? 'idx_health_checks_device_time'
          : `idx_${table.name}_${opts.segmentBy.join('_')}_time`.slice(0, 63),
      table,
      columns: [...opts.segmentBy, timeCol],
      descending: [...opts.segmentBy.map(() => false), true],
    });
  }
  const devices =
    (await findRelation(sql, { schema: table.schema, name: 'devices' })) ??
    (await findRelation(sql, parseQualifiedName('devices')));
  if (devices && devices.relkind === 'r') {
    wantedIndexes.push({ name: 'idx_devices_site', table: devices, columns: ['site_id'], descending: [false] });
  }
  for (const ix of wantedIndexes) {
    const title = `index ${ix.name} on ${ix.table.display} (${ix.columns.map((c, i) => quoteIfNeeded(c) + (ix.descending[i] ? ' DESC' : '')).join(', ')})`;
    const columnsExist = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_attribute
      WHERE attrelid = ${ix.table.oid} AND attnum > 0 AND NOT attisdropped AND attname = ANY (${ix.columns}::name[])`;
    if ((columnsExist[0]?.n ?? 0) !== new Set(ix.columns).size) {
      steps.push({
        id: `index:${ix.name}`,
        title,
        state: 'not-available',
        statements: [],
        reason: `${ix.table.display} lacks one of the columns ${ix.columns.join(', ')}`,
      });
      continue;
    }
    const [existing] = (await sql.unsafe(sqlFile('setup/matching-index.sql'), [
      ix.table.oid,
      ix.columns,
      ix.descending.map(String),
      ix.name,
    ])) as unknown as { index_name: string }[];
    steps.push(
      existing
        ? { id: `index:${ix.name}`, title, state: 'in-place', current: existing.index_name, statements: [] }
        : {
            id: `index:${ix.name}`,
            title,
            state: 'needed',
            statements: [
              await renderStatement(sql, 'setup/render-create-index.sql', [
                ix.name,
                ix.table.schema,
                ix.table.name,
                ix.columns,
                ix.descending.map(String),
              ]),
            ],
          },
    );
  }

  // --- compression settings and policy (Community) ---
  const wantedCompression = `segment by ${opts.segmentBy.map(quoteIfNeeded).join(', ') || '(none)'}, order by ${formatOrderBy(opts.orderBy)}`;
  const notCommunity = !hasTimescale
    ? 'needs TimescaleDB (not installed on this server)'
    : (featureGap(caps, 'community')?.reason ?? '');
  if (!opts.compression) {
    steps.push({
      id: 'compression',
      title: 'compression settings',
      state: 'not-available',
      statements: [],
      reason: 'left alone (--no-compression)',
    });
    steps.push({
      id: 'compression-policy',
      title: `compression policy (after ${opts.compressAfter.text})`,
      state: 'not-available',
      statements: [],
      reason: 'left alone (--no-compression)',
    });
  } else if (!community) {
    steps.push({
      id: 'compression',
      title: 'compression settings',
      wanted: wantedCompression,
      state: 'not-available',
      statements: [],
      reason: notCommunity,
    });
    steps.push({
      id: 'compression-policy',
      title: `compression policy (after ${opts.compressAfter.text})`,
      state: 'not-available',
      statements: [],
      reason: notCommunity,
    });
  } else {
    steps.push(
      await compressionSettingsStep(sql, { table, isHypertable, segmentBy: opts.segmentBy, orderBy: opts.orderBy }),
    );
    steps.push(
      await policyStep(sql, {
        id: 'compression-policy',
        title: `compression policy (after ${opts.compressAfter.text})`,
        table,
        installed: isHypertable,
        proc: 'policy_compression',
        add: 'add_compression_policy',
        key: 'compress_after',
        interval: opts.compressAfter,
      }),
    );
  }

  // --- retention policy (Community) ---
  if (opts.retention === null) {
    steps.push({
      id: 'retention-policy',
      title: 'retention policy',
      state: 'not-available',
      statements: [],
      reason: 'left alone (--no-retention)',
    });
  } else if (!community) {
    steps.push({
      id: 'retention-policy',
      title: `retention policy (drop after ${opts.retention.text})`,
      state: 'not-available',
      statements: [],
      reason: `${notCommunity}. Enforce retention from cron instead: homepot-ts retention run --older-than '${opts.retention.text}'`,
    });
  } else {
    steps.push(
      await policyStep(sql, {
        id: 'retention-policy',
        title: `retention policy (drop after ${opts.retention.text})`,
        table,
        installed: isHypertable,
        proc: 'policy_retention',
        add: 'add_retention_policy',
        key: 'drop_after',
        interval: opts.retention,
      }),
    );
    if (opts.compression && opts.retention.seconds <= opts.compressAfter.seconds) {
      warnings.push(
        `retention (${opts.retention.text}) is not longer than the compression age (${opts.compressAfter.text}): chunks will be dropped before, or as soon as, they are compressed.`,
      );
    }
  }
  return { steps, warnings };
}

function arraysEqual(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The compression-settings step: compare the hypertable's segment-by and
 * order-by with the wanted ones and, when they differ, render the ALTER TABLE
 * that sets them. Shared by setup and `compression set`.
 */
export async function compressionSettingsStep(
  sql: Sql,
  p: { table: ResolvedTable; isHypertable: boolean; segmentBy: string[]; orderBy: OrderItem[] },
): Promise<Step> {
  const wanted = `segment by ${p.segmentBy.map(quoteIfNeeded).join(', ') || '(none)'}, order by ${formatOrderBy(p.orderBy)}`;
  const settingsStatement = await renderStatement(sql, 'setup/render-compression-settings.sql', [
    p.table.schema,
    p.table.name,
    p.segmentBy,
    p.orderBy.map((o) => o.column),
    p.orderBy.map((o) => String(o.descending)),
  ]);
  let current:
    { compression_enabled: boolean; segment_by: string[]; order_by: string[]; order_by_desc: boolean[] } | undefined;
  if (p.isHypertable) {
    [current] = (await sql.unsafe(sqlFile('setup/compression-settings.sql'), [
      p.table.schema,
      p.table.name,
    ])) as unknown as (typeof current)[];
  }
  const currentOrder: OrderItem[] = (current?.order_by ?? []).map((column, i) => ({
    column,
    descending: Boolean(current?.order_by_desc[i]),
  }));
  const same =
    Boolean(current?.compression_enabled) &&
    arraysEqual(current!.segment_by, p.segmentBy) &&
    arraysEqual(
      currentOrder.map((o) => `${o.column}/${o.descending}`),
      p.orderBy.map((o) => `${o.column}/${o.descending}`),
    );
  const currentText = current?.compression_enabled
    ? `segment by ${current.segment_by.map(quoteIfNeeded).join(', ') || '(none)'}, order by ${formatOrderBy(currentOrder)}`
    : 'off';
  return {
    id: 'compression',
    title: 'compression settings',
    wanted,
    current: currentText,
    state: same ? 'in-place' : current?.compression_enabled ? 'different' : 'needed',
    statements: same ? [] : [settingsStatement],
  };
}

export async function policyStep(
  sql: Sql,
  p: {
    id: string;
    title: string;
    table: ResolvedTable;
    installed: boolean;
    proc: string;
    add: string;
    key: string;
    interval: Interval;
  },
): Promise<Step> {
  const existing = p.installed
    ? (
        (await sql.unsafe(sqlFile('setup/policy.sql'), [
          p.table.schema,
          p.table.name,
          p.proc,
          p.key,
          p.interval.text,
        ])) as unknown as {
          job_id: number;
          config: unknown;
          current_value: string | null;
          matches: boolean | null;
        }[]
      )[0]
    : undefined;
  if (!existing) {
    return {
      id: p.id,
      title: p.title,
      state: 'needed',
      wanted: `${p.key} ${p.interval.text}`,
      statements: [
        await renderStatement(sql, 'setup/render-add-policy.sql', [
          p.add,
          p.table.schema,
          p.table.name,
          p.key,
          p.interval.text,
        ]),
      ],
    };
  }
  if (existing.matches)
    return {
      id: p.id,
      title: p.title,
      state: 'in-place',
      current: `job ${existing.job_id}, ${p.key} ${existing.current_value}`,
      statements: [],
    };
  return {
    id: p.id,
    title: p.title,
    state: 'different',
    current: `job ${existing.job_id}, ${p.key} ${existing.current_value}`,
    wanted: `${p.key} ${p.interval.text}`,
    statements: [
      await renderStatement(sql, 'setup/render-alter-policy.sql', [
        existing.job_id,
        JSON.stringify(existing.config),
        p.key,
        p.interval.text,
      ]),
    ],
  };
}

/**
 * Make the database match the HOMEPOT design, or (dryRun) say what that
 * would take. Takes the change lock so concurrent runs queue; plans after
 * taking it, so a run that waited sees the work already done.
 */
export async function runSetup(sql: Sql, opts: SetupOptions, hooks: ChangeHooks = {}): Promise<SetupResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      let caps = await detectCapabilities(conn);
      preflight(caps, opts);
      const ext = await extensionStep(conn, caps);
      const apply = (steps: Step[]) => applySteps(conn, steps, applyOptions(opts, hooks));
      const first = await apply([ext]);
      if (first.failedStep) return { ...first, server: '', edition: caps.timescaledb.edition, warnings: [] };
      if (first.changed) {
        caps = await detectCapabilities(conn);
        preflight(caps, opts);
      }
      const { steps, warnings } = await tableSteps(conn, caps, opts, ext.state === 'needed');
      const rest = await apply(steps);
      const all = [...first.steps, ...rest.steps];
      return {
        dryRun: opts.dryRun,
        changed: first.changed || rest.changed,
        steps: all,
        failedStep: rest.failedStep,
        server: describeServerKind(caps),
        edition: caps.timescaledb.edition,
        warnings: [...warnings, ...all.filter((s) => s.warning && s.outcome !== 'unchanged').map((s) => s.warning!)],
      };
    },
    hooks.onWait,
  );
}
