/**
 * Checker 6, equal vectors imply equal states: at every moment, two replicas
 * whose version vectors are equal (and which hold no ops past a gap, which a
 * vector does not describe) show the same state. Run after every event that
 * changed a replica (a commit, a merge, a start, a crash), so a divergence that
 * lasts a single event is seen too (it used to be sampled every 250 ms).
 */
import type { Replica } from '../../../core/replica.js';
import { type VersionVector, vvEqual } from '../../../core/version-vector.js';
import type { Finding } from '../../result.js';
import type { SimNode } from '../node.js';

/** A cheap fingerprint of a vector (equal vectors have equal fingerprints), memoized per vector object: a replica hands out the same frozen vector until it changes. */
const fingerprints = new WeakMap<VersionVector, number>();

function fingerprint(vv: VersionVector): number {
  let print = fingerprints.get(vv);
  if (print === undefined) {
    let entries = 0;
    let sum = 0;
    for (const replica in vv) {
      entries += 1;
      sum += vv[replica] as number;
    }
    print = sum * 1024 + entries;
    fingerprints.set(vv, print);
  }
  return print;
}

/** Pairs of running replicas with equal vectors and different states, now. */
export function checkEqualVectors(nodes: readonly SimNode[]): Finding[] {
  return new EqualVectorsCheck().check(nodes);
}

/**
 * The incremental form of the check: the run marks it {@link changed} when a replica committed, merged,
 * started or crashed; {@link check} then groups the running replicas by vector and compares the states of a
 * group only when one of its members changed since the group was last found equal.
 */
export class EqualVectorsCheck {
  private dirty = true;
  /** Groups (their members and each member's change count) already found equal: nothing to look at again. */
  private readonly confirmed = new Map<string, true>();
  private readonly gaps = new WeakMap<SimNode, { changes: number; value: boolean }>();
  private readonly states = new WeakMap<SimNode, { changes: number; value: string }>();

  /** Something changed: the next {@link check} looks again. */
  changed(): void {
    this.dirty = true;
  }

  /** The pairs of replicas with equal vectors and different states (none when nothing changed since the last call). */
  check(nodes: readonly SimNode[]): Finding[] {
    if (!this.dirty) return [];
    this.dirty = false;
    // Most moments have no two equal vectors: groups are only built once two fingerprints match.
    const prints: number[] = [];
    const running: SimNode[] = [];
    let collision = false;
    for (const node of nodes) {
      const replica = node.replica;
      if (replica === undefined || node.state === 'down') continue;
      const print = fingerprint(replica.versionVector());
      if (!collision && prints.includes(print)) collision = true;
      prints.push(print);
      running.push(node);
    }
    if (!collision) return [];
    const findings: Finding[] = [];
    for (const group of equalVectorGroups(running, prints)) {
      const signature = group.map((node) => `${node.index}.${node.changes}`).join(' ');
      if (this.confirmed.get(signature) === true) continue;
      const settled = group.filter((node) => !this.heldPastGap(node));
      let equal = true;
      const reference = settled[0];
      if (reference !== undefined) {
        const state = this.entries(reference);
        for (const node of settled.slice(1)) {
          if (this.entries(node) === state) continue;
          equal = false;
          findings.push({ message: `${reference.name} and ${node.name} have equal version vectors but different states`, subject: { node: node.index } });
        }
      }
      if (equal) this.confirmed.set(signature, true);
    }
    if (this.confirmed.size > 64 * nodes.length) this.confirmed.clear();
    return findings;
  }

  /** Whether `node` holds ops past a gap, computed once per change of the node. */
  private heldPastGap(node: SimNode): boolean {
    const cached = this.gaps.get(node);
    if (cached !== undefined && cached.changes === node.changes) return cached.value;
    const replica = node.replica as Replica;
    const value = replica.opsSince(replica.versionVector()).length > 0;
    this.gaps.set(node, { changes: node.changes, value });
    return value;
  }

  /** The node's visible state as text, computed once per change of the node. */
  private entries(node: SimNode): string {
    const cached = this.states.get(node);
    if (cached !== undefined && cached.changes === node.changes) return cached.value;
    const value = node.entries();
    this.states.set(node, { changes: node.changes, value });
    return value;
  }
}

/** The groups (two or more nodes) of `nodes` with equal version vectors; `prints[i]` is the fingerprint of `nodes[i]`. */
function equalVectorGroups(nodes: readonly SimNode[], prints: readonly number[]): SimNode[][] {
  const groups: SimNode[][] = [];
  const taken = new Uint8Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    if (taken[i] === 1) continue;
    const vv = (nodes[i] as SimNode).replica?.versionVector() as VersionVector;
    let group: SimNode[] | undefined;
    for (let j = i + 1; j < nodes.length; j++) {
      if (taken[j] === 1 || prints[j] !== prints[i] || !vvEqual(vv, (nodes[j] as SimNode).replica?.versionVector() as VersionVector)) continue;
      taken[j] = 1;
      group ??= [nodes[i] as SimNode];
      group.push(nodes[j] as SimNode);
    }
    if (group !== undefined) groups.push(group);
  }
  return groups;
}
