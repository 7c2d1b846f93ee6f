#!/usr/bin/env node
/** The `tidelog` command line: dispatches to one module per subcommand. */
import { commands } from './commands.js';

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    printUsage();
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`tidelog: unknown command '${name}'\n\n`);
    printUsage();
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const code = (error as { code?: string }).code;
    process.stderr.write(`tidelog ${name}: ${code ? `[${code}] ` : ''}${(error as Error).message}\n`);
    return 1;
  }
}

function printUsage(): void {
  const width = Math.max(...commands.map((c) => c.usage.length));
  const lines = commands.map((c) => `  tidelog ${c.usage.padEnd(width)}  ${c.summary}`);
  process.stdout.write(`Tidelog: a local-first key-value database on an append-only op log.\n\nUsage:\n${lines.join('\n')}\n`);
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`tidelog: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
