/**
 * Checker 6, equal vectors imply equal states: at any moment, two replicas
 * whose version vectors are equal (and which hold no ops past a gap, which a
 * vector does not describe) show the same state. Run periodically during the run.
 */
import type { Finding } from '../../result.js';
import type { SimNode } from '../node.js';

/** Pairs of running replicas with equal vectors and different states. */
export function checkEqualVectors(nodes: readonly SimNode[]): Finding[] {
  const groups = new Map<string, SimNode[]>();
  for (const node of nodes) {
    const replica = node.replica;
    if (replica === undefined || node.state === 'down') continue;
    const vv = replica.versionVector();
    if (replica.opsSince(vv).length > 0) continue;
    const key = JSON.stringify(Object.entries(vv).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [node]);
    else group.push(node);
  }
  const findings: Finding[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const first = group[0] as SimNode;
    const state = first.entries();
    for (const node of group.slice(1)) if (node.entries() !== state) findings.push({ message: `${first.name} and ${node.name} have equal version vectors but different states`, subject: { node: node.index } });
  }
  return findings;
}
