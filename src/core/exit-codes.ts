/**
 * Exit codes, documented in README.md ("Exit codes"). Pipelines branch on
 * these, so a number never changes meaning once released.
 */
export const ExitCode = {
  /** Done. */
  ok: 0,
  /** Failed: the server refused a statement, or something unexpected happened. */
  failed: 1,
  /** Bad usage, bad config or bad input (nothing was changed). */
  usage: 2,
  /** Could not connect: refused, unreachable, timed out, authentication, unknown database. */
  connection: 3,
  /** The object named does not exist or is not the right kind (unknown table, not a hypertable). */
  notFound: 4,
  /** A required TimescaleDB feature is missing: not installed, not preloaded, or not in this edition. */
  timescaledbMissing: 5,
  /** Not allowed: missing privilege, or a read-only session (replica). */
  permission: 6,
  /** `--check`: the database does not match the design; changes are pending (nothing was changed). */
  changesPending: 7,
  /** `doctor`: warnings found, no problems. */
  doctorWarnings: 8,
  /** `doctor`: at least one problem found. (9 is skipped: Node itself exits 9 on a bad --env-file.) */
  doctorProblems: 10,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
  /** Terminated (SIGTERM): the running statement was cancelled on the server first. */
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
