/** Pluggable simulator targets: the adapter interface, the built-in adapters, the target run and its harness. */
import { InvalidArgumentError } from '../../core/errors.js';
import { automergeTarget } from './automerge.js';
import { loroTarget } from './loro.js';
import type { CrdtTarget } from './target.js';
import { tidelogTarget } from './tidelog.js';
import { yjsTarget } from './yjs.js';

export { automergeTarget } from './automerge.js';
export { loroTarget } from './loro.js';
export { TargetUnavailableError } from './errors.js';
export { checksFor, runTargetChecks, type TargetCheckInput } from './checks.js';
export type { IssuedWrite } from './history.js';
export { shrinkTargetPlan, targetHarness } from './harness.js';
export { NON_TARGET_FAULTS, runTarget, TARGET_FAULTS, type TargetFault, type TargetRunHooks, type TargetRunResult, targetOptions } from './run-target.js';
export { type CrdtTarget, type DurableLog, isCrdtTarget, type TargetOpenOptions, type TargetReplica, type TargetSemantics, type TargetWrite, type WriteReceipt } from './target.js';
export { opStamp, tidelogTarget } from './tidelog.js';
export { yjsTarget } from './yjs.js';

/** The built-in targets by name. */
export const BUILTIN_TARGETS: Readonly<Record<string, CrdtTarget>> = { tidelog: tidelogTarget, yjs: yjsTarget, automerge: automergeTarget, loro: loroTarget };

/** The built-in target `name`. @throws InvalidArgumentError for an unknown name. */
export function builtinTarget(name: string): CrdtTarget {
  const target = BUILTIN_TARGETS[name];
  if (target === undefined) throw new InvalidArgumentError(`unknown target '${name}'; built in: ${Object.keys(BUILTIN_TARGETS).join(', ')} (or a path to a module exporting an adapter)`);
  return target;
}
