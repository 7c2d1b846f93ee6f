/**
 * Loads a target's CRDT package on demand. Yjs and Automerge are
 * devDependencies: the built library never imports them unless a simulation
 * asks for their target, and then a missing package is a typed error.
 */
import { TargetUnavailableError } from './errors.js';

/** Imports `specifier`, or throws TargetUnavailableError naming the package to install. */
export async function optionalImport<T>(specifier: string, target: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw new TargetUnavailableError(`the ${target} target needs the package '${specifier}': npm install --save-dev ${specifier}`, { specifier, cause: (error as Error).message });
  }
}
