/**
 * Checker 1, convergence: once faults stop, the network heals and the protocol
 * goes quiet, every replica holds the same ops (equal version vectors) and
 * shows the same state.
 */
import { vvEqual } from '../../../core/version-vector.js';
import type { CheckContext, Finding } from './context.js';

/** Finds replicas that disagree at the end of the run. */
export function checkConvergence(context: CheckContext): Finding[] {
  const live = context.nodes.filter((node) => node.replica !== undefined && node.state === 'up');
  if (live.length !== context.nodes.length) return [`${context.nodes.length - live.length} replicas are not running at the end`];
  const first = live[0];
  if (first === undefined || first.replica === undefined) return [];
  const findings: Finding[] = [];
  const vv = first.replica.versionVector();
  const state = first.entries();
  for (const node of live.slice(1)) {
    if (!vvEqual(vv, node.replica?.versionVector() ?? {})) findings.push(`${node.name} version vector ${JSON.stringify(node.replica?.versionVector())} != ${first.name} ${JSON.stringify(vv)}`);
    else if (node.entries() !== state) findings.push(`${node.name} state differs from ${first.name} (${diffSummary(state, node.entries())})`);
  }
  return findings;
}

function diffSummary(a: string, b: string): string {
  const left = new Map<string, string>((JSON.parse(a) as [string, unknown][]).map(([k, v]) => [k, JSON.stringify(v)]));
  const right = new Map<string, string>((JSON.parse(b) as [string, unknown][]).map(([k, v]) => [k, JSON.stringify(v)]));
  const keys = [...new Set([...left.keys(), ...right.keys()])].filter((k) => left.get(k) !== right.get(k));
  return `${keys.length} keys differ, e.g. ${keys.slice(0, 3).map((k) => `${k}: ${left.get(k) ?? 'absent'} vs ${right.get(k) ?? 'absent'}`).join('; ')}`;
}
