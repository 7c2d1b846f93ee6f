/** The shape of one CLI subcommand. */
export interface Command {
  /** The word typed after `tidelog`. */
  readonly name: string;
  /** Usage line, without the leading `tidelog `. */
  readonly usage: string;
  /** One-line description for `tidelog --help`. */
  readonly summary: string;
  /** Runs the command; resolves with the process exit status. */
  run(args: readonly string[]): Promise<number>;
}

/** Parses `--name value` and `--flag` options; the rest are positional. */
export function parseArgs(args: readonly string[]): { readonly positional: string[]; readonly options: Map<string, string | true> } {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      options.set(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      options.set(arg.slice(2), next);
      i += 1;
    } else {
      options.set(arg.slice(2), true);
    }
  }
  return { positional, options };
}
