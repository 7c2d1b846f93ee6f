/**
 * The storage contract suite: every adapter (memory, file log, IndexedDB) runs
 * exactly these tests through a `Replica`, so they behave the same to the core.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { HistoryTruncatedError, InvalidKeyError, InvalidValueError } from '../../src/core/errors.js';
import type { JsonValue } from '../../src/core/json.js';
import type { Op } from '../../src/core/op.js';
import { Replica } from '../../src/core/replica.js';
import type { Storage } from '../../src/core/storage.js';

/** One medium (a directory, a database name...) that storages can be opened on, one at a time. */
export interface StorageMedium {
  /** Opens a storage on the medium; the previous one was closed. */
  open(): Promise<Storage>;
  /** Removes the medium. */
  cleanup(): Promise<void>;
}

/** An adapter under test. */
export interface StorageHarness {
  readonly name: string;
  /** Creates a fresh, empty medium. */
  create(): Promise<StorageMedium>;
}

async function withMedium(harness: StorageHarness, body: (medium: StorageMedium) => Promise<void>): Promise<void> {
  const medium = await harness.create();
  try {
    await body(medium);
  } finally {
    await medium.cleanup();
  }
}

async function openReplica(medium: StorageMedium, clock = new ManualClock(1_000), replicaId?: string): Promise<Replica> {
  return Replica.open({ storage: await medium.open(), clock, ...(replicaId === undefined ? {} : { replicaId }) });
}

function snapshotOf(replica: Replica): { entries: [string, JsonValue][]; vv: Record<string, number> } {
  return { entries: replica.entries(), vv: { ...replica.versionVector() } };
}

/** Runs the contract against `harness`. */
export function runStorageConformance(harness: StorageHarness): void {
  describe(`storage conformance: ${harness.name}`, () => {
    it('round-trips sets, deletes and every JSON value shape across a reopen', async () => {
      await withMedium(harness, async (medium) => {
        const clock = new ManualClock(1_000);
        const a = await openReplica(medium, clock, 'alpha');
        const values: JsonValue[] = ['text', '', 0, -1.5, 1e300, true, false, null, [], {}, [1, 'two', { three: [3] }], { nested: { deep: [null, 'ü€𝄞'] } }];
        for (let i = 0; i < values.length; i++) {
          await a.set(`v/${i}`, values[i] as JsonValue);
          clock.advance(1);
        }
        await a.set('gone', 1);
        await a.delete('gone');
        await a.delete('never-set');
        const before = snapshotOf(a);
        const historyBefore = a.history('gone');
        await a.close();
        const b = await openReplica(medium, clock);
        expect(b.replicaId).toBe('alpha');
        expect(snapshotOf(b)).toEqual(before);
        expect(b.history('gone')).toEqual(historyBefore);
        for (let i = 0; i < values.length; i++) expect(b.get(`v/${i}`)).toEqual(values[i]);
        expect(b.has('gone')).toBe(false);
        // The sequence continues after a reopen: ids are never reused.
        const next = await b.set('after', 1);
        expect(next.seq).toBe(values.length + 4);
        await b.close();
      });
    });

    it('commits a batch atomically and writes nothing for a batch that fails validation', async () => {
      await withMedium(harness, async (medium) => {
        const a = await openReplica(medium);
        const ops = await a.batch([
          { type: 'set', key: 'x', value: 1 },
          { type: 'set', key: 'y', value: 2 },
          { type: 'delete', key: 'z' },
        ]);
        expect(ops.map((op) => op.seq)).toEqual([1, 2, 3]);
        await expect(a.batch([{ type: 'set', key: 'ok', value: 1 }, { type: 'set', key: 'bad', value: Number.NaN }])).rejects.toBeInstanceOf(InvalidValueError);
        await expect(
          a.batch((w) => {
            w.set('in-fn', 1);
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        await expect(a.set('', 1)).rejects.toBeInstanceOf(InvalidKeyError);
        const before = snapshotOf(a);
        await a.close();
        const b = await openReplica(medium);
        expect(snapshotOf(b)).toEqual(before);
        expect(b.has('ok')).toBe(false);
        expect(b.has('in-fn')).toBe(false);
        expect(b.entries()).toEqual([
          ['x', 1],
          ['y', 2],
        ]);
        await b.close();
      });
    });

    it('survives many close/reopen cycles with writes in between', async () => {
      await withMedium(harness, async (medium) => {
        const clock = new ManualClock(1_000);
        const expected = new Map<string, number>();
        for (let cycle = 0; cycle < 6; cycle++) {
          const r = await openReplica(medium, clock, 'cycler');
          expect(new Map(r.entries())).toEqual(expected);
          for (let i = 0; i < 20; i++) {
            const key = `k${(cycle * 7 + i) % 30}`;
            await r.set(key, cycle * 100 + i);
            expected.set(key, cycle * 100 + i);
            clock.advance(1);
          }
          await r.close();
        }
      });
    });

    it('compacts, reopens from the snapshot plus tail, and keeps tombstones', async () => {
      await withMedium(harness, async (medium) => {
        const clock = new ManualClock(1_000);
        const a = await openReplica(medium, clock, 'compactor');
        for (let i = 0; i < 600; i++) {
          clock.advance(1);
          if (i % 5 === 4) await a.delete(`k${i % 50}`);
          else await a.set(`k${i % 50}`, i);
        }
        const result = await a.compact({ retainOps: 100 });
        expect(result.compactedOps).toBe(500);
        expect(result.retainedOps).toBe(100);
        const before = snapshotOf(a);
        const horizon = a.horizon();
        await a.close();
        const b = await openReplica(medium, clock);
        expect(snapshotOf(b)).toEqual(before);
        expect(b.horizon()).toEqual(horizon);
        for (let i = 0; i < 50; i++) await b.set(`more${i}`, i);
        const second = await b.compact({ retainOps: 10 });
        expect(second.retainedOps).toBe(10);
        const after = snapshotOf(b);
        await b.close();
        const c = await openReplica(medium, clock);
        expect(snapshotOf(c)).toEqual(after);
        // Compacting everything leaves a snapshot and no tail; that must reopen too.
        await c.compact({ retainOps: 0 });
        await c.set('tail', 'after full compaction');
        const full = snapshotOf(c);
        await c.close();
        const d = await openReplica(medium, clock);
        expect(snapshotOf(d)).toEqual(full);
        await d.close();
      });
    });

    it('stores 1 MB values', async () => {
      await withMedium(harness, async (medium) => {
        const a = await openReplica(medium);
        const big = 'x'.repeat(1024 * 1024);
        const bigObject = { rows: Array.from({ length: 16_384 }, (_, i) => ({ i, s: 'abcdefghijklmnopqrstuvwxyz0123456789'.slice(i % 36) })) };
        await a.set('big', big);
        await a.set('bigObject', bigObject);
        await a.batch([
          { type: 'set', key: 'big2', value: `${big}y` },
          { type: 'set', key: 'small', value: 1 },
        ]);
        await a.close();
        const b = await openReplica(medium);
        expect(b.get('big')).toBe(big);
        expect(b.get('bigObject')).toEqual(bigObject);
        expect((b.get('big2') as string).length).toBe(big.length + 1);
        expect(b.get('small')).toBe(1);
        await b.close();
      });
    });

    it('holds 100,000 keys', async () => {
      await withMedium(harness, async (medium) => {
        const a = await openReplica(medium);
        const keyCount = 100_000;
        for (let start = 0; start < keyCount; start += 10_000) {
          await a.batch((w) => {
            for (let i = start; i < start + 10_000; i++) w.set(`key/${String(i).padStart(6, '0')}`, i);
          });
        }
        expect(a.size).toBe(keyCount);
        await a.close();
        const b = await openReplica(medium);
        expect(b.size).toBe(keyCount);
        expect(b.get('key/000000')).toBe(0);
        expect(b.get('key/099999')).toBe(99_999);
        expect(b.keys({ prefix: 'key/05000' }).length).toBe(10);
        await b.compact({ retainOps: 1_000 });
        await b.close();
        const c = await openReplica(medium);
        expect(c.size).toBe(keyCount);
        expect(c.get('key/054321')).toBe(54_321);
        await c.close();
      });
    });

    it('commits concurrent writers without losing or mixing any write', async () => {
      await withMedium(harness, async (medium) => {
        const a = await openReplica(medium);
        const writers = 40;
        const perWriter = 25;
        const results = await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            const ops: Op[] = [];
            for (let i = 0; i < perWriter; i++) {
              if (i % 10 === 9) ops.push(...(await a.batch([{ type: 'set', key: `w${w}/${i}`, value: i }, { type: 'set', key: `w${w}/${i}b`, value: -i }])));
              else ops.push(await a.set(`w${w}/${i}`, { w, i }));
            }
            return ops;
          }),
        );
        const seqs = results.flat().map((op) => op.seq);
        expect(new Set(seqs).size).toBe(seqs.length);
        const before = snapshotOf(a);
        await a.close();
        const b = await openReplica(medium);
        expect(snapshotOf(b)).toEqual(before);
        for (let w = 0; w < writers; w++) {
          expect(b.get(`w${w}/0`)).toEqual({ w, i: 0 });
          expect(b.get(`w${w}/9b`)).toBe(-9);
        }
        await b.close();
      });
    });

    it('accepts concurrent appends issued directly on the storage', async () => {
      await withMedium(harness, async (medium) => {
        const storage = await medium.open();
        await storage.load();
        await storage.writeMeta({ replicaId: 'direct' });
        const batches: Op[][] = Array.from({ length: 30 }, (_, b) =>
          Array.from({ length: 3 }, (_, i) => ({ replica: 'direct', seq: b * 3 + i + 1, wall: 5_000 + b, logical: i, key: `d${b}`, type: 'set' as const, value: i })),
        );
        await Promise.all(batches.map((batch) => storage.append(batch)));
        await storage.close();
        const reopened = await medium.open();
        const loaded = await reopened.load();
        const read: (readonly Op[])[] = [];
        for await (const batch of loaded.batches) read.push(batch);
        await reopened.close();
        expect(loaded.meta).toEqual({ replicaId: 'direct' });
        expect(read.map((b) => b.map((op) => op.seq).join(',')).sort()).toEqual(batches.map((b) => b.map((op) => op.seq).join(',')).sort());
      });
    });

    it('keeps the configured history and refuses points before it', async () => {
      await withMedium(harness, async (medium) => {
        const clock = new ManualClock(10_000);
        const a = await openReplica(medium, clock, 'hist');
        const written: Op[] = [];
        for (let i = 0; i < 300; i++) {
          clock.advance(1);
          written.push(await a.set(`k${i % 10}`, i));
        }
        await a.compact({ retainOps: 50 });
        await a.close();
        const b = await openReplica(medium, clock);
        // The retained window: the last 50 ops individually, plus each key's compacted winner.
        const historyK3 = b.history('k3');
        expect(historyK3.map((op) => op.value)).toEqual([243, 253, 263, 273, 283, 293]);
        const horizon = b.historyHorizon();
        expect(horizon.base).toEqual({ hist: 250 });
        expect(() => b.stateAt({ versionVector: { hist: 100 } })).toThrow(HistoryTruncatedError);
        expect(() => b.stateAt({ timestamp: written[10] as Op })).toThrow(HistoryTruncatedError);
        const at = written[269] as Op;
        const expected = new Map<string, JsonValue>();
        for (const op of written.slice(0, 270)) expected.set(op.key, op.value as JsonValue);
        expect(b.stateAt({ timestamp: at })).toEqual(new Map([...expected].sort(([x], [y]) => (x < y ? -1 : 1))));
        expect(b.stateAt({ versionVector: { hist: 270 } })).toEqual(b.stateAt({ timestamp: at }));
        await b.close();
        // The retained amount is configurable per replica: compact() without arguments keeps historyOpsRetained ops.
        const c = await Replica.open({ storage: await medium.open(), clock, historyOpsRetained: 20 });
        const result = await c.compact();
        expect(result.retainedOps).toBe(20);
        expect(c.historyHorizon().base).toEqual({ hist: 280 });
        await c.close();
        const d = await openReplica(medium, clock);
        expect(d.historyHorizon().base).toEqual({ hist: 280 });
        expect(d.history('k3').map((op) => op.value)).toEqual([273, 283, 293]);
        await d.close();
      });
    });

    it('lets a replica that was offline across a compaction converge, and stay converged after reopening', async () => {
      const mediumA = await harness.create();
      const mediumB = await harness.create();
      try {
        const clock = new ManualClock(50_000);
        let a = await openReplica(mediumA, clock, 'online');
        let b = await openReplica(mediumB, clock, 'offline');
        for (let i = 0; i < 40; i++) await a.set(`shared${i % 20}`, `a${i}`);
        await b.applyRemote(a.opsSince(b.versionVector()));
        // b goes offline; a deletes, overwrites and compacts the tombstones into its snapshot.
        clock.advance(10);
        for (let i = 0; i < 20; i += 2) await a.delete(`shared${i}`);
        for (let i = 0; i < 60; i++) await a.set(`a-only${i % 15}`, i);
        await a.compact({ retainOps: 5 });
        // b writes meanwhile, with an older clock for some keys (so a's later ops must win).
        for (let i = 0; i < 20; i += 3) await b.set(`shared${i}`, `b${i}`);
        clock.advance(10);
        await b.set('b-only', true);
        await b.close();
        await a.close();
        a = await openReplica(mediumA, clock);
        b = await openReplica(mediumB, clock);
        const toB = a.opsSince(b.versionVector());
        await b.applyRemote(toB, { horizon: a.horizon() });
        await a.applyRemote(b.opsSince(a.versionVector()), { horizon: b.horizon() });
        expect(b.entries()).toEqual(a.entries());
        expect(b.versionVector()).toEqual(a.versionVector());
        expect(a.has('shared0')).toBe(false);
        expect(a.get('b-only')).toBe(true);
        const converged = a.entries();
        await a.close();
        await b.close();
        a = await openReplica(mediumA, clock);
        b = await openReplica(mediumB, clock);
        expect(a.entries()).toEqual(converged);
        expect(b.entries()).toEqual(converged);
        expect(b.versionVector()).toEqual(a.versionVector());
        await a.close();
        await b.close();
      } finally {
        await mediumA.cleanup();
        await mediumB.cleanup();
      }
    });

    it('rejects use after close with a typed error and keeps the data', async () => {
      await withMedium(harness, async (medium) => {
        const a = await openReplica(medium);
        await a.set('kept', 1);
        await a.close();
        await expect(a.set('late', 1)).rejects.toMatchObject({ code: 'REPLICA_CLOSED' });
        const b = await openReplica(medium);
        expect(b.entries()).toEqual([['kept', 1]]);
        await b.close();
      });
    });
  });
}
