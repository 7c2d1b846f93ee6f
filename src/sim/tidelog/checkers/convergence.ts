/**
 * Checker 1, convergence: once faults stop, the network heals and the protocol
 * goes quiet, every replica holds the same ops (equal version vectors) and
 * shows the same state.
 */
import { vvEqual } from '../../../core/version-vector.js';
import { describeStateDiff, stateFromJson } from '../../state-diff.js';
import type { CheckContext, Finding } from './context.js';

/** Finds replicas that disagree at the end of the run. */
export function checkConvergence(context: CheckContext): Finding[] {
  const live = context.nodes.filter((node) => node.replica !== undefined && node.state === 'up');
  if (live.length !== context.nodes.length) return [{ message: `${context.nodes.length - live.length} replicas are not running at the end` }];
  const first = live[0];
  if (first === undefined || first.replica === undefined) return [];
  const findings: Finding[] = [];
  const vv = first.replica.versionVector();
  const state = first.entries();
  for (const node of live.slice(1)) {
    const subject = { node: node.index };
    if (!vvEqual(vv, node.replica?.versionVector() ?? {})) findings.push({ message: `${node.name} version vector ${JSON.stringify(node.replica?.versionVector())} != ${first.name} ${JSON.stringify(vv)}`, subject });
    else if (node.entries() !== state) findings.push({ message: `${node.name} state differs from ${first.name} (${describeStateDiff(stateFromJson(state), stateFromJson(node.entries()))})`, subject });
  }
  return findings;
}
