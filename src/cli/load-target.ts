/**
 * Resolves a `--target` value: a built-in name (`yjs`, `automerge`, `tidelog-adapter`) or a path to a module
 * exporting an adapter (`./my-crdt.js`, `./adapters.js#broken`: the named export; otherwise the default
 * export, an export named `target`, or the only export that is an adapter).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../core/errors.js';
import type { Harness } from '../sim/harness.js';
import { TargetUnavailableError } from '../sim/targets/errors.js';
import { BUILTIN_TARGETS, targetHarness, tidelogTarget } from '../sim/targets/index.js';
import { type CrdtTarget, isCrdtTarget } from '../sim/targets/target.js';

/** Loads the target `spec` names. @throws InvalidArgumentError, TargetUnavailableError */
export async function loadTarget(spec: string | true): Promise<CrdtTarget> {
  if (spec === true || spec === '') throw new InvalidArgumentError('--target needs a value: tidelog, yjs, automerge, loro or a module path');
  // `--target tidelog` runs Tidelog's own simulator; this name runs its adapter through the same loop as the others.
  if (spec === 'tidelog-adapter') return tidelogTarget;
  const builtin = BUILTIN_TARGETS[spec];
  if (builtin !== undefined) return builtin;
  const hash = spec.lastIndexOf('#');
  const path = hash > 0 ? spec.slice(0, hash) : spec;
  const exportName = hash > 0 ? spec.slice(hash + 1) : undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new TargetUnavailableError(`cannot load target module '${path}' (built in: ${Object.keys(BUILTIN_TARGETS).join(', ')}): ${(error as Error).message}`, { path });
  }
  const adapters = Object.entries(module).filter(([, value]) => isCrdtTarget(value));
  const picked = exportName !== undefined ? module[exportName] : (module.default ?? module.target ?? (adapters.length === 1 ? adapters[0]?.[1] : undefined));
  if (!isCrdtTarget(picked)) {
    throw new TargetUnavailableError(
      `module '${path}' exports no adapter${exportName === undefined ? '' : ` named '${exportName}'`} (adapters found: ${adapters.map(([name]) => name).join(', ') || 'none'})`,
      { path },
    );
  }
  return picked;
}

/** The harness that runs the target `spec` names (replay commands name it by `spec` again). */
export async function loadHarness(spec: string | true): Promise<Harness> {
  const target = await loadTarget(spec);
  return targetHarness(target, spec as string);
}
