/**
 * Usage errors found by the argument parser, as the tool's own errors: one
 * line (one JSON object under --json) naming the problem, with the values the
 * user typed shown safely (./values.ts), never commander's second line or help.
 * Also what commander does not check: an unknown word where a command with a
 * default subcommand expects a subcommand (`jobs errorz`), and flags that
 * contradict each other (`--retention 30d --no-retention`).
 */
import type { Command, CommanderError } from 'commander';
import { HomepotError } from '../../core/errors.js';
import { showValue } from '../../core/show.js';

/** `homepot-ts jobs run`, for hints. */
function commandPath(cmd: Command | undefined): string {
  const names: string[] = [];
  for (let c = cmd; c; c = c.parent ?? undefined) names.unshift(c.name());
  return names.join(' ') || 'homepot-ts';
}

/** Edit distance (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidates (within 40% of the word's length), for "did you mean". */
function similar(word: string, candidates: string[]): string[] {
  if (word.length > 40) return [];
  const scored = candidates
    .map((c) => ({ c, d: distance(word, c) }))
    .filter((s) => s.d <= Math.max(1, word.length * 0.4));
  const best = Math.min(...scored.map((s) => s.d));
  return scored.filter((s) => s.d === best).map((s) => s.c);
}

function subcommandNames(cmd: Command): string[] {
  return cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

function unknownSubcommand(parent: Command, word: string): HomepotError {
  const near = similar(word, subcommandNames(parent));
  const mean = near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : '';
  return new HomepotError('usage', `unknown command ${showValue(word)} for '${commandPath(parent)}'${mean}`, {
    hint: `Its commands: ${subcommandNames(parent).join(', ')} (${commandPath(parent)} --help).`,
  });
}

/** What the parser saw, per command: each option's flags and raw values as given. */
type Seen = Map<Command, Map<string, { flag: string; value: string | undefined }[]>>;

function watchOptions(cmd: Command, seen: Seen): void {
  for (const option of cmd.options) {
    const key = option.attributeName();
    cmd.on(`option:${option.name()}`, (value?: string) => {
      const byKey = seen.get(cmd) ?? new Map<string, { flag: string; value: string | undefined }[]>();
      seen.set(cmd, byKey);
      byKey.set(key, [...(byKey.get(key) ?? []), { flag: option.long ?? option.flags, value }]);
    });
  }
}

/** A flag given twice with different values, or with its --no- form: which one was meant is a guess. */
function checkConflicts(cmd: Command, seen: Seen): void {
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const given of seen.get(c)?.values() ?? []) {
      const flags = [...new Set(given.map((g) => g.flag))];
      if (flags.length > 1) {
        throw new HomepotError('usage', `${flags.join(' and ')} contradict each other`, {
          hint: 'Give one of them.',
        });
      }
      const values = [...new Set(given.map((g) => g.value))];
      if (values.length > 1) {
        throw new HomepotError('usage', `${flags[0]} is given twice with different values`, {
          hint: `Give ${flags[0]} once.`,
        });
      }
    }
  }
}

/**
 * Hook the checks into every command of the program; returns the command the
 * parser reached last (for the hint of a usage error).
 */
export function watchUsage(program: Command): { current: () => Command } {
  const seen: Seen = new Map();
  let current: Command = program;
  const visit = (cmd: Command) => {
    watchOptions(cmd, seen);
    if (cmd.commands.length > 0) {
      cmd.hook('preSubcommand', (parent, sub) => {
        current = sub;
        // The default subcommand was chosen although a word was given: that word is no subcommand.
        const word = parent.args[0];
        if (word !== undefined && !word.startsWith('-') && !subcommandNames(parent).includes(word)) {
          throw unknownSubcommand(parent, word);
        }
      });
    }
    cmd.commands.forEach(visit);
  };
  visit(program);
  program.hook('preAction', (_program, action) => checkConflicts(action, seen));
  return { current: () => current };
}

/** A CommanderError (already kept silent) as the tool's own usage error, one line. */
export function usageError(err: CommanderError, current: Command): HomepotError {
  const hint = `See ${commandPath(current)} --help.`;
  const unknown = /^error: unknown (option|command) '([\s\S]*)'(?:\s*\(Did you mean ([^)]*)\?\))?$/.exec(err.message);
  if (unknown) {
    const [, what, value = '', mean] = unknown;
    if (what === 'option' && /^-\s*\d/.test(value)) {
      return new HomepotError('usage', `${showValue(value)} is negative; values here are positive (7d, 10)`, {
        hint,
      });
    }
    const near = mean ? ` (did you mean ${mean}?)` : '';
    if (what === 'command') {
      return new HomepotError('usage', `unknown command ${showValue(value)}${near}`, {
        hint: `Commands: ${subcommandNames(current).join(', ')} (${commandPath(current)} --help).`,
      });
    }
    return new HomepotError('usage', `unknown option ${showValue(value)}${near}`, { hint });
  }
  const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return new HomepotError('usage', message, { hint });
}
