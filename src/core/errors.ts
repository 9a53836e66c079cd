import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/** Stable machine-readable error kinds, part of the `--json` error shape. */
export type ErrorKind =
  | 'usage'
  | 'config'
  | 'connection-refused'
  | 'connection-timeout'
  | 'host-not-found'
  | 'not-postgresql'
  | 'authentication-failed'
  | 'unknown-database'
  | 'unknown-table'
  | 'unknown-column'
  | 'not-a-hypertable'
  | 'unsuitable-table'
  | 'timescaledb-not-installed'
  | 'timescaledb-not-preloaded'
  | 'timescaledb-edition'
  | 'permission-denied'
  | 'read-only'
  | 'interrupted'
  | 'sql-error'
  | 'internal';

/**
 * An error meant for a person: one line saying what went wrong, a hint saying
 * what to do, and the exit code a pipeline sees. Library functions throw these;
 * only src/cli.ts prints them.
 */
export class HomepotError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  /** SQLSTATE when the error came from the server. */
  readonly sqlstate: string | undefined;

  constructor(
    kind: ErrorKind,
    message: string,
    options: { hint?: string; exitCode?: ExitCodeValue; sqlstate?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HomepotError';
    this.kind = kind;
    this.hint = options.hint;
    this.sqlstate = options.sqlstate;
    this.exitCode = options.exitCode ?? defaultExitCode(kind);
  }
}

/**
 * `text` ending as a sentence, for a message that another sentence (its hint) follows on the
 * same line: a full stop is added unless one of . ! ? ends it already. Hints themselves are
 * left as written: many end in a command to copy, which a full stop would break.
 */
export function endSentence(text: string): string {
  const t = text.trimEnd();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function defaultExitCode(kind: ErrorKind): ExitCodeValue {
  switch (kind) {
    case 'usage':
    case 'config':
      return ExitCode.usage;
    case 'connection-refused':
    case 'connection-timeout':
    case 'host-not-found':
    case 'not-postgresql':
    case 'authentication-failed':
    case 'unknown-database':
      return ExitCode.connection;
    case 'unknown-table':
    case 'unknown-column':
    case 'not-a-hypertable':
    case 'unsuitable-table':
      return ExitCode.notFound;
    case 'timescaledb-not-installed':
    case 'timescaledb-not-preloaded':
    case 'timescaledb-edition':
      return ExitCode.timescaledbMissing;
    case 'permission-denied':
    case 'read-only':
      return ExitCode.permission;
    case 'interrupted':
      return ExitCode.interrupted;
    default:
      return ExitCode.failed;
  }
}
