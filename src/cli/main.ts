#!/usr/bin/env node
/** The `tidelog` program: runs the CLI (`cli.ts`) on the process's arguments and sets the exit status. */
import { main } from './cli.js';

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`tidelog: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
