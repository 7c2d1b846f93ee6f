/** Every subcommand of the CLI, in the order `--help` lists them. One line per command. */
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { relayCommand } from './relay.js';

/** The registered subcommands. */
export const commands: readonly Command[] = [demoCommand, relayCommand];
