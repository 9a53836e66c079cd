import type { AggregatesConfig, ConfigFile, TargetConfig } from './config.js';
import { HomepotError } from './errors.js';
import { showValue } from './show.js';

/**
 * Named targets (README, "Named targets"): the config file's `targets` hold a
 * connection and settings per database a pipeline deploys to. A chosen
 * target's settings are layered over the shared ones, key by key, so the rest
 * of the program reads one ConfigFile and the precedence stays flag >
 * environment > target > shared file settings > default.
 */

/** Where the target's name came from: the flag wins over the variable. */
export type TargetNameOrigin = '--target' | 'HOMEPOT_TS_TARGET';

export interface ChosenTarget {
  name: string;
  origin: TargetNameOrigin;
  settings: TargetConfig;
}

export function targetNames(config: ConfigFile): string[] {
  return Object.keys(config.targets ?? {});
}

/**
 * The target a run is for: --target, else HOMEPOT_TS_TARGET, else none. A name
 * the config does not define is bad input (exit 2) naming the known ones.
 */
export function chooseTarget(
  config: ConfigFile,
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ChosenTarget | null {
  const [raw, origin]: [string | undefined, TargetNameOrigin] =
    flag !== undefined ? [flag, '--target'] : [env.HOMEPOT_TS_TARGET, 'HOMEPOT_TS_TARGET'];
  if (raw === undefined) return null;
  if (raw.trim() === '') {
    throw new HomepotError('usage', `${origin} is empty`, {
      hint: 'Give the name of a target from the config file, or unset HOMEPOT_TS_TARGET.',
    });
  }
  const targets = config.targets ?? {};
  if (!Object.hasOwn(targets, raw)) {
    const known = targetNames(config);
    throw new HomepotError(
      'config',
      `unknown target ${showValue(raw)} (${origin}): ${known.length > 0 ? `the config file defines ${known.join(', ')}` : 'the config file defines no targets'}`,
      {
        hint: 'Give one of those names, or add the target under "targets" in the config file (README, "Named targets").',
      },
    );
  }
  return { name: raw, origin, settings: targets[raw]! };
}

function mergeAggregates(shared: AggregatesConfig | undefined, own: AggregatesConfig | undefined) {
  if (!own) return shared;
  const out: AggregatesConfig = { ...shared, ...own };
  for (const view of ['device_metrics_hourly', 'device_metrics_daily', 'site_metrics_hourly'] as const) {
    if (shared?.[view] && own[view]) out[view] = { ...shared[view], ...own[view] };
  }
  return out;
}

/**
 * The settings a target runs with: its own over the shared ones, object by
 * object (`setup`, `aggregates` and each view's policy, `migrate`). The
 * connection is not merged: resolveTarget (src/db/target.ts) takes it from the
 * target itself, so the shared databaseUrl never leaks into a target.
 */
export function configForTarget(config: ConfigFile, target: TargetConfig): ConfigFile {
  const shared: ConfigFile = { ...config };
  delete shared.targets;
  delete shared.databaseUrl;
  delete shared.embedded;
  const out: ConfigFile = { ...shared };
  if (target.connectTimeout !== undefined) out.connectTimeout = target.connectTimeout;
  if (target.lockTimeout !== undefined) out.lockTimeout = target.lockTimeout;
  if (target.setup) out.setup = { ...shared.setup, ...target.setup };
  const aggregates = mergeAggregates(shared.aggregates, target.aggregates);
  if (aggregates) out.aggregates = aggregates;
  if (target.migrate) out.migrate = { ...shared.migrate, ...target.migrate };
  return out;
}
