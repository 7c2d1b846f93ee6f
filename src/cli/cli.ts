/**
 * The `tidelog` command line: finds the command, parses and checks its arguments
 * against what it declares (`args.ts`), and runs it. Exit status: 0 done, 1 the
 * command failed (a violation, damage, an error), 2 a usage error. Errors are one
 * line on stderr.
 */
import { type ParsedArgs, parseCommandLine, UsageError } from './args.js';
import type { Command, Io } from './command.js';
import { commands } from './commands.js';
import { commandHelp, HELP_COLUMNS, twoColumns, wrap } from './help.js';

/** Writes lines to the process's stdout and stderr. */
export const processIo: Io = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

/** The text of `tidelog --help`. */
export function usage(): string {
  const lines = [
    ...wrap('Tidelog: a local-first key-value database on an append-only op log, with end-to-end encrypted sync and a deterministic fault simulator.', HELP_COLUMNS),
    '',
    'Usage: tidelog <command> [options]',
    '       tidelog <command> --help     what one command takes',
    '',
    'Commands:',
    ...commands.flatMap((c) => twoColumns(c.name, c.summary, 2 + Math.max(...commands.map((d) => d.name.length)) + 3)),
  ];
  return `${lines.join('\n')}\n`;
}

/** Parses and runs `argv` (without node and script); throws what the command throws. Exported for tests. */
export async function dispatch(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.out((topic === undefined ? usage() : commandHelp(topic)).trimEnd());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    io.out(String((createRequire(import.meta.url)('../../package.json') as { version: string }).version));
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) throw new UsageError(`unknown command '${name}' (commands: ${commands.map((c) => c.name).join(', ')})`);
  return runCommand(command, rest, io);
}

/** Parses `args` as command `name` would (for tests and tools). @throws UsageError */
export function parseFor(name: string, args: readonly string[]): ParsedArgs {
  const command = commands.find((c) => c.name === name);
  if (command === undefined) throw new UsageError(`unknown command '${name}'`);
  return parseCommandLine(args, command.flags, command.positionals);
}

async function runCommand(command: Command, args: readonly string[], io: Io): Promise<number> {
  const parsed = parseCommandLine(args, command.flags, command.positionals);
  if (parsed.help) {
    io.out(commandHelp(command).trimEnd());
    return 0;
  }
  return command.run(parsed, io);
}

/**
 * Runs the CLI: what `dispatch` does, with every error turned into one line on stderr
 * and an exit status (2 for usage errors and bad arguments, 1 for the rest).
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const name = argv[0] !== undefined && commands.some((c) => c.name === argv[0]) ? ` ${argv[0]}` : '';
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'INVALID_ARGUMENT') {
      io.err(`tidelog${name}: ${message} (see: tidelog${name} --help)`);
      return 2;
    }
    io.err(`tidelog${name}: ${code === undefined ? '' : `[${code}] `}${message ?? String(error)}`);
    return 1;
  }
}
