import { afterEach, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/sync/messages.js';
import { makeNodes, type Node, settle } from './helpers.js';

let running: Node[] = [];
afterEach(async () => {
  for (const node of running) await node.session.stop();
  running = [];
});

describe('SyncSession anti-entropy tick', () => {
  it('stops asking a peer that went silent, even one whose last hello showed ops we lack', async () => {
    const intervalMs = 100;
    const { nodes, scheduler, room } = await makeNodes(['a', 'b'], { antiEntropyIntervalMs: intervalMs });
    const [a, b] = nodes as [Node, Node];
    for (const node of nodes) node.session.start();
    running.push(...nodes);
    // Everything a sends, as a third member of the room hears it.
    const asked: string[] = [];
    const spy = room.join();
    spy.listen({
      frame: (bytes) => {
        const message = decodeMessage(bytes);
        if (message.from === 'a' && message.type === 'hello' && message.replyWanted && message.to !== undefined) asked.push(message.to);
      },
      up: () => {},
      down: () => {},
    });
    await settle();
    await b.replica.set('k', 1);
    await settle();
    // A peer that said once that it holds ops nobody else has, and then died (a device re-created under a new id).
    (a.transport as unknown as { deliver(bytes: Uint8Array): void }).deliver(
      encodeMessage({ type: 'hello', from: 'dead', versionVector: { dead: 5 }, horizon: {}, tips: {}, replyWanted: false }),
    );
    await settle();
    for (let tick = 0; tick < 20; tick++) {
      scheduler.advance(intervalMs);
      await settle(4);
    }
    // Before the fix every one of the 20 ticks went to 'dead' (the only peer known to hold ops a lacks).
    const toDead = asked.filter((to) => to === 'dead').length;
    expect(asked.length).toBeGreaterThanOrEqual(20);
    expect(toDead).toBeLessThanOrEqual(3);
    expect(asked.filter((to) => to === 'b').length).toBeGreaterThanOrEqual(15);
    spy.close();
  });
});
