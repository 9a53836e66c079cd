import type { Capabilities } from '../db/capabilities.js';
import { hasFeature } from '../db/features.js';
import { HomepotError } from '../core/errors.js';
import { parseInterval, type Interval } from '../core/intervals.js';
import { sqlFile } from '../db/sql.js';

/**
 * What HOMEPOT's three aggregates are (seed, "Continuous Aggregates"): their
 * names, bucket widths and group keys, the SQL files that define them
 * (sql/aggregates/<kind>/<name>.sql), which kind a server gets, and their
 * refresh policies (defaults, the check TimescaleDB would make, how one
 * reads). On the TimescaleDB Community edition they are continuous
 * aggregates with refresh policies; elsewhere (Apache edition, plain
 * PostgreSQL) ordinary tables with the same names and columns, kept current
 * window by window by `homepot-ts aggregates refresh` (cron), so that they
 * keep their history when retention drops raw rows (earlier versions made
 * materialized views, which a REFRESH recomputed from the remaining raw
 * rows). Nothing here talks to the database.
 */
export const AGGREGATE_NAMES = ['device_metrics_hourly', 'device_metrics_daily', 'site_metrics_hourly'] as const;
export type AggregateName = (typeof AGGREGATE_NAMES)[number];

export interface AggregateDefinition {
  name: AggregateName;
  /** Bucket width, and the bucket column's name. */
  bucket: Interval;
  timeColumn: 'hour' | 'day';
  /** The group key besides time. */
  key: 'device_id' | 'site_id';
}

export const AGGREGATES: readonly AggregateDefinition[] = [
  { name: 'device_metrics_hourly', bucket: parseInterval('1 hour'), timeColumn: 'hour', key: 'device_id' },
  { name: 'device_metrics_daily', bucket: parseInterval('1 day'), timeColumn: 'day', key: 'device_id' },
  { name: 'site_metrics_hourly', bucket: parseInterval('1 hour'), timeColumn: 'hour', key: 'site_id' },
];

export function aggregateDefinition(name: string): AggregateDefinition {
  const def = AGGREGATES.find((a) => a.name === name);
  if (!def) {
    throw new HomepotError('usage', `"${name}" is not one of HOMEPOT's aggregates`, {
      hint: `Use one of: ${AGGREGATE_NAMES.join(', ')}.`,
    });
  }
  return def;
}

/** A refresh policy (continuous aggregates): what the seed's "Performance Tuning" example sets. */
export interface RefreshPolicy {
  /** null: refresh from the beginning of the data. */
  startOffset: Interval | null;
  endOffset: Interval;
  schedule: Interval;
}

/**
 * Defaults: the hourly views refresh every hour, the daily one every 6 hours
 * (issue 4). The start offsets reach back far enough to pick up late health
 * checks (a device that buffered while offline) without re-reading old
 * history: a refresh only recomputes buckets that changed.
 */
export const POLICY_DEFAULTS: Record<AggregateName, { startOffset: string; endOffset: string; schedule: string }> = {
  device_metrics_hourly: { startOffset: '3 days', endOffset: '1 hour', schedule: '1 hour' },
  device_metrics_daily: { startOffset: '7 days', endOffset: '1 hour', schedule: '6 hours' },
  site_metrics_hourly: { startOffset: '3 days', endOffset: '1 hour', schedule: '1 hour' },
};

export function defaultPolicies(): Record<AggregateName, RefreshPolicy> {
  return Object.fromEntries(
    AGGREGATE_NAMES.map((n) => [
      n,
      {
        startOffset: parseInterval(POLICY_DEFAULTS[n].startOffset),
        endOffset: parseInterval(POLICY_DEFAULTS[n].endOffset),
        schedule: parseInterval(POLICY_DEFAULTS[n].schedule),
      },
    ]),
  ) as Record<AggregateName, RefreshPolicy>;
}

/** What this tool creates: a continuous aggregate (Community) or an aggregate table (elsewhere). */
export type AggregateKind = 'continuous' | 'table';

export interface AggregateOptions {
  policies: Record<AggregateName, RefreshPolicy>;
  /** Continuous aggregates answer with real-time rows (materialized_only = false). */
  realTime: boolean;
  /** Drop and rebuild aggregates whose definition differs from ours. */
  recreate: boolean;
  /** Materialize history in windows of this length, oldest first. */
  window: Interval;
  /** false: create only (WITH NO DATA); the policy or `aggregates refresh` fills them later. */
  materialize: boolean;
  lockTimeout: Interval;
  dryRun: boolean;
}

/** Refuse a policy TimescaleDB would refuse, before anything runs. */
export function checkPolicy(name: AggregateName, p: RefreshPolicy): void {
  const bucket = aggregateDefinition(name).bucket;
  if (p.startOffset && p.startOffset.seconds < p.endOffset.seconds + 2 * bucket.seconds) {
    throw new HomepotError(
      'usage',
      `${name}: the refresh window (start offset ${p.startOffset.text}, end offset ${p.endOffset.text}) must cover at least two ${bucket.text} buckets`,
      {
        hint: `Make the start offset at least the end offset plus ${(2 * bucket.seconds) / 3600} hours.`,
      },
    );
  }
}

export function describePolicy(p: { startOffset: string | null; endOffset: string | null; schedule: string }): string {
  return `every ${p.schedule}, window ${p.startOffset ?? 'all history'} → ${p.endOffset ?? 'now'} ago`;
}

/** describePolicy of a policy we want. */
export const policyText = (p: RefreshPolicy) =>
  describePolicy({ startOffset: p.startOffset?.text ?? null, endOffset: p.endOffset.text, schedule: p.schedule.text });

/**
 * What a name can be found to be: one of our kinds, a materialized view
 * (what earlier versions made where there are no continuous aggregates; ours
 * when its definition is, and then turned into a table), or something else.
 */
export type FoundKind = AggregateKind | 'materialized' | 'other';

/** How each kind reads in plans and warnings. */
export const KIND_TEXT: Record<FoundKind, string> = {
  continuous: 'continuous aggregate',
  table: 'aggregate table',
  materialized: 'materialized view',
  other: 'something else',
};

/** KIND_TEXT with its article: "an aggregate table", "a continuous aggregate". */
export function kindWithArticle(kind: FoundKind): string {
  const text = KIND_TEXT[kind];
  return `${/^[aeiou]/.test(text) ? 'an' : 'a'} ${text}`;
}

/** Which kind this server gets: continuous aggregates need the Community edition. */
export function aggregateKind(caps: Capabilities): AggregateKind {
  return hasFeature(caps, 'community') ? 'continuous' : 'table';
}

/** The comment that marks an aggregate table as homepot-ts's own (sql/aggregates/table/<name>.sql). */
export const TABLE_COMMENT = 'homepot-ts aggregate table, kept current by homepot-ts aggregates refresh';

/** What cron runs where there are no refresh policies. */
export const REFRESH_CRON_LINE = '*/15 * * * * homepot-ts aggregates refresh --quiet';

// ---------------------------------------------------------------------------
// Definitions (sql/aggregates/<kind>/<name>.sql)
// ---------------------------------------------------------------------------

/** Where a definition lives, as plans name it. */
export const definitionPath = (kind: AggregateKind, name: AggregateName) => `sql/aggregates/${kind}/${name}.sql`;

function definitionFile(kind: AggregateKind, name: AggregateName): string {
  return sqlFile(`aggregates/${kind}/${name}.sql`);
}

/** The statements of one of our definition files, without their comments. */
export function definitionStatements(kind: AggregateKind, name: AggregateName): string[] {
  return definitionFile(kind, name)
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The SELECT of a definition: what we compare with the stored definition (an aggregate table's also with the materialized view an earlier version made). */
export function definitionQuery(kind: AggregateKind, name: AggregateName): string {
  const m = definitionFile(kind, name).match(/^SELECT[\s\S]*?(?=^WITH NO DATA)/m);
  if (!m) throw new HomepotError('internal', `${definitionPath(kind, name)} has no SELECT ... WITH NO DATA`);
  return m[0];
}

/**
 * An aggregate table's SELECT restricted to raw rows in a window: a WHERE on
 * hc."timestamp" before its GROUP BY (so the planner can use the time index
 * and skip chunks), with %1$L / %2$L where the bounds go, for
 * sql/aggregates/lib/render-refresh-table.sql to fill in.
 */
export function windowedQuery(name: AggregateName): string {
  const q = definitionQuery('table', name);
  const parts = q.split(/^GROUP BY /m);
  if (q.includes('%') || parts.length !== 2) {
    throw new HomepotError('internal', `${definitionPath('table', name)}: expected one GROUP BY line and no %`);
  }
  return `${parts[0]}WHERE hc."timestamp" >= %1$L::timestamptz AND hc."timestamp" < %2$L::timestamptz\nGROUP BY ${parts[1]}`;
}
