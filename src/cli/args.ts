/**
 * The command line's one parser: `node:util` `parseArgs` in strict mode (unknown
 * flags, a missing value and a value given to a switch are errors), then every
 * value checked against its declared kind. Each command declares its flags once;
 * the same declaration drives parsing, validation and `--help`.
 */
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../core/errors.js';

/** What a flag's value must be. */
export type FlagKind = 'switch' | 'text' | 'int' | 'number' | 'port' | 'choice';

/** One `--flag`. */
export interface FlagSpec {
  /** The name after `--`, kebab-case. */
  readonly name: string;
  /** What its value must be; `switch` takes none. */
  readonly kind: FlagKind;
  /** The value's name in help (`N`, `dir`, `ms`). */
  readonly value?: string;
  /** One line for `--help`. */
  readonly help: string;
  /** Smallest accepted (`int`, `number`). */
  readonly min?: number;
  /** Largest accepted (`int`, `number`). */
  readonly max?: number;
  /** The accepted values (`choice`). */
  readonly choices?: readonly string[];
  /** Help section heading; flags without one are listed first. */
  readonly group?: string;
}

/** One positional argument. */
export interface PositionalSpec {
  /** Its name in usage and errors. */
  readonly name: string;
  /** One line for `--help`. */
  readonly help: string;
  /** A whole number (a seed), checked like an `int` flag. */
  readonly int?: boolean;
}

/** Parsed and checked values: numbers for `int`/`number`/`port`, `true` for switches, strings otherwise. */
export type FlagValues = ReadonlyMap<string, string | number | true>;

/** What {@link parseCommandLine} returns. */
export interface ParsedArgs {
  /** The positionals, in order (all of them present: missing ones are an error). */
  readonly positionals: readonly string[];
  /** Every flag given, by name. */
  readonly flags: FlagValues;
  /** `--help` or `-h` was given (nothing else was checked). */
  readonly help: boolean;
}

/** A command line that does not parse: exit status 2, one line on stderr. */
export class UsageError extends InvalidArgumentError {}

/** The shortest edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}

function suggestion(name: string, flags: readonly FlagSpec[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const flag of flags) {
    const d = distance(name, flag.name);
    if (d < bestDistance) [best, bestDistance] = [flag.name, d];
  }
  return best === undefined ? '' : ` (did you mean --${best}?)`;
}

/** Checks one value against its flag's kind; returns it converted. */
export function checkFlagValue(flag: FlagSpec, raw: string): string | number {
  const fail = (what: string) => new UsageError(`--${flag.name} takes ${what}, got '${raw}'`, { flag: flag.name, value: raw });
  switch (flag.kind) {
    case 'port': {
      const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(port >= 0 && port <= 65_535)) throw fail('a port number from 0 to 65535 (0 picks a free one)');
      return port;
    }
    case 'int': {
      const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      const min = flag.min ?? Number.MIN_SAFE_INTEGER;
      const max = flag.max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isSafeInteger(value) || value < min || value > max) throw fail(`a whole number${range(flag)}`);
      return value;
    }
    case 'number': {
      const value = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(value) || value < (flag.min ?? -Infinity) || value > (flag.max ?? Infinity)) throw fail(`a number${range(flag)}`);
      return value;
    }
    case 'choice':
      if (!(flag.choices ?? []).includes(raw)) throw fail(`one of ${(flag.choices ?? []).join(', ')}`);
      return raw;
    default:
      if (raw === '') throw fail(`a ${flag.value ?? 'value'}`);
      return raw;
  }
}

function range(flag: FlagSpec): string {
  if (flag.min !== undefined && flag.max !== undefined) return ` from ${flag.min} to ${flag.max}`;
  if (flag.min !== undefined) return flag.min === 0 ? ' (0 or more)' : ` (${flag.min} or more)`;
  return flag.max === undefined ? '' : ` up to ${flag.max}`;
}

/**
 * Parses `args` (after the command name) against the declared flags and positionals.
 * @throws UsageError for an unknown flag, a missing or extra value, a missing or extra positional, or a bad value.
 */
export function parseCommandLine(args: readonly string[], flags: readonly FlagSpec[], positionals: readonly PositionalSpec[]): ParsedArgs {
  if (args.includes('--help') || args.includes('-h')) return { positionals: [], flags: new Map(), help: true };
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const flag of flags) options[flag.name] = { type: flag.kind === 'switch' ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw translate(error as Error & { code?: string }, args, flags);
  }
  // In the order typed (replay commands print them back that way); a flag given twice keeps its last value.
  const values = new Map<string, string | number | true>();
  const byName = new Map(flags.map((flag) => [flag.name, flag]));
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    const flag = byName.get(token.name) as FlagSpec;
    values.delete(flag.name);
    values.set(flag.name, token.value === undefined ? true : checkFlagValue(flag, token.value));
  }
  const given = parsed.positionals;
  if (given.length < positionals.length) throw new UsageError(`missing <${positionals[given.length]?.name}>`);
  if (given.length > positionals.length) {
    const extra = given[positionals.length] as string;
    throw new UsageError(positionals.length === 0 ? `takes no arguments, got '${extra}'` : `unexpected argument '${extra}' after <${positionals.at(-1)?.name}>`);
  }
  positionals.forEach((spec, i) => {
    const value = given[i] as string;
    if (spec.int === true && !/^\d+$/.test(value)) throw new UsageError(`<${spec.name}> is a whole number (0 or more), got '${value}'`);
  });
  return { positionals: given, flags: values, help: false };
}

/** Turns parseArgs' errors into one short line that names the flag. */
function translate(error: Error & { code?: string }, args: readonly string[], flags: readonly FlagSpec[]): Error {
  const quoted = /'(-[^' ]+)/.exec(error.message)?.[1] ?? '';
  const name = quoted.replace(/^-+/, '').split('=')[0] ?? '';
  const flag = flags.find((f) => f.name === name);
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${quoted.split('=')[0]}${suggestion(name, flags)}`, { flag: name });
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      if (flag?.kind === 'switch') return new UsageError(`--${name} is a switch and takes no value`, { flag: name });
      // parseArgs refuses a value that starts with '-' as ambiguous: say how to pass one.
      const at = args.indexOf(`--${name}`);
      const next = at >= 0 ? args[at + 1] : undefined;
      const hint = next?.startsWith('-') ? ` (for a value starting with '-', write --${name}=${next})` : '';
      return new UsageError(`--${name} needs a value${flag?.value === undefined ? '' : ` (${flag.value})`}${hint}`, { flag: name });
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(error.message);
    default:
      return error;
  }
}
