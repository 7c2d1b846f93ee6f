/**
 * The schedule of a run, drawn up front from the seed: workload writes and
 * fault actions with their virtual times. Being explicit is what lets the
 * shrinker cut actions out of a failing run and rerun what is left.
 */
import type { SimOptions } from './options.js';
import { faultOn } from './options.js';
import { Prng, ZipfSampler } from './prng.js';

/** One write of the workload. */
export interface WriteAction {
  readonly kind: 'write';
  readonly atMs: number;
  readonly node: number;
  /** `value` absent = delete. More than one entry = an atomic batch. */
  readonly writes: readonly { readonly key: string; readonly value?: number }[];
}

/** One fault action. */
export type FaultAction = { readonly atMs: number } & (
  | { readonly kind: 'crash'; readonly node: number; readonly torn: boolean }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'pause'; readonly node: number }
  | { readonly kind: 'resume'; readonly node: number }
  | { readonly kind: 'clock-jump'; readonly node: number; readonly deltaMs: number }
  | { readonly kind: 'partition'; readonly shape: 'split' | 'oneway' | 'isolate'; readonly groupA: readonly number[] }
  | { readonly kind: 'heal' }
  | { readonly kind: 'bitflip'; readonly node: number }
  | { readonly kind: 'replay'; readonly count: number }
  | { readonly kind: 'backup'; readonly node: number }
  | { readonly kind: 'restore'; readonly node: number }
  | { readonly kind: 'wipe'; readonly node: number }
  | { readonly kind: 'compact'; readonly node: number; readonly retainOps: number }
);

/** Any scheduled action. */
export type Action = WriteAction | FaultAction;

/** The schedule: actions sorted by time, and when the fault phase ends. */
export interface Plan {
  readonly actions: readonly Action[];
  /** Virtual time of the final heal: every fault stops here and the liveness phase starts. */
  readonly healAtMs: number;
}

/** Draws the schedule of `options`. */
export function makePlan(options: SimOptions): Plan {
  const workload = new Prng(options.seed, 'workload');
  const faults = new Prng(options.seed, 'faults');
  const zipf = options.keyDistribution === 'zipf' ? new ZipfSampler(options.keySpace) : undefined;
  const key = (): string => `k${zipf === undefined ? workload.int(options.keySpace) : zipf.sample(workload)}`;
  const actions: Action[] = [];
  let timeMs = 0;
  for (let step = 0; step < options.steps; step++) {
    timeMs += workload.range(0, 2 * options.stepIntervalMs);
    const count = workload.chance(options.batchProbability) ? workload.range(2, options.batchOpsMax) : 1;
    const writes = Array.from({ length: count }, () => (workload.chance(options.deleteProbability) ? { key: key() } : { key: key(), value: step }));
    actions.push({ kind: 'write', atMs: timeMs, node: workload.int(options.replicas), writes });
    if (faults.chance(options.faultRate)) actions.push(...faultActions(options, faults, timeMs));
  }
  const healAtMs = timeMs + 1;
  actions.sort((a, b) => a.atMs - b.atMs);
  return { actions: actions.filter((action) => action.atMs < healAtMs), healAtMs };
}

const NODE_FAULTS = ['crash', 'pause', 'jump', 'bitflip', 'backup', 'wipe', 'compact'] as const;
const NET_FAULTS = ['partition', 'oneway', 'isolate', 'rolling', 'replay'] as const;

function faultActions(options: SimOptions, prng: Prng, atMs: number): FaultAction[] {
  const available = [...NODE_FAULTS, ...NET_FAULTS].filter((name) => faultOn(options, name));
  if (available.length === 0) return [];
  const node = prng.int(options.replicas);
  const untilMs = atMs + prng.range(1, options.faultDurationMsMax);
  const picked = prng.pick(available);
  switch (picked) {
    case 'crash':
      return [
        { kind: 'crash', atMs, node, torn: faultOn(options, 'torn') && prng.chance(0.5) },
        { kind: 'restart', atMs: untilMs, node },
      ];
    case 'pause':
      return [
        { kind: 'pause', atMs, node },
        { kind: 'resume', atMs: untilMs, node },
      ];
    case 'jump':
      return [{ kind: 'clock-jump', atMs, node, deltaMs: prng.range(-options.clockJumpMsMax, options.clockJumpMsMax) }];
    case 'bitflip':
      return [
        { kind: 'bitflip', atMs, node },
        { kind: 'crash', atMs: atMs + 1, node, torn: false },
        { kind: 'restart', atMs: untilMs, node },
      ];
    case 'backup':
      return [
        { kind: 'backup', atMs, node },
        { kind: 'restore', atMs: untilMs, node },
      ];
    case 'wipe':
      return [{ kind: 'wipe', atMs, node }];
    case 'compact':
      return [{ kind: 'compact', atMs, node, retainOps: prng.pick([0, 10, 100]) }];
    case 'replay':
      return [{ kind: 'replay', atMs, count: prng.range(1, 20) }];
    case 'rolling': {
      const out: FaultAction[] = [];
      const rounds = prng.range(2, 5);
      for (let i = 0; i < rounds; i++) out.push({ kind: 'partition', atMs: atMs + ((untilMs - atMs) * i) / rounds, shape: 'split', groupA: randomGroup(options, prng) });
      out.push({ kind: 'heal', atMs: untilMs });
      return out;
    }
    default: {
      const shape = picked === 'partition' ? 'split' : picked;
      return [
        { kind: 'partition', atMs, shape, groupA: shape === 'isolate' ? [node] : randomGroup(options, prng) },
        { kind: 'heal', atMs: untilMs },
      ];
    }
  }
}

function randomGroup(options: SimOptions, prng: Prng): number[] {
  const group: number[] = [];
  for (let i = 0; i < options.replicas; i++) if (prng.chance(0.5)) group.push(i);
  if (group.length === 0) group.push(prng.int(options.replicas));
  return group;
}

/** One line per action, for printing a (shrunk) schedule. */
export function describeAction(action: Action): string {
  const { atMs, kind, ...rest } = action;
  return `${atMs.toFixed(0).padStart(7)}ms ${kind} ${JSON.stringify(rest)}`;
}
