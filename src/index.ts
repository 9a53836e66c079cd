// The library: everything the CLI does, callable from programs and tests.
// Each command in src/cli/commands/ calls the functions exported here; README "Library" shows one in use.

// Connecting: pick a target as the CLI does (flags > env > config), connect, read what the server can do.
export { connectUrl, connectTarget, describeEndpoint, APPLICATION_NAME, TARGET_SEARCH_PATH } from './db/connection.js';
export { describeError } from './db/describe-error.js';
export type { Connection, ConnectOptions, Endpoint, Sql } from './db/connection.js';
export { resolveTarget, resolveSourceUrl, normalizeUrl, readEnvFile, DEFAULT_EMBEDDED_DIR } from './db/target.js';
export type { Target, TargetInputs, TargetSource, SourceUrlOrigin } from './db/target.js';
export { startEmbedded } from './db/embedded.js';
export type { EmbeddedOptions, EmbeddedServer } from './db/embedded.js';
export { detectCapabilities, describeServerKind, requireWritable, HOMEPOT_TABLES } from './db/capabilities.js';
export { requireFeature, featureGap, hasFeature, COMMUNITY_HINT } from './db/features.js';
export type { Feature, FeatureGap } from './db/features.js';
export type { Capabilities, Edition, SchedulerInfo, TableAccess } from './db/capabilities.js';
export { loadConfig, validateConfig } from './core/config.js';
export type {
  ConfigFile,
  LoadedConfig,
  SetupConfig,
  AggregatesConfig,
  AggregatePolicyConfig,
  MigrateConfig,
  TargetConfig,
} from './core/config.js';
export { chooseTarget, configForTarget, targetNames } from './core/config-targets.js';
export type { ChosenTarget, TargetNameOrigin } from './core/config-targets.js';
export { createLogger } from './core/logger.js';
export type { Logger, LoggerOptions } from './core/logger.js';

// Errors and exit codes.
export { HomepotError } from './core/errors.js';
export type { ErrorKind } from './core/errors.js';
export { ExitCode } from './core/exit-codes.js';
export type { ExitCodeValue } from './core/exit-codes.js';

// Inputs: intervals, column lists, table names.
export { parseInterval } from './core/intervals.js';
export type { Interval } from './core/intervals.js';
export { parseColumnList, parseOrderBy, formatOrderBy } from './core/columns.js';
export type { OrderItem } from './core/columns.js';
export { parseQualifiedName, resolveTable, findRelation } from './db/names.js';
export type { QualifiedName, ResolvedTable } from './db/names.js';

// Plans: what every changing command returns (dryRun: the plan only).
export { planFailure } from './db/plan.js';
export type { ApplyResult, ChangeHooks, Outcome, Step, StepResult, StepState } from './db/plan.js';

// setup
export { runSetup } from './setup.js';
export type { SetupOptions, SetupResult } from './setup.js';
// Settings as the CLI resolves them: flags > environment > config > defaults.
export {
  resolveSetupOptions,
  resolveAggregateOptions,
  resolvePolicies,
  resolveSetting,
  resolveSettings,
  SETUP_DEFAULTS,
  AGGREGATE_WINDOW_DEFAULT,
} from './cli/options.js';
export type { SetupFlags, AggregateFlags, Settings, SettingSources } from './cli/options.js';

// status, chunks, jobs
export { getStatus, listHypertables, listContinuousAggregates } from './status.js';
export type { StatusReport, HypertableInfo, ContinuousAggregateInfo, HomepotTableInfo } from './status.js';
export { summarizeTargets, ALL_TARGETS_CONCURRENCY } from './status-targets.js';
export type { TargetSummary, TargetToSummarize } from './status-targets.js';
export { runDoctor } from './doctor/doctor.js';
export type { DoctorReport, DoctorOptions, DoctorCheck, CheckStatus, CheckGroup, Fix } from './doctor/doctor.js';
export { listChunks } from './chunks.js';
export { preflight, checkConvertible, checkTimeColumn, resolveHypertable } from './steps/hypertable.js';
export type { TableInfo } from './steps/hypertable.js';
export type { ChunkInfo, ChunksReport } from './chunks.js';
export { listJobs, listJobErrors, showJobs, showJobErrors, findJob, runJob, setJobScheduled } from './jobs.js';
export type { JobRow, JobErrorRow, JobRef, JobRunResult, JobScheduleResult } from './jobs.js';

// retention, compression, chunk-interval
export { showRetention, setRetention, removeRetention } from './tuning/retention.js';
export type { RetentionPolicy, RetentionReport } from './tuning/retention.js';
export { runRetention } from './tuning/retention-run.js';
export type { RetentionRunOptions, RetentionRunProgress, RetentionRunResult } from './tuning/retention-run.js';
export type { ChangeOptions, TuningResult } from './tuning/change.js';
export { showCompression, setCompression, removeCompressionPolicy, describeSettings } from './tuning/compression.js';
export type {
  CompressionChangeResult,
  CompressionPolicy,
  CompressionRemoveResult,
  CompressionSetOptions,
  CompressionShow,
  HypertableName,
} from './tuning/compression.js';
export { runCompression } from './tuning/compression-run.js';
export type { CompressionRunOptions, CompressionRunResult } from './tuning/compression-run.js';
export { compressionStats } from './tuning/compression-stats.js';
export type { ChunkCompressionStats, HypertableCompressionStats } from './tuning/compression-stats.js';
export { showChunkInterval, setChunkInterval } from './tuning/chunk-interval.js';
export type { ChunkIntervalReport } from './tuning/chunk-interval.js';

// aggregates
export { AGGREGATE_NAMES, describePolicy } from './aggregates/definitions.js';
export type { AggregateKind, AggregateName, AggregateOptions, RefreshPolicy } from './aggregates/definitions.js';
export { listAggregates } from './aggregates/inspect.js';
export type { AggregateInfo } from './aggregates/inspect.js';
export { runCreateAggregates } from './aggregates/create.js';
export type { CreateAggregatesResult } from './aggregates/create.js';
export { resolveTime, runRefresh } from './aggregates/refresh.js';
export type { MaterializeProgress, MaterializeResult, RefreshResult } from './aggregates/refresh.js';
export { runDrop, runSetPolicy } from './aggregates/manage.js';
export { exampleQueries } from './demo/example-queries.js';
export type { ExampleQueryResult } from './demo/example-queries.js';

// migrate (in place, online, from a --source server; finish; cleanup)
export { MIGRATE_DEFAULTS, runMigrate, runMigrateCleanup } from './migrate/migrate.js';
export type {
  CleanupResult,
  LockHeld,
  MigrateHooks,
  MigrateOptions,
  MigrateProgress,
  MigrateResult,
  PlannedStep,
  Strategy,
} from './migrate/migrate.js';
export { runMigrateRemote, runMigrateFinish } from './migrate/migrate.js';
export type { CatchUp, FinishResult, Verification } from './migrate/migrate.js';

// demo
export { applyHomepotSchema } from './demo/schema.js';
export { loadFleet, planFleet } from './demo/fleet-data.js';
export { runDemo } from './demo/pipeline.js';
export type { DemoOptions, DemoHooks, DemoResult } from './demo/pipeline.js';
export type { FleetPlan, FleetSpec, LoadMethod, LoadProgress, LoadResult } from './demo/fleet-data.js';
