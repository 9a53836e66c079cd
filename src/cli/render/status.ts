import { editionSummary } from '../../db/features.js';
/**
 * How `status` reads: its JSON document (also the status part of `demo --json`)
 * and, for people, one section per part of the report: the server, HOMEPOT's
 * tables, the aggregates' freshness, hypertables, continuous aggregates,
 * background jobs and recent job errors. Nothing here talks to the database.
 */
import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../context.js';
import { formatBytes, formatInterval, formatTime } from './format.js';
import { table } from './table.js';
import { renderAggregatesTable } from './aggregates.js';
import { renderJobErrorsTable, renderJobsTable } from './jobs.js';
import { describeServerKind } from '../../db/capabilities.js';
import { describeEndpoint } from '../../db/connection.js';
import { formatCount } from '../../core/numbers.js';
import type { Endpoint, StatusReport } from '../../index.js';

type Report = StatusReport & { endpoint: Endpoint };

/** The JSON shape of `status --json` (README, "JSON output"). */
export function statusJson(report: Report, target: string) {
  const c = report.capabilities;
  return {
    connection: { ...report.endpoint, source: target },
    server: { ...c.server, kind: describeServerKind(c) },
    timescaledb: c.timescaledb,
    role: c.role,
    features: c.features,
    tables: report.tables,
    hypertables: report.hypertables,
    continuousAggregates: report.continuousAggregates,
    aggregates: report.aggregates,
    jobs: report.jobs,
    jobErrors: report.jobErrors,
    scheduler: report.scheduler,
    jobFailures: report.jobFailures,
    warnings: report.warnings,
  };
}

export function printStatus(ctx: CommandContext, report: Report): void {
  if (ctx.options.json) {
    ctx.printJson(statusJson(report, ctx.target.source));
    return;
  }
  for (const w of report.warnings) ctx.logger.warn(w);
  ctx.print(renderStatus(report, ctx.chalk));
}

export function renderStatus(report: Report, c: ChalkInstance): string {
  const out: string[] = [serverSection(report, c), ...tablesSection(report, c), ...aggregatesSection(report, c)];
  if (report.capabilities.timescaledb.installedVersion) {
    out.push(
      ...hypertablesSection(report, c),
      ...continuousAggregatesSection(report, c),
      ...jobsSection(report, c),
      ...jobErrorsSection(report, c),
    );
  }
  return out.join('\n');
}

function section(c: ChalkInstance, title: string): string {
  return '\n' + c.bold.underline(title);
}

function serverSection(report: Report, c: ChalkInstance): string {
  const caps = report.capabilities;
  const ts = caps.timescaledb;
  const yes = (b: boolean) => (b ? c.green('yes') : c.red('no'));
  const summary = editionSummary(ts.edition);
  const edition = !summary ? '-' : summary.complete ? c.green(summary.text) : c.yellow(summary.text);
  const role = caps.server.superuser ? `${caps.server.role} (superuser)` : caps.server.role;
  return table(
    ['Server', ''],
    [
      ['connected to', describeEndpoint(report.endpoint)],
      ['server', describeServerKind(caps)],
      ['PostgreSQL', caps.server.version],
      ['role', role],
      [
        'session',
        caps.server.readOnly ? c.yellow(caps.server.inRecovery ? 'read-only (replica)' : 'read-only') : 'read-write',
      ],
      ['TimescaleDB available', ts.availableVersion ?? c.red('no')],
      ['TimescaleDB installed', ts.installedVersion ?? c.red('no')],
      [
        'preloaded',
        ts.preloaded === null ? c.dim('unknown (needs superuser or pg_read_all_settings)') : yes(ts.preloaded),
      ],
      ['edition', edition],
      ...(ts.installedVersion ? [['job scheduler', schedulerCell(report, c)]] : []),
    ],
    c,
  );
}

/** The scheduler's state and why ("unknown" says what this role cannot see). */
function schedulerCell(report: Report, c: ChalkInstance): string {
  const s = report.scheduler;
  const state = s.state === 'running' ? c.green(s.state) : s.state === 'absent' ? c.yellow(s.state) : c.dim(s.state);
  return `${state} (${s.reason})`;
}

function tablesSection(report: Report, c: ChalkInstance): string[] {
  return [
    section(c, 'HOMEPOT tables'),
    table(
      ['table', 'kind', 'owner', 'rows (estimate)', 'size'],
      report.tables.map((t) => [
        t.schema ? `${t.schema}.${t.name}` : t.name,
        t.exists ? (t.kind === 'hypertable' ? c.green('hypertable') : (t.kind ?? '')) : c.red('missing'),
        t.owner ?? '-',
        formatCount(t.rowEstimate),
        formatBytes(t.totalBytes),
      ]),
      c,
      { middle: ['table'], drop: ['owner', 'kind'] },
    ),
  ];
}

function aggregatesSection(report: Report, c: ChalkInstance): string[] {
  if (!report.aggregates.some((a) => a.exists)) return [];
  return [section(c, 'Aggregates'), renderAggregatesTable(report.aggregates, { chalk: c })];
}

function hypertablesSection(report: Report, c: ChalkInstance): string[] {
  if (report.hypertables.length === 0) return [section(c, 'Hypertables'), c.dim('  none (run homepot-ts setup)')];
  return [
    section(c, 'Hypertables'),
    table(
      ['hypertable', 'time column', 'chunk interval', 'chunks', 'compression', 'compressed', 'size', 'before → after'],
      report.hypertables.map((h) => [
        `${h.schema}.${h.name}`,
        h.timeColumn ?? '-',
        formatInterval(h.chunkInterval),
        h.chunks,
        h.compressionEnabled ? c.green('on') : 'off',
        `${h.compressedChunks}/${h.chunks}`,
        formatBytes(h.totalBytes),
        h.beforeCompressionBytes
          ? `${formatBytes(h.beforeCompressionBytes)} → ${formatBytes(h.afterCompressionBytes)}`
          : '-',
      ]),
      c,
      {
        middle: ['hypertable', 'time column'],
        drop: ['before → after', 'compression', 'time column', 'size'],
      },
    ),
  ];
}

function continuousAggregatesSection(report: Report, c: ChalkInstance): string[] {
  if (!report.capabilities.features.continuousAggregates) return [];
  const title = section(c, 'Continuous aggregates');
  // HOMEPOT's own aggregates are in the Aggregates table: here only the others, if any.
  const ours = new Set(report.aggregates.filter((a) => a.exists).map((a) => `${a.schema}.${a.name}`));
  const others = report.continuousAggregates.filter((a) => !ours.has(`${a.schema}.${a.name}`));
  if (report.continuousAggregates.length === 0) return [title, c.dim('  none (run homepot-ts create-aggregates)')];
  if (others.length === 0) return [];
  return [
    section(c, 'Other continuous aggregates'),
    table(
      ['view', 'on', 'real-time', 'refresh policy', 'last refresh'],
      others.map((a) => [
        `${a.schema}.${a.name}`,
        a.hypertable,
        a.materializedOnly ? 'no' : 'yes',
        a.policyJobId ? `job ${a.policyJobId}, every ${formatInterval(a.policySchedule)}` : c.yellow('none'),
        a.policyLastSuccess ? formatTime(a.policyLastSuccess) : a.policyNeverSucceeded ? c.red('never') : '-',
      ]),
      c,
      { middle: ['view', 'on'], wrap: ['refresh policy'], drop: ['on', 'real-time'] },
    ),
  ];
}

function jobsSection(report: Report, c: ChalkInstance): string[] {
  return [section(c, 'Background jobs'), report.jobs.length === 0 ? c.dim('  none') : renderJobsTable(report.jobs, c)];
}

function jobErrorsSection(report: Report, c: ChalkInstance): string[] {
  if (!report.capabilities.features.jobErrors) return [];
  return [
    section(c, 'Recent job errors'),
    report.jobErrors.length === 0 ? c.dim('  none') : renderJobErrorsTable(report.jobErrors, c),
  ];
}
