/**
 * Checker 6 runs after every event that changed a replica: a divergence that lasts one event is caught (it was
 * sampled every 250 ms), and groups found equal are not compared again until one of their members changes.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Replica } from '../../src/core/replica.js';
import { EqualVectorsCheck } from '../../src/sim/tidelog/checkers/equal-vectors.js';
import type { SimNode } from '../../src/sim/tidelog/node.js';

interface FakeNode {
  index: number;
  name: string;
  state: 'up' | 'down';
  replica: Replica | undefined;
  changes: number;
  shown: (() => string) | undefined;
  reads: number;
  entries(): string;
}

async function node(index: number, clock: ManualClock): Promise<FakeNode> {
  const replica = await Replica.open({ replicaId: `r${index}`, clock });
  const fake: FakeNode = {
    index,
    name: `n${index}`,
    state: 'up',
    replica,
    changes: 0,
    shown: undefined,
    reads: 0,
    entries() {
      fake.reads += 1;
      return fake.shown?.() ?? JSON.stringify(replica.entries());
    },
  };
  return fake;
}

describe('equal-vectors at every event', () => {
  it('finds a divergence that lasts one event, and does not compare unchanged groups again', async () => {
    const clock = new ManualClock(1_000);
    const nodes = [await node(0, clock), await node(1, clock), await node(2, clock)];
    const check = new EqualVectorsCheck();
    const asSim = nodes as unknown as SimNode[];
    const op = await (nodes[0] as FakeNode).replica?.set('k', 1);
    for (const n of nodes.slice(1)) await n.replica?.applyRemote([op]);
    for (const n of nodes) n.changes += 1;
    check.changed();
    expect(check.check(asSim)).toEqual([]);
    const reads = nodes.map((n) => n.reads);
    // Nothing changed: nothing is read again.
    check.changed();
    expect(check.check(asSim)).toEqual([]);
    expect(nodes.map((n) => n.reads)).toEqual(reads);
    // For one event, n2 shows a state its vector does not explain (a merge applied to the vector but not the map).
    (nodes[2] as FakeNode).shown = () => '[["k",2]]';
    (nodes[2] as FakeNode).changes += 1;
    check.changed();
    const findings = check.check(asSim);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toBe('n0 and n2 have equal version vectors but different states');
    (nodes[2] as FakeNode).shown = undefined;
    (nodes[2] as FakeNode).changes += 1;
    check.changed();
    expect(check.check(asSim)).toEqual([]);
  });

  it('ignores replicas that are down or hold ops past a gap', async () => {
    const clock = new ManualClock(1_000);
    const nodes = [await node(0, clock), await node(1, clock)];
    (nodes[1] as FakeNode).shown = () => '[["x",1]]';
    (nodes[1] as FakeNode).state = 'down';
    const check = new EqualVectorsCheck();
    expect(check.check(nodes as unknown as SimNode[])).toEqual([]);
    (nodes[1] as FakeNode).state = 'up';
    await (nodes[1] as FakeNode).replica?.applyRemote([{ replica: 'z', seq: 2, wall: 1_000, logical: 0, key: 'x', type: 'set', value: 1 }]);
    (nodes[1] as FakeNode).changes += 1;
    check.changed();
    expect(check.check(nodes as unknown as SimNode[])).toEqual([]);
  });
});
