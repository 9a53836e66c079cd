import type { Command } from 'commander';
import { parseColumnList, parseOrderBy } from '../core/columns.js';
import type { ConfigFile } from '../core/config.js';
import { HomepotError } from '../core/errors.js';
import { parseInterval, type Interval } from '../core/intervals.js';
import * as kinds from './parse/values.js';
import type { SetupOptions } from '../setup.js';
import {
  AGGREGATE_NAMES,
  checkPolicy,
  POLICY_DEFAULTS,
  type AggregateName,
  type AggregateOptions,
  type RefreshPolicy,
} from '../aggregates/definitions.js';

/**
 * The one home of settings: every shared flag is declared here once, and
 * every setting is resolved here, in one order:
 *
 *   flag  >  environment (HOMEPOT_TS_*)  >  config file  >  the seed's default
 *
 * A command's wiring passes its parsed flags and the context's config and
 * environment; it never reads config keys or defaults itself.
 */

/** The seed's design: 1-week chunks, compress after 7 days, drop after 90 days. */
export const SETUP_DEFAULTS = {
  table: 'health_checks',
  timeColumn: 'timestamp',
  chunkInterval: '7 days',
  compressAfter: '7 days',
  segmentBy: 'device_id',
  orderBy: '"timestamp" DESC, id',
  retention: '90 days',
  lockTimeout: '10 seconds',
} as const;

/** What every resolution reads besides the flags. */
export interface SettingSources {
  config: ConfigFile;
  /** The environment (process.env over the env file). */
  env: Readonly<Record<string, string | undefined>>;
}

/** The settings and their resolved types: setup's options (but dryRun, a plain flag) and a few more. */
export interface Settings extends Omit<SetupOptions, 'dryRun'> {
  aggregateWindow: Interval;
  realTime: boolean;
  /** Seconds to wait for a connection (1-600). */
  connectTimeout: number;
}

/** The raw text of a flag or a value already parsed by its commander argParser. */
type Raw = unknown;

interface Setting<T> {
  /** The flag, for messages. */
  flag: string;
  /** Environment variable, when the setting has one. */
  env?: string;
  /** The config file key path, for messages, and how to read it. */
  configKey: string;
  config: (c: ConfigFile) => Raw;
  fallback: Raw;
  /** Turn a raw value from `where` (flag, variable or key) into the setting. */
  parse: (raw: Raw, where: string) => T;
}

/** A value from the environment or the config file is text; one from a flag was parsed by its argParser already. */
const fromText =
  <T>(kind: (where: string) => (v: string) => T) =>
  (raw: Raw, where: string): T =>
    typeof raw === 'string' ? kind(where)(raw) : (raw as T);
const interval = fromText(kinds.interval);
const bool = (raw: Raw): boolean => Boolean(raw);
/** Seconds: a number in the config file, text on the command line and in the environment; the same bounds. */
const seconds = (raw: Raw, where: string): number => kinds.connectTimeout(where)(String(raw));

const SETTINGS: { [K in keyof Settings]: Setting<Settings[K]> } = {
  table: {
    flag: '--table',
    env: 'HOMEPOT_TS_TABLE',
    configKey: 'setup.table',
    config: (c) => c.setup?.table,
    fallback: SETUP_DEFAULTS.table,
    parse: fromText(kinds.tableName),
  },
  timeColumn: {
    flag: '--time-column',
    configKey: 'setup.timeColumn',
    config: (c) => c.setup?.timeColumn,
    fallback: SETUP_DEFAULTS.timeColumn,
    parse: fromText(kinds.columnName),
  },
  chunkInterval: {
    flag: '--chunk-interval',
    configKey: 'setup.chunkInterval',
    config: (c) => c.setup?.chunkInterval,
    fallback: SETUP_DEFAULTS.chunkInterval,
    parse: interval,
  },
  compression: {
    flag: '--no-compression',
    configKey: 'setup.compression',
    config: (c) => c.setup?.compression,
    fallback: true,
    parse: bool,
  },
  compressAfter: {
    flag: '--compress-after',
    configKey: 'setup.compressAfter',
    config: (c) => c.setup?.compressAfter,
    fallback: SETUP_DEFAULTS.compressAfter,
    parse: interval,
  },
  segmentBy: {
    flag: '--segment-by',
    configKey: 'setup.segmentBy',
    config: (c) => c.setup?.segmentBy,
    fallback: SETUP_DEFAULTS.segmentBy,
    parse: (raw, where) => parseColumnList(raw as string | string[], where, { allowNone: true }),
  },
  orderBy: {
    flag: '--order-by',
    configKey: 'setup.orderBy',
    config: (c) => c.setup?.orderBy,
    fallback: SETUP_DEFAULTS.orderBy,
    parse: (raw, where) => parseOrderBy(raw as string, where),
  },
  retention: {
    flag: '--retention',
    configKey: 'setup.retention',
    config: (c) => c.setup?.retention,
    fallback: SETUP_DEFAULTS.retention,
    parse: (raw, where) => (raw === false ? null : interval(raw, where)),
  },
  require: {
    flag: '--require',
    configKey: 'setup.require',
    config: (c) => c.setup?.require,
    fallback: null,
    parse: (raw) => (raw ?? null) as Settings['require'],
  },
  lockTimeout: {
    flag: '--lock-timeout',
    env: 'HOMEPOT_TS_LOCK_TIMEOUT',
    configKey: 'lockTimeout',
    config: (c) => c.lockTimeout,
    fallback: SETUP_DEFAULTS.lockTimeout,
    parse: fromText(kinds.lockTimeout),
  },
  aggregateWindow: {
    flag: '--window',
    configKey: 'aggregates.window',
    config: (c) => c.aggregates?.window,
    fallback: '7 days',
    parse: interval,
  },
  realTime: {
    flag: '--no-real-time',
    configKey: 'aggregates.realTime',
    config: (c) => c.aggregates?.realTime,
    fallback: true,
    parse: bool,
  },
  connectTimeout: {
    flag: '--connect-timeout',
    env: 'HOMEPOT_TS_CONNECT_TIMEOUT',
    configKey: 'connectTimeout',
    config: (c) => c.connectTimeout,
    fallback: 10,
    parse: seconds,
  },
};

/** The default of a setting, as text for help lines. */
export function settingDefault(key: keyof Settings): string {
  return String(SETTINGS[key].fallback);
}

/** Resolve one setting: flag > environment > config > default. */
export function resolveSetting<K extends keyof Settings>(key: K, flag: Raw, sources: SettingSources): Settings[K] {
  const s = SETTINGS[key];
  if (flag !== undefined) return s.parse(flag, s.flag);
  const fromEnv = s.env ? sources.env[s.env] : undefined;
  if (fromEnv !== undefined) return s.parse(fromEnv, s.env!);
  const fromConfig = s.config(sources.config);
  if (fromConfig !== undefined) return s.parse(fromConfig, s.configKey);
  return s.parse(s.fallback, s.configKey);
}

/** Resolve several settings from a flags object whose keys are the settings' names. */
export function resolveSettings<K extends keyof Settings>(
  keys: readonly K[],
  flags: Partial<Record<K, unknown>>,
  sources: SettingSources,
): Pick<Settings, K> {
  const out = {} as Pick<Settings, K>;
  for (const k of keys) out[k] = resolveSetting(k, flags[k], sources);
  return out;
}

/**
 * The options the user gave (on the command line or in the environment):
 * commander fills in a default for a lone --no-x flag (x: true), which must
 * not win over the config file.
 */
export function explicitFlags<T extends object>(cmd: Command, flags: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (cmd.getOptionValueSource(k) !== 'default') (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Sources for callers that have only a config (library users; the environment is not read). */
export function fromConfig(config: ConfigFile): SettingSources {
  return { config, env: {} };
}

/** Library callers may pass just a config file. */
function asSources(sources: SettingSources | ConfigFile): SettingSources {
  return 'env' in sources && 'config' in sources ? sources : fromConfig(sources);
}

// ---------------------------------------------------------------- setup

/** What the setup-related flags carry once commander has parsed them. */
export interface SetupFlags {
  table?: string;
  timeColumn?: string;
  chunkInterval?: Interval;
  compression?: boolean;
  compressAfter?: Interval;
  segmentBy?: string;
  orderBy?: string;
  /** An interval, or false from --no-retention. */
  retention?: Interval | false;
  require?: 'timescaledb' | 'community';
  lockTimeout?: Interval;
  dryRun?: boolean;
}

const SETUP_KEYS = [
  'table',
  'timeColumn',
  'chunkInterval',
  'compression',
  'compressAfter',
  'segmentBy',
  'orderBy',
  'retention',
  'require',
  'lockTimeout',
] as const;

/** setup's options: flags > environment > config (`setup` and `lockTimeout` keys) > the seed's defaults. */
export function resolveSetupOptions(flags: SetupFlags, sources: SettingSources | ConfigFile): SetupOptions {
  const src = asSources(sources);
  const o = resolveSettings(SETUP_KEYS, flags, src);
  const dup = o.segmentBy.find((s) => o.orderBy.some((i) => i.column === s));
  if (dup) {
    throw new HomepotError('usage', `column "${dup}" is in both --segment-by and --order-by`, {
      hint: 'A column is either a segment-by or an order-by column for compression, not both.',
    });
  }
  return { ...o, dryRun: Boolean(flags.dryRun) };
}

// ---------------------------------------------------------------- create-aggregates

export interface AggregateFlags {
  recreate?: boolean;
  realTime?: boolean;
  window?: Interval;
  materialize?: boolean;
  lockTimeout?: Interval;
  dryRun?: boolean;
}

export const AGGREGATE_WINDOW_DEFAULT = '7 days';

/** Refresh policies: config `aggregates.<name>` over each view's defaults. */
export function resolvePolicies(config: ConfigFile): Record<AggregateName, RefreshPolicy> {
  const c = config.aggregates ?? {};
  const out = {} as Record<AggregateName, RefreshPolicy>;
  for (const name of AGGREGATE_NAMES) {
    const p = c[name] ?? {};
    const d = POLICY_DEFAULTS[name];
    const start = p.startOffset === undefined ? d.startOffset : p.startOffset;
    out[name] = {
      startOffset: start === null ? null : parseInterval(start, `aggregates.${name}.startOffset`),
      endOffset: parseInterval(p.endOffset ?? d.endOffset, `aggregates.${name}.endOffset`),
      schedule: parseInterval(p.schedule ?? d.schedule, `aggregates.${name}.schedule`),
    };
    checkPolicy(name, out[name]);
  }
  return out;
}

/** create-aggregates' options: flags > environment > config (`aggregates`, `lockTimeout`) > defaults. */
export function resolveAggregateOptions(flags: AggregateFlags, sources: SettingSources | ConfigFile): AggregateOptions {
  const src = asSources(sources);
  const o = resolveSettings(
    ['realTime', 'aggregateWindow', 'lockTimeout'],
    flags.window === undefined ? flags : { ...flags, aggregateWindow: flags.window },
    src,
  );
  return {
    policies: resolvePolicies(src.config),
    realTime: o.realTime,
    recreate: Boolean(flags.recreate),
    window: o.aggregateWindow,
    materialize: flags.materialize ?? true,
    lockTimeout: o.lockTimeout,
    dryRun: Boolean(flags.dryRun),
  };
}
