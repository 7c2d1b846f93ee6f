import { afterEach, describe, expect, it } from 'vitest';
import { makeNodes, type Node, settle } from './helpers.js';

let running: Node[] = [];
afterEach(async () => {
  for (const node of running) await node.session.stop();
  running = [];
});

describe('SyncSession.peerVersionVectors', () => {
  it('is empty until a peer says hello, then holds what each peer last announced', async () => {
    const { nodes, scheduler } = await makeNodes(['a', 'b'], { antiEntropyIntervalMs: 1_000 });
    const [a, b] = nodes as [Node, Node];
    expect(a.session.peerVersionVectors().size).toBe(0);
    await a.replica.set('x', 1);
    await a.replica.set('y', 2);
    for (const node of nodes) node.session.start();
    running.push(...nodes);
    await settle();
    // b has now merged a's two ops; a learns it from b's next hello.
    expect(b.replica.versionVector()).toEqual({ a: 2 });
    scheduler.advance(1_000);
    await settle();
    expect(a.session.peerVersionVectors().get('b')).toEqual({ a: 2 });
    expect(b.session.peerVersionVectors().get('a')?.a).toBe(2);
    // A commit b has not confirmed yet is not in a's view of b.
    a.transport.setConnected(false);
    await a.replica.set('z', 3);
    expect(a.session.peerVersionVectors().get('b')).toEqual({ a: 2 });
  });
});
