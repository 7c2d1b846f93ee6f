/**
 * Reuse of op ids the receiver's peer has compacted away. A device re-created under its old id (or restored
 * raw from a stale backup) writes new ops under seqs a peer already folded into its compaction summary; the
 * per-id content check cannot see them there any more. What the core checks instead, when it adopts a
 * horizon: every op it holds one by one under that horizon must be, or lose to, the summary's winner for
 * its key (soak seed 20024 was the case where nothing noticed).
 */
import { describe, expect, it } from 'vitest';
import { ForgedOwnOpError, ManualClock, OpIdConflictError, Replica } from '../../src/index.js';

async function open(replicaId: string, clock: ManualClock): Promise<Replica> {
  return Replica.open({ replicaId, clock });
}

/** A peer that received x's first ops and compacted them away; its summary and horizon, as a session sends them. */
async function compactedPeer(clock: ManualClock, ops: Parameters<Replica['applyRemote']>[0]) {
  const peer = await open('peer', clock);
  await peer.applyRemote(ops);
  await peer.compact({ retainOps: 0 });
  return { peer, summary: peer.opsSince({}), horizon: peer.horizon() };
}

describe('reused op ids under a peer compaction horizon', () => {
  it('rejects a summary whose horizon covers a held op that would beat the winner for its key', async () => {
    const clock = new ManualClock(1_000);
    const original = await open('x', clock);
    // x:1 is overwritten by x:2, so the summary keeps only x:2: the original x:1 is gone from every peer.
    const first = [await original.set('k1', 'old'), await original.set('k1', 'older'), await original.set('k2', 'old')];
    const { peer, summary, horizon } = await compactedPeer(clock, first);
    expect(horizon).toEqual({ x: 3 });
    expect(summary.map((op) => op.seq).sort()).toEqual([2, 3]);
    // x is wiped and re-created under its old id: its first new op takes seq 1 again, with a later timestamp.
    clock.advance(10);
    const recreated = await open('x', clock);
    const reused = await recreated.set('k1', 'new');
    expect([reused.replica, reused.seq]).toEqual(['x', 1]);
    // A third replica got the re-created device's op, then the peer's summary.
    const receiver = await open('r', clock);
    await receiver.applyRemote([reused]);
    const error = await receiver.applyRemote(summary, { horizon }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpIdConflictError);
    expect(error).toMatchObject({ details: { replica: 'x', seq: 1 } });
    // Nothing of the rejected batch was applied, and the horizon did not move.
    expect(receiver.horizon()).toEqual({});
    expect(receiver.get('k1')).toBe('new');
    expect(receiver.get('k2')).toBeUndefined();
    expect(receiver.versionVector()).toEqual({ x: 1 });
    // The re-created device itself sees a horizon claiming more of its own ops than it wrote.
    await expect(recreated.applyRemote(summary, { horizon })).rejects.toBeInstanceOf(ForgedOwnOpError);
    await Promise.all([original.close(), peer.close(), recreated.close(), receiver.close()]);
  });

  it('rejects it too when the held op has a key the whole summary lacks, and only for a whole summary', async () => {
    const clock = new ManualClock(1_000);
    const original = await open('x', clock);
    const first = [await original.set('k1', 'old'), await original.set('k1', 'older')];
    const { summary, horizon } = await compactedPeer(clock, first);
    expect(summary.map((op) => op.seq)).toEqual([2]);
    const recreated = await open('x', clock);
    const receiver = await open('r', clock);
    await receiver.applyRemote([await recreated.set('elsewhere', 1)]);
    await expect(receiver.applyRemote(summary, { horizon, completeSummary: true })).rejects.toBeInstanceOf(OpIdConflictError);
    // Without the promise that the batch is the whole summary, a missing key proves nothing (see the next test).
    await receiver.applyRemote(summary, { horizon });
    expect(receiver.horizon()).toEqual(horizon);
  });

  it('accepts opsSince(vector) from a peer whose summary winners this replica already holds', async () => {
    const clock = new ManualClock(1_000);
    const original = await open('x', clock);
    const first = [await original.set('k1', 'a'), await original.set('k2', 'b')];
    const receiver = await open('r', clock);
    await receiver.applyRemote(first);
    // x keeps writing other keys and compacts; the receiver is offline meanwhile.
    for (let i = 0; i < 5; i++) await original.set(`other${i}`, i);
    await original.compact({ retainOps: 1 });
    // opsSince(receiver's vector) leaves out the winners of k1 and k2 (x:1, x:2): the receiver holds them.
    const batch = original.opsSince(receiver.versionVector());
    expect(batch.some((op) => op.key === 'k1' || op.key === 'k2')).toBe(false);
    await receiver.applyRemote(batch, { horizon: original.horizon() });
    expect(receiver.entries()).toEqual(original.entries());
  });

  it('adopts the horizon when the held ops are the ones the sender folded, or lose to its winners', async () => {
    const clock = new ManualClock(1_000);
    const original = await open('x', clock);
    const first = [await original.set('k1', 'a'), await original.set('k2', 'b')];
    clock.advance(5);
    const other = await open('y', clock);
    const later = await other.set('k1', 'y wins');
    // The receiver holds both of x's ops one by one; the sender folded them and y's later write on k1.
    const { summary, horizon } = await compactedPeer(clock, [...first, later]);
    const receiver = await open('r', clock);
    await receiver.applyRemote(first);
    await receiver.applyRemote(summary, { horizon });
    expect(receiver.horizon()).toEqual(horizon);
    expect(receiver.get('k1')).toBe('y wins');
    expect(receiver.get('k2')).toBe('b');
  });

  it('adopts it when the sender folded a delete that beats a held set', async () => {
    const clock = new ManualClock(1_000);
    const original = await open('x', clock);
    const set = await original.set('k', 1);
    clock.advance(1);
    const removed = await original.delete('k');
    const { summary, horizon } = await compactedPeer(clock, [set, removed]);
    const receiver = await open('r', clock);
    await receiver.applyRemote([set]);
    await receiver.applyRemote(summary, { horizon });
    expect(receiver.horizon()).toEqual({ x: 2 });
    expect(receiver.has('k')).toBe(false);
  });
});
