/**
 * Ops under a replica's own id that it never wrote (issue 20): a peer forging the id, or the ops of an earlier
 * device under the same id (a wiped device re-created under its old id, a stale backup). They are refused with a
 * typed error, and the replica moves to a fresh id, so forged ids can neither make its sequence jump nor collide
 * with its next writes; what it had written under the suspect seqs is written again under the new id.
 */
import { describe, expect, it } from 'vitest';
import { ForgedOwnOpError, ManualClock, MemoryStorage, type Op, OpIdConflictError, Replica, type ReplicaAlert, seededRandom } from '../../src/core/index.js';

const NOW_MS = 1_700_000_000_000;

async function open(replicaId: string, clock = new ManualClock(NOW_MS), storage = new MemoryStorage()): Promise<Replica> {
  return Replica.open({ replicaId, clock, storage, random: seededRandom(replicaId.length) });
}

function alertsOf(replica: Replica): ReplicaAlert[] {
  const alerts: ReplicaAlert[] = [];
  replica.subscribeAlerts((alert) => alerts.push(alert));
  return alerts;
}

describe('ops under our own id from outside', () => {
  it('a forged op 50 seqs ahead is refused; the sequence does not jump and the vector still says what we wrote (the reproduction)', async () => {
    const a = await open('a');
    const alerts = alertsOf(a);
    const mine = await a.set('k', 'mine');
    const entries = a.entries();
    const error = await a.applyRemote([{ ...mine, seq: mine.seq + 50, value: 'forged' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForgedOwnOpError);
    expect(error).toMatchObject({ code: 'FORGED_OWN_OP', details: { replica: 'a', seq: 51 } });
    expect(a.entries()).toEqual(entries);
    expect(a.versionVector()).toEqual({ a: 1 });
    // The replica writes under a fresh id from now on, and says so.
    expect(a.replicaId).not.toBe('a');
    expect(alerts).toEqual([{ type: 'identity-rotated', from: 'a', to: a.replicaId, reason: 'forged-own-op', reissued: 0, error }]);
    const next = await a.set('k', 'next');
    expect([next.replica, next.seq]).toEqual([a.replicaId, 1]);
    expect(a.versionVector()).toEqual({ a: 1, [a.replicaId]: 1 });
    // The forged op, offered again, is now another replica's op (a room member's write, merged like any).
    expect(await a.applyRemote([{ ...mine, seq: 51, value: 'forged' }])).toMatchObject({ applied: 1 });
    expect(a.versionVector()).toEqual({ a: 1, [a.replicaId]: 1 });
  });

  it('the new id is durable: a reopen keeps writing under it', async () => {
    const storage = new MemoryStorage();
    const a = await open('a', new ManualClock(NOW_MS), storage);
    const mine = await a.set('k', 1);
    await a.applyRemote([{ ...mine, seq: 9 }]).catch(() => undefined);
    const rotated = a.replicaId;
    await a.close();
    const reopened = await Replica.open({ storage, clock: new ManualClock(NOW_MS + 1) });
    expect(reopened.replicaId).toBe(rotated);
    expect((await reopened.set('k', 2)).replica).toBe(rotated);
  });

  it('an own id held with other content (equivocation) is OP_ID_CONFLICT; our winning writes from that seq on are written again under the new id', async () => {
    const clock = new ManualClock(NOW_MS);
    const a = await open('a', clock);
    const peer = await open('p', clock);
    const alerts = alertsOf(a);
    await a.set('early', 1);
    const mine = await a.set('k', 'mine');
    await a.set('k', 'newer');
    await a.set('other', 'x');
    // The peer holds a forged a:2 (it got it before ours) and refuses ours.
    const forged: Op = { ...mine, key: 'forged-key', value: 'forged' };
    await peer.applyRemote([(await a.opsSince({}))[0] as Op, forged]);
    await expect(peer.applyRemote(a.opsSince(peer.versionVector()).concat(mine))).rejects.toBeInstanceOf(OpIdConflictError);
    // We learn of it from the peer (here: it sends us its copy).
    const error = await a.applyRemote([forged]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpIdConflictError);
    expect(error).toMatchObject({ details: { replica: 'a', seq: 2, own: true } });
    expect(alerts.map((alert) => alert.type)).toEqual(['op-id-conflict', 'identity-rotated']);
    // Winners among a:2.. are k = 'newer' (a:3) and other = 'x' (a:4): written again, so the peer gets them.
    expect(alerts[1]).toMatchObject({ reason: 'own-id-conflict', reissued: 2 });
    expect(a.entries()).toEqual([
      ['early', 1],
      ['k', 'newer'],
      ['other', 'x'],
    ]);
    expect(await peer.applyRemote(a.opsSince(peer.versionVector()).filter((op) => op.replica === a.replicaId))).toMatchObject({ applied: 2 });
    expect(peer.get('k')).toBe('newer');
    expect(peer.get('other')).toBe('x');
  });

  it('a compaction horizon claiming more of our ops than we wrote is refused (no self-fencing by horizon)', async () => {
    const a = await open('victim');
    await a.set('k', 1);
    const error = await a.applyRemote([], { horizon: { victim: 2 ** 32 - 2 }, completeSummary: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForgedOwnOpError);
    expect(error).toMatchObject({ details: { replica: 'victim', claimed: 2 ** 32 - 2 } });
    expect(a.horizon()).toEqual({});
    expect(a.replicaId).not.toBe('victim');
    const next = await a.set('k', 2);
    expect(next.seq).toBe(1);
  });

  it('a wiped device re-created under its old id (the restore path): its old ops come back as another replica, and it converges', async () => {
    const clock = new ManualClock(NOW_MS);
    const original = await open('dev', clock);
    const peer = await open('p', clock);
    for (let i = 0; i < 5; i++) await original.set(`k${i}`, i);
    await peer.applyRemote(original.opsSince({}));
    const recreated = await open('dev', clock);
    const alerts = alertsOf(recreated);
    await expect(recreated.applyRemote(peer.opsSince(recreated.versionVector()))).rejects.toBeInstanceOf(ForgedOwnOpError);
    expect(alerts[0]).toMatchObject({ type: 'identity-rotated', from: 'dev', reason: 'forged-own-op' });
    await recreated.applyRemote(peer.opsSince(recreated.versionVector()));
    expect(recreated.entries()).toEqual(peer.entries());
    expect(recreated.versionVector()).toEqual(peer.versionVector());
    const write = await recreated.set('k0', 'new');
    await peer.applyRemote([write]);
    expect(peer.get('k0')).toBe('new');
  });

  it('our own ops echoed back are harmless duplicates (no rotation)', async () => {
    const a = await open('a');
    const ops = [await a.set('x', 1), await a.set('y', 2)];
    expect(await a.applyRemote(ops)).toMatchObject({ applied: 0, duplicates: 2 });
    await a.compact({ retainOps: 0 });
    expect(await a.applyRemote(ops)).toMatchObject({ applied: 0, duplicates: 2 });
    expect(a.replicaId).toBe('a');
  });

  it('a compacted winner offered again with other content is a conflict too', async () => {
    const a = await open('a');
    const b = await open('b');
    const op = await b.set('x', 1);
    await a.applyRemote([op]);
    await a.compact({ retainOps: 0 });
    await expect(a.applyRemote([{ ...op, value: 2 }])).rejects.toBeInstanceOf(OpIdConflictError);
  });

  it('rotateIdentity moves to a fresh id on request, once per expected id', async () => {
    const a = await open('a');
    await a.set('k', 1);
    const rotated = await a.rotateIdentity({ reissueFromSeq: 1 });
    expect(rotated).toMatchObject({ from: 'a', reissued: 1 });
    expect(a.replicaId).toBe(rotated.to);
    // A second request for the same old id changes nothing (two detections of one forgery rotate once).
    expect(await a.rotateIdentity({ expectedId: 'a' })).toEqual({ from: rotated.to, to: rotated.to, reissued: 0 });
    await expect(a.rotateIdentity({ reissueFromSeq: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
