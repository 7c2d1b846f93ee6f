/**
 * `tidelog replay <seed> [options]`: reruns one seed with its trace printed.
 * The same options as `tidelog sim` (`--target`, `--faults`, `--replicas`, `--html F`, ...);
 * it is `tidelog sim --replay <seed>` under its own name, as failure reports print it.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { type Command, parseArgs } from './command.js';
import { simCommand } from './sim.js';

/** The `replay` subcommand. */
export const replayCommand: Command = {
  name: 'replay',
  usage: 'replay <seed> [--target tidelog|yjs|automerge|<module>] [--html F] [sim options]',
  summary: 'rerun one simulator seed with its trace printed (the command failure reports print)',
  async run(args) {
    const { positional } = parseArgs(args);
    const seed = positional[0];
    if (seed === undefined || !/^\d+$/.test(seed) || positional.length > 1) throw new InvalidArgumentError('usage: tidelog replay <seed> [options]');
    // Drop the positional seed (not a flag's value that happens to be equal).
    const at = args.findIndex((arg, i) => arg === seed && (i === 0 || !(args[i - 1] as string).startsWith('--') || (args[i - 1] as string).includes('=')));
    const rest = args.filter((_, i) => i !== at);
    return simCommand.run(['--replay', seed, ...rest]);
  },
};
