import { editionSummary } from '../../db/features.js';
import { formatBytes, formatTime } from '../render/format.js';
import { table } from '../render/table.js';
import { parsePositiveInt } from '../options.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { describeServerKind } from '../../db/capabilities.js';
import { describeEndpoint, type Endpoint } from '../../db/connection.js';
import { getStatus, type StatusReport } from '../../status.js';
import { formatCount } from '../../core/numbers.js';
import { renderJobErrorsTable, renderJobsTable } from './jobs.js';
import { renderAggregatesTable } from './aggregates.js';

export function registerStatus(program: Command, run: RunCommand): void {
  program
    .command('status')
    .description('show the server, TimescaleDB edition, hypertables, aggregates, jobs and recent job errors')
    .option('--errors <n>', 'recent job errors to show', (v) => parsePositiveInt(v, '--errors'), 5)
    .action((opts: { errors: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const report = await withConnection(ctx, async (conn) => {
          const r = await getStatus(conn.sql, { jobErrorLimit: opts.errors });
          return { ...r, endpoint: conn.endpoint };
        });
        printStatus(ctx, report);
      }),
    );
}

/** The JSON shape of `status --json` (README, "JSON output"). */
export function statusJson(report: StatusReport & { endpoint: Endpoint }, target: string) {
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
    warnings: report.warnings,
  };
}

export function printStatus(ctx: CommandContext, report: StatusReport & { endpoint: Endpoint }): void {
  if (ctx.options.json) {
    ctx.printJson(statusJson(report, ctx.target.source));
    return;
  }
  for (const w of report.warnings) ctx.logger.warn(w);
  ctx.print(renderStatus(report, ctx.chalk));
}

export function renderStatus(report: StatusReport & { endpoint: Endpoint }, c: ChalkInstance): string {
  const caps = report.capabilities;
  const ts = caps.timescaledb;
  const out: string[] = [];
  const yes = (b: boolean) => (b ? c.green('yes') : c.red('no'));
  const summary = editionSummary(ts.edition);
  const edition = !summary ? '-' : summary.complete ? c.green(summary.text) : c.yellow(summary.text);
  const role = caps.server.superuser ? `${caps.server.role} (superuser)` : caps.server.role;
  out.push(
    table(
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
      ],
      c,
    ),
  );

  out.push(section(c, 'HOMEPOT tables'));
  out.push(
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
    ),
  );

  if (report.aggregates.some((a) => a.exists)) {
    out.push(section(c, 'Aggregates (freshness)'));
    out.push(renderAggregatesTable(report.aggregates, { chalk: c }));
  }

  if (ts.installedVersion) {
    out.push(section(c, 'Hypertables'));
    out.push(
      report.hypertables.length === 0
        ? c.dim('  none (run homepot-ts setup)')
        : table(
            [
              'hypertable',
              'time column',
              'chunk interval',
              'chunks',
              'compression',
              'compressed',
              'size',
              'before → after',
            ],
            report.hypertables.map((h) => [
              `${h.schema}.${h.name}`,
              h.timeColumn ?? '-',
              h.chunkInterval ?? '-',
              h.chunks,
              h.compressionEnabled ? c.green('on') : 'off',
              `${h.compressedChunks}/${h.chunks}`,
              formatBytes(h.totalBytes),
              h.beforeCompressionBytes
                ? `${formatBytes(h.beforeCompressionBytes)} → ${formatBytes(h.afterCompressionBytes)}`
                : '-',
            ]),
            c,
          ),
    );

    if (caps.features.continuousAggregates) {
      out.push(section(c, 'Continuous aggregates'));
      out.push(
        report.continuousAggregates.length === 0
          ? c.dim('  none (run homepot-ts create-aggregates)')
          : table(
              ['view', 'on', 'real-time', 'refresh policy', 'last refresh'],
              report.continuousAggregates.map((a) => [
                `${a.schema}.${a.name}`,
                a.hypertable,
                a.materializedOnly ? 'no' : 'yes',
                a.policyJobId ? `job ${a.policyJobId}, every ${a.policySchedule}` : c.yellow('none'),
                a.policyLastSuccess ? formatTime(a.policyLastSuccess) : '-',
              ]),
              c,
            ),
      );
    }

    out.push(section(c, 'Background jobs'));
    out.push(report.jobs.length === 0 ? c.dim('  none') : renderJobsTable(report.jobs, c));
    if (caps.features.jobErrors) {
      out.push(section(c, 'Recent job errors'));
      out.push(report.jobErrors.length === 0 ? c.dim('  none') : renderJobErrorsTable(report.jobErrors, c));
    }
  }
  return out.join('\n');
}

function section(c: ChalkInstance, title: string): string {
  return '\n' + c.bold.underline(title);
}
