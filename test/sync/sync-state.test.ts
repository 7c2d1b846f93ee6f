import { afterEach, describe, expect, it } from 'vitest';
import type { SyncState } from '../../src/sync/sync-state.js';
import { makeNodes, type Node, settle } from './helpers.js';

let running: Node[] = [];
afterEach(async () => {
  for (const node of running) await node.session.stop();
  running = [];
});

describe('SyncSession.syncState', () => {
  it('counts local ops until a peer confirms them, and tells every change as an event', async () => {
    const { nodes, scheduler } = await makeNodes(['a', 'b'], { antiEntropyIntervalMs: 1_000 });
    const [a, b] = nodes as [Node, Node];
    const events: SyncState[] = [];
    a.session.onSyncState((state) => events.push(state));
    expect(a.session.syncState()).toEqual({ connected: false, pendingOps: 0, lastPeer: undefined });
    await a.replica.set('x', 1);
    await a.replica.set('y', 2);
    expect(a.session.syncState().pendingOps).toBe(2);
    a.session.start();
    b.session.start();
    running.push(a, b);
    expect(a.session.syncState().connected).toBe(true);
    await settle();
    scheduler.advance(1_000);
    await settle();
    // b merged both and said so in a hello.
    expect(a.session.syncState()).toMatchObject({ connected: true, pendingOps: 0, lastPeer: { id: 'b', versionVector: { a: 2 } } });
    // Offline, a write waits; a peer's old hello does not confirm it.
    a.transport.setConnected(false);
    await a.replica.set('z', 3);
    expect(a.session.syncState()).toMatchObject({ connected: false, pendingOps: 1 });
    a.transport.setConnected(true);
    await settle();
    scheduler.advance(1_000);
    await settle();
    expect(a.session.syncState()).toMatchObject({ connected: true, pendingOps: 0 });
    expect(b.replica.get('z')).toBe(3);
    // Remote ops are never pending here, and the state object only changes when something in it did.
    await b.replica.set('from-b', 1);
    await settle();
    expect(a.session.syncState().pendingOps).toBe(0);
    const before = a.session.syncState();
    expect(a.session.syncState()).toBe(before);
    expect(events.map((e) => e.pendingOps)).toContain(2);
    expect(events.some((e) => !e.connected && e.pendingOps === 1)).toBe(true);
    expect(events.at(-1)).toBe(a.session.syncState());
  });

  it('counts and pushes ops of the ids it is told are its own (a tab leader)', async () => {
    const { nodes } = await makeNodes(['a', 'b'], { antiEntropyIntervalMs: 0, isOwnReplica: (id) => id.startsWith('a~') });
    const [a, b] = nodes as [Node, Node];
    const tab = await makeNodes(['a~tab1']);
    const tabReplica = (tab.nodes[0] as Node).replica;
    await tabReplica.set('t', 1);
    a.session.start();
    b.session.start();
    running.push(a, b);
    await settle();
    // Merged at a as remote ops: counted, and pushed to the room at once (no anti-entropy tick here).
    await a.replica.applyRemote(tabReplica.opsSince({}));
    await settle();
    expect(b.replica.get('t')).toBe(1);
    expect(a.session.syncState().pendingOps).toBe(1);
    b.session.syncNow();
    await settle();
    expect(a.session.syncState().pendingOps).toBe(0);
  });
});
