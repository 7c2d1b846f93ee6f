/** The shape of one CLI subcommand: its declared arguments (parsing, checks and help come from them) and its run. */
import type { FlagSpec, ParsedArgs, PositionalSpec } from './args.js';

/** Where a command writes: one call per line (no trailing newline). */
export interface Io {
  /** A result line (stdout). */
  readonly out: (line: string) => void;
  /** A note or warning (stderr). */
  readonly err: (line: string) => void;
}

/** One subcommand. `run` imports the command's module on first use, so `tidelog --help` loads none of them. */
export interface Command {
  /** The word typed after `tidelog`. */
  readonly name: string;
  /** One line for `tidelog --help` (fits beside the name in 80 columns). */
  readonly summary: string;
  /** Paragraphs for `tidelog <name> --help`. */
  readonly details?: readonly string[];
  /** Positional arguments, all required. */
  readonly positionals: readonly PositionalSpec[];
  /** Every flag the command takes. */
  readonly flags: readonly FlagSpec[];
  /** Example lines for the help. */
  readonly examples?: readonly string[];
  /** Runs the command with checked arguments; resolves with the exit status (0 ok, 1 failed; usage errors are 2). */
  run(args: ParsedArgs, io: Io): Promise<number>;
}

/** A flag's value as a string (for `text`/`choice` flags), or undefined when not given. */
export function textFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  return value === undefined ? undefined : String(value);
}

/** A flag's value as a number (for `int`/`number`/`port` flags), or `fallback` when not given. */
export function numberFlag<F extends number | undefined>(args: ParsedArgs, name: string, fallback: F): number | F {
  const value = args.flags.get(name);
  return typeof value === 'number' ? value : fallback;
}
