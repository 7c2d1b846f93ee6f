/**
 * Clocks that lie (issue 20): a remote op stamped far in the future, stamps at the edge of what the HLC can count,
 * and a local clock that jumps or returns garbage. Nothing of that may win over honest writes, stop the clock
 * counting, or make the local log unreadable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClockDriftError,
  type Clock,
  compareOps,
  InvalidArgumentError,
  LOGICAL_MAX,
  MalformedOpError,
  ManualClock,
  MemoryStorage,
  type Op,
  Replica,
  type ReplicaAlert,
  WALL_MAX,
} from '../../src/core/index.js';
import { FileStorage } from '../../src/storage/file/index.js';
import { observe } from './doubles.js';

const YEAR_2200_MS = 7_258_118_400_000;
const NOW_MS = 1_700_000_000_000;
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tidelog-clocks-'));
  dirs.push(dir);
  return dir;
}

function alertsOf(replica: Replica): ReplicaAlert[] {
  const alerts: ReplicaAlert[] = [];
  replica.subscribeAlerts((alert) => alerts.push(alert));
  return alerts;
}

describe('a remote op stamped far in the future', () => {
  it('is refused with ClockDriftError, and later honest writes win (the year-2200 reproduction)', async () => {
    const clock = new ManualClock(NOW_MS);
    const a = await Replica.open({ replicaId: 'a', clock });
    const b = await Replica.open({ replicaId: 'b', clock });
    const alerts = alertsOf(a);
    const before = observe(a);
    const future = { replica: 'mallory', seq: 1, wall: YEAR_2200_MS, logical: 0, key: 'doc', type: 'set', value: 'x' };
    const error = await a.applyRemote([future]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClockDriftError);
    expect(error).toMatchObject({
      code: 'CLOCK_DRIFT',
      details: { origin: 'remote', replica: 'mallory', seq: 1, wall: YEAR_2200_MS, nowMs: NOW_MS, maxDriftMs: 300_000, limitWall: NOW_MS + 300_000, waitMs: YEAR_2200_MS - NOW_MS - 300_000 },
    });
    expect((error as Error).message).toContain('mallory:1');
    expect(observe(a)).toBe(before);
    expect(alerts).toEqual([{ type: 'clock-drift', origin: 'remote', error }]);
    // The clean replica writes later in real time; A merges it and shows it: A's clock never moved to 2200.
    clock.advance(1_000);
    await b.set('doc', 'honest');
    await a.applyRemote(b.opsSince(a.versionVector()));
    expect(a.get('doc')).toBe('honest');
    const next = await a.set('other', 1);
    expect(next.wall).toBe(NOW_MS + 1_000);
  });

  it('refuses the batch whole: nothing of it is applied and the clock does not move', async () => {
    const clock = new ManualClock(NOW_MS);
    const a = await Replica.open({ replicaId: 'a', clock });
    const good = { replica: 'b', seq: 1, wall: NOW_MS, logical: 0, key: 'k', type: 'set', value: 1 };
    const far = { replica: 'b', seq: 2, wall: NOW_MS + 300_001, logical: 0, key: 'k', type: 'set', value: 2 };
    await expect(a.applyRemote([good, far])).rejects.toBeInstanceOf(ClockDriftError);
    expect(a.entries()).toEqual([]);
    expect(a.versionVector()).toEqual({});
    // Exactly at the bound is accepted.
    await a.applyRemote([good, { ...far, wall: NOW_MS + 300_000 }]);
    expect(a.get('k')).toBe(2);
  });

  it('becomes acceptable once the clock catches up', async () => {
    const clock = new ManualClock(NOW_MS);
    const a = await Replica.open({ replicaId: 'a', clock });
    const ahead = { replica: 'b', seq: 1, wall: NOW_MS + 600_000, logical: 0, key: 'k', type: 'set', value: 'early' };
    const error = (await a.applyRemote([ahead]).catch((e: unknown) => e)) as ClockDriftError;
    expect(error.details.waitMs).toBe(300_000);
    clock.advance(error.details.waitMs as number);
    expect(await a.applyRemote([ahead])).toMatchObject({ applied: 1 });
  });

  it('honours maxDriftMs per replica, and checks it', async () => {
    const clock = new ManualClock(NOW_MS);
    const strict = await Replica.open({ replicaId: 's', clock, maxDriftMs: 1_000 });
    const lenient = await Replica.open({ replicaId: 'l', clock, maxDriftMs: 3_600_000 });
    const op = { replica: 'b', seq: 1, wall: NOW_MS + 2_000, logical: 0, key: 'k', type: 'set', value: 1 };
    await expect(strict.applyRemote([op])).rejects.toMatchObject({ code: 'CLOCK_DRIFT', details: { maxDriftMs: 1_000 } });
    expect(await lenient.applyRemote([op])).toMatchObject({ applied: 1 });
    for (const bad of [-1, 1.5, Number.NaN, WALL_MAX + 1]) await expect(Replica.open({ maxDriftMs: bad })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('a snapshot summary stamped in the future is refused like any batch', async () => {
    const clock = new ManualClock(NOW_MS);
    const a = await Replica.open({ replicaId: 'a', clock });
    const winner = { replica: 'b', seq: 5, wall: YEAR_2200_MS, logical: 0, key: 'k', type: 'set', value: 1 };
    await expect(a.applyRemote([winner], { horizon: { b: 5 }, completeSummary: true })).rejects.toBeInstanceOf(ClockDriftError);
    expect(a.horizon()).toEqual({});
  });
});

describe('stamps at the edge of what the clock can count', () => {
  it('an op at wall 2^53-1, logical 2^53-4 is malformed, and the log keeps opening with every write (the bricking reproduction)', async () => {
    const dir = await tempDir();
    const clock = new ManualClock(NOW_MS);
    const a = await Replica.open({ replicaId: 'a', clock, storage: await FileStorage.open(dir) });
    const hostile = { replica: 'peer', seq: 1, wall: 2 ** 53 - 1, logical: 2 ** 53 - 4, key: 'doc', type: 'set', value: 'x' };
    await expect(a.applyRemote([hostile])).rejects.toBeInstanceOf(MalformedOpError);
    await expect(a.applyRemote([{ ...hostile, wall: NOW_MS }])).rejects.toMatchObject({ code: 'MALFORMED_OP', details: { field: 'logical' } });
    const written: Op[] = [];
    for (let i = 0; i < 6; i++) written.push(await a.set(`k${i}`, i));
    for (let i = 1; i < written.length; i++) expect(compareOps(written[i] as Op, written[i - 1] as Op)).toBeGreaterThan(0);
    await a.close();
    const reopened = await Replica.open({ clock, storage: await FileStorage.open(dir) });
    expect(reopened.size).toBe(6);
    expect(reopened.has('doc')).toBe(false);
    await reopened.close();
  });

  it('a logical counter at its bound moves the clock to the next millisecond: every stamp distinct, increasing, readable', async () => {
    const dir = await tempDir();
    const clock = new ManualClock(NOW_MS);
    const a = await Replica.open({ replicaId: 'a', clock, storage: await FileStorage.open(dir) });
    const peer = await Replica.open({ replicaId: 'p', clock });
    await a.applyRemote([{ replica: 'peer', seq: 1, wall: NOW_MS, logical: LOGICAL_MAX - 2, key: 'doc', type: 'set', value: 'x' }]);
    const written: Op[] = [];
    for (let i = 0; i < 6; i++) written.push(await a.set('doc', i));
    expect(written.map((op) => [op.wall - NOW_MS, op.logical])).toEqual([
      [0, LOGICAL_MAX - 1],
      [0, LOGICAL_MAX],
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    // Peers accept every one of them (8 of 8 arrive: none is malformed).
    expect(await peer.applyRemote(a.opsSince({}))).toMatchObject({ applied: 7 });
    expect(peer.get('doc')).toBe(5);
    await a.close();
    const reopened = await Replica.open({ clock, storage: await FileStorage.open(dir) });
    expect(reopened.get('doc')).toBe(5);
    const after = await reopened.set('doc', 'after');
    expect(compareOps(after, written[5] as Op)).toBeGreaterThan(0);
    await reopened.close();
  });
});

describe('a local clock that lies', () => {
  it('a reading that is not a time (NaN, Infinity, negative, past WALL_MAX) is never adopted', async () => {
    const dir = await tempDir();
    let reading = NOW_MS;
    const clock: Clock = { now: () => reading };
    const a = await Replica.open({ replicaId: 'a', clock, storage: await FileStorage.open(dir) });
    const written: Op[] = [await a.set('k', 'start')];
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -5, 1e300, WALL_MAX + 1]) {
      reading = bad;
      written.push(await a.set('k', String(bad)));
    }
    for (const op of written) expect(op.wall).toBe(NOW_MS);
    for (let i = 1; i < written.length; i++) expect(compareOps(written[i] as Op, written[i - 1] as Op)).toBeGreaterThan(0);
    reading = NOW_MS + 5;
    expect((await a.set('k', 'good again')).wall).toBe(NOW_MS + 5);
    await a.close();
    const reopened = await Replica.open({ clock, storage: await FileStorage.open(dir) });
    expect(reopened.get('k')).toBe('good again');
    await reopened.close();
  });

  it('a clock that jumps back further than maxDriftMs: writes are refused (typed, told) until it catches up, and stamps stay monotonic', async () => {
    const clock = new ManualClock(NOW_MS);
    const storage = new MemoryStorage();
    const a = await Replica.open({ replicaId: 'a', clock, storage });
    const alerts = alertsOf(a);
    const first = await a.set('k', 1);
    clock.advance(-240_000); // back 4 minutes: inside the bound, the HLC keeps counting past the last stamp
    const second = await a.set('k', 2);
    expect(compareOps(second, first)).toBeGreaterThan(0);
    clock.set(NOW_MS - 600_000); // back 10 minutes
    const batches = storage.batchCount;
    const error = await a.set('k', 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClockDriftError);
    expect(error).toMatchObject({ details: { origin: 'local', wall: NOW_MS, nowMs: NOW_MS - 600_000, maxDriftMs: 300_000, waitMs: 300_000 } });
    await expect(a.batch([{ type: 'set', key: 'k', value: 4 }])).rejects.toBeInstanceOf(ClockDriftError);
    expect(storage.batchCount).toBe(batches);
    expect(a.get('k')).toBe(2);
    expect(alerts.map((alert) => [alert.type, alert.type === 'clock-drift' ? alert.origin : '']).slice(0, 2)).toEqual([
      ['clock-drift', 'local'],
      ['clock-drift', 'local'],
    ]);
    // Remote ops from honest peers still merge meanwhile (their stamps are behind ours, which is fine).
    await a.applyRemote([{ replica: 'b', seq: 1, wall: NOW_MS - 600_000, logical: 0, key: 'j', type: 'set', value: 'b' }]);
    expect(a.get('j')).toBe('b');
    clock.advance(300_000);
    const third = await a.set('k', 5);
    expect(compareOps(third, second)).toBeGreaterThan(0);
    // The next write after a refusal takes the next seq: nothing was used up.
    expect(third.seq).toBe(3);
  });

  it('a clock that jumped far ahead and was set right again does not write in the future: refused until real time catches up', async () => {
    const clock = new ManualClock(NOW_MS);
    const a = await Replica.open({ replicaId: 'a', clock });
    const peer = await Replica.open({ replicaId: 'p', clock });
    clock.set(YEAR_2200_MS);
    const wrong = await a.set('k', 'written in 2200');
    expect(wrong.wall).toBe(YEAR_2200_MS);
    // Every peer with a correct clock refuses it.
    clock.set(NOW_MS);
    await expect(peer.applyRemote([wrong])).rejects.toBeInstanceOf(ClockDriftError);
    // And the device itself refuses to stamp new writes in 2200 now that its clock is right.
    await expect(a.set('k', 'now')).rejects.toMatchObject({ code: 'CLOCK_DRIFT', details: { origin: 'local', wall: YEAR_2200_MS } });
  });
});
