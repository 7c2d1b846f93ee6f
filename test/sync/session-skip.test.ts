import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/sync/messages.js';
import { makeNodes, type Node, settle } from './helpers.js';

let running: Node[] = [];
afterEach(async () => {
  for (const node of running) await node.session.stop();
  running = [];
});

/** An ops frame whose op block is cut short: the header says who it is for, the ops do not decode. */
function brokenOpsFrame(from: string, to: string | undefined): Uint8Array {
  const op = { replica: 'z', seq: 1, wall: 5, logical: 0, key: 'k', type: 'set' as const, value: 1 };
  return encodeMessage(to === undefined ? { type: 'ops', from, ops: [op] } : { type: 'ops', from, to, ops: [op] }).subarray(0, -3);
}

describe('SyncSession frame skipping', () => {
  it('skips ops frames for other replicas (and its own echoes) unread, and still rejects broken ones meant for it', async () => {
    const { nodes } = await makeNodes(['a', 'b']);
    for (const node of nodes) node.session.start();
    running.push(...nodes);
    await settle();
    const b = nodes[1] as Node;
    const tap = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    // Their op blocks are never decoded, so the damage goes unnoticed: they were not ours to read.
    tap.deliver(brokenOpsFrame('a', 'someone-else'));
    tap.deliver(brokenOpsFrame('b', undefined));
    await settle();
    expect(b.session.status().framesMalformed).toBe(0);
    tap.deliver(brokenOpsFrame('a', 'b'));
    tap.deliver(brokenOpsFrame('a', undefined));
    await settle();
    expect(b.session.status().framesMalformed).toBe(2);
    expect(b.session.status().lastError?.code).toBe('DECODE_FAILED');
    expect(b.replica.has('k')).toBe(false);
  });
});

describe('SyncSession.mergesStarted', () => {
  it('counts the frames handed to the replica: not hellos, not frames for others, not broken ones', async () => {
    const { nodes } = await makeNodes(['a', 'b']);
    for (const node of nodes) node.session.start();
    running.push(...nodes);
    await settle();
    const b = nodes[1] as Node;
    const tap = b.transport as unknown as { deliver(bytes: Uint8Array): void };
    const op = { replica: 'a', seq: 1, wall: 5, logical: 0, key: 'k', type: 'set' as const, value: 1 };
    const before = b.session.mergesStarted;
    tap.deliver(encodeMessage({ type: 'ops', from: 'a', to: 'someone-else', ops: [op] }));
    tap.deliver(encodeMessage({ type: 'ops', from: 'b', ops: [op] }));
    tap.deliver(brokenOpsFrame('a', 'b'));
    tap.deliver(encodeMessage({ type: 'hello', from: 'a', versionVector: {}, horizon: {}, tips: {}, replyWanted: false }));
    await settle();
    expect(b.session.mergesStarted).toBe(before);
    tap.deliver(encodeMessage({ type: 'ops', from: 'a', to: 'b', ops: [op] }));
    await settle();
    expect(b.session.mergesStarted).toBe(before + 1);
    expect(b.replica.get('k')).toBe(1);
  });
});
