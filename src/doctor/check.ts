/**
 * One doctor check's result and the helpers every group builds them with.
 * A check says what it found (a few words for people, the figures for
 * machines) and, when something is to be done, the exact fix: a homepot-ts
 * command, SQL, or a postgresql.conf line.
 */

export type CheckStatus = 'ok' | 'warning' | 'problem' | 'n/a';

export type CheckGroup =
  'extension' | 'scheduler' | 'jobs' | 'chunks' | 'compression' | 'retention' | 'aggregates' | 'indexes' | 'tables';

export interface Fix {
  kind: 'command' | 'sql' | 'config';
  text: string;
}

export interface DoctorCheck {
  /** Stable id, e.g. `scheduler`, `jobs-failing`, `chunk-memory`. */
  id: string;
  group: CheckGroup;
  status: CheckStatus;
  /** What was found, in a few words (n/a: why the check does not apply). */
  finding: string;
  /** The figures behind the finding. */
  found: Record<string, unknown>;
  fix: Fix | null;
}

/** Builds checks of one group. */
export function checker(group: CheckGroup) {
  const make =
    (status: CheckStatus) =>
    (id: string, finding: string, found: Record<string, unknown> = {}, fix: Fix | null = null): DoctorCheck => ({
      id,
      group,
      status,
      finding,
      found,
      fix,
    });
  return { ok: make('ok'), warning: make('warning'), problem: make('problem'), na: make('n/a') };
}

export const command = (text: string): Fix => ({ kind: 'command', text });
export const sqlFix = (text: string): Fix => ({ kind: 'sql', text });
export const config = (text: string): Fix => ({ kind: 'config', text });

/** "3 jobs" / "1 job". */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** Bytes for people: 512 kB, 1.5 MB, 2.0 GB. */
export function bytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** Seconds for people, coarsely: 45 s, 12 min, 5 h, 3 days. */
export function ago(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
