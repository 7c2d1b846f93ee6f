/**
 * The flags of `tidelog sim` and `tidelog replay`: the run's control flags, and one
 * flag per `SimOptions` field (each seed draws every field; a flag fixes one).
 */
import type { FlagSpec } from './args.js';
import type { Command } from './command.js';
import { OVERRIDE_FLAGS } from './sim-flags.js';

const TARGET_FLAG: FlagSpec = { name: 'target', kind: 'text', value: 'name', help: 'tidelog (default), tidelog-adapter, yjs, automerge, loro, or a module path exporting an adapter' };
const FAULTS_FLAG: FlagSpec = { name: 'faults', kind: 'text', value: 'list', help: "faults on: all, none, a,b,... (default: the seed's draw); 'list' prints the names" };
const HTML_FLAG: FlagSpec = { name: 'html', kind: 'text', value: 'file', help: 'also write the run as a timeline page' };
const SHRINK_FLAGS: readonly FlagSpec[] = [
  { name: 'no-shrink', kind: 'switch', help: 'report a failing seed without shrinking it' },
  { name: 'shrink-runs', kind: 'int', min: 1, value: 'N', help: 'trial runs the shrinker may spend (default 200)' },
];

/** `tidelog sim`. */
export const simSpec: Command = {
  name: 'sim',
  summary: 'run the deterministic fault simulator (one seed, a sweep, a replay)',
  details: [
    'Drives replicas through a simulated network and simulated disks under faults, then checks that they converge and lose no acknowledged write. Each seed draws its own options (how many replicas, which faults, what rates): the summary prints them. The same seed and flags give the same trace, byte for byte. A failing seed prints a trace excerpt, the command that replays it, and its schedule shrunk to the smallest that still fails. Exit status 1 on any violation.',
  ],
  positionals: [],
  flags: [
    { name: 'seed', kind: 'int', min: 0, value: 'N', help: 'the seed to run (default 1)' },
    { name: 'runs', kind: 'int', min: 1, value: 'K', help: 'sweep K seeds from --seed on, print convergence percentiles' },
    { name: 'seeds', kind: 'int', min: 1, value: 'K', help: 'the older name of --runs' },
    { name: 'replay', kind: 'int', min: 0, value: 'N', help: 'run seed N with every trace line printed' },
    { name: 'check-determinism', kind: 'switch', help: 'run twice, name the first event where the traces differ' },
    { name: 'trace', kind: 'switch', help: 'print every trace line' },
    HTML_FLAG,
    TARGET_FLAG,
    FAULTS_FLAG,
    ...SHRINK_FLAGS,
    ...OVERRIDE_FLAGS,
  ],
  examples: [
    'tidelog sim                        # seed 1 with the options it draws',
    'tidelog sim --seed 7 --replicas 20 --steps 5000 --faults partition,crash',
    'tidelog sim --runs 200             # seeds 1..200',
    'tidelog sim --faults list          # the fault names',
    'tidelog sim --target yjs --runs 50',
  ],
  run: async (args, io) => (await import('./sim.js')).runSimCommand(args, io),
};

/** `tidelog replay <seed>`: `sim --replay <seed>` under its own name, as failure reports print it. */
export const replaySpec: Command = {
  name: 'replay',
  summary: 'rerun one simulator seed with its trace printed',
  details: ['The command a failure report prints. Takes the flags of tidelog sim that shape a run; give the same ones the report names to get the same run.'],
  positionals: [{ name: 'seed', help: 'the seed to rerun', int: true }],
  flags: [HTML_FLAG, TARGET_FLAG, FAULTS_FLAG, ...SHRINK_FLAGS, ...OVERRIDE_FLAGS],
  examples: ['tidelog replay 7', 'tidelog replay 3 --target yjs --steps 300 --replicas 3'],
  run: async (args, io) => (await import('./sim.js')).runReplayCommand(args, io),
};
