/** Every subcommand of the CLI, in the order `--help` lists them. One line per command. */
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { inspectCommand } from './inspect.js';
import { relayCommand } from './relay.js';
import { replayCommand } from './replay.js';
import { simCommand } from './sim.js';
import { verifyCommand } from './verify.js';

/** The registered subcommands. */
export const commands: readonly Command[] = [demoCommand, relayCommand, inspectCommand, verifyCommand, simCommand, replayCommand];
