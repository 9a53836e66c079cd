import type { Sql } from '../db/connection.js';
import type { ResolvedTable } from '../db/names.js';
import type { Step } from '../db/plan.js';
import { compressionSettingsStep, requireCompressionColumns, settingsText } from '../steps/compression-settings.js';
import { POLICIES, policyStep } from '../steps/policy.js';
import type { SetupOptions } from '../setup.js';

/**
 * setup's Community steps: compression settings, the compression policy and
 * the retention policy. Where they cannot be made (--no-compression,
 * --no-retention, no Community edition) the steps say why instead; for
 * retention that includes the cron line that enforces it anyway.
 */

/** Where the policy steps are planned: the table, and what the server can do once the extension exists. */
export interface PolicyPlan {
  table: ResolvedTable;
  isHypertable: boolean;
  /** Compression and policies are possible (Community edition, or an unknown license planned as one). */
  community: boolean;
  /** Why they are not, when `community` is false. */
  notCommunity: string;
  /** The server has (or the extension step installs) the columnstore API: TimescaleDB 2.18+. */
  columnstore: boolean;
}

function unavailable(id: string, title: string, reason: string): Step {
  return { id, title, state: 'not-available', statements: [], reason };
}

/** The compression settings and compression policy steps. */
export async function compressionSteps(sql: Sql, opts: SetupOptions, p: PolicyPlan): Promise<Step[]> {
  const policyTitle = POLICIES.compression.title(opts.compressAfter);
  if (!opts.compression) {
    const reason = 'left alone (--no-compression)';
    return [
      unavailable('compression', 'compression (columnstore) settings', reason),
      unavailable('compression-policy', policyTitle, reason),
    ];
  }
  if (!p.community) {
    // Not applied here, but a column the user named must still exist (exit 4).
    await requireCompressionColumns(sql, p.table, opts.segmentBy, opts.orderBy);
    return [
      {
        ...unavailable('compression', 'compression (columnstore) settings', p.notCommunity),
        wanted: settingsText(opts.segmentBy, opts.orderBy),
      },
      unavailable('compression-policy', policyTitle, p.notCommunity),
    ];
  }
  return [
    await compressionSettingsStep(sql, {
      table: p.table,
      isHypertable: p.isHypertable,
      segmentBy: opts.segmentBy,
      orderBy: opts.orderBy,
      columnstore: p.columnstore,
    }),
    await policyStep(sql, 'compression', {
      table: p.table,
      installed: p.isHypertable,
      interval: opts.compressAfter,
      columnstore: p.columnstore,
    }),
  ];
}

/** The retention policy step, and a warning when retention would drop chunks before they are compressed. */
export async function retentionSteps(
  sql: Sql,
  opts: SetupOptions,
  p: PolicyPlan,
): Promise<{ steps: Step[]; warnings: string[] }> {
  if (opts.retention === null) {
    return {
      steps: [unavailable('retention-policy', 'retention policy', 'left alone (--no-retention)')],
      warnings: [],
    };
  }
  const title = POLICIES.retention.title(opts.retention);
  if (!p.community) {
    const reason = `${p.notCommunity}. Enforce retention from cron instead: homepot-ts retention run --older-than '${opts.retention.text}'`;
    return { steps: [unavailable('retention-policy', title, reason)], warnings: [] };
  }
  const step = await policyStep(sql, 'retention', {
    table: p.table,
    installed: p.isHypertable,
    interval: opts.retention,
  });
  const warnings =
    opts.compression && opts.retention.seconds <= opts.compressAfter.seconds
      ? [
          `retention (${opts.retention.text}) is not longer than the compression age (${opts.compressAfter.text}): chunks will be dropped before, or as soon as, they are compressed.`,
        ]
      : [];
  return { steps: [step], warnings };
}
