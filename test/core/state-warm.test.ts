/** `MaterializedState.warm`: the read-only look-up the commit path runs while an fsync is in flight. */
import { describe, expect, it } from 'vitest';
import { Replica } from '../../src/core/replica.js';
import { MaterializedState } from '../../src/core/state.js';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import type { Op } from '../../src/core/op.js';
import type { Storage } from '../../src/core/storage.js';

const op = (key: string, seq: number, wall: number, type: 'set' | 'delete' = 'set'): Op =>
  Object.freeze(type === 'set' ? { replica: 'a', seq, wall, logical: 0, key, type, value: seq } : { replica: 'a', seq, wall, logical: 0, key, type });

describe('MaterializedState.warm', () => {
  it('counts the ops that would win and changes nothing', () => {
    const state = new MaterializedState();
    state.apply(op('x', 1, 10));
    state.apply(op('y', 2, 10, 'delete'));
    const before = [state.size, state.get('x'), state.has('y'), state.keys().slice()];
    // x: older loses, newer wins; y: newer wins over the tombstone; z: new key wins.
    expect(state.warm([op('x', 3, 5), op('x', 4, 20), op('y', 5, 20), op('z', 6, 1)])).toBe(3);
    expect(state.lastWarmWins).toBe(3);
    expect([state.size, state.get('x'), state.has('y'), state.keys().slice()]).toEqual(before);
  });

  it('runs on the commit path only for storage that waits on a device, and a read during the wait sees only durable state', async () => {
    let release: (() => void) | undefined;
    const memory = new MemoryStorage();
    const slow: Storage = {
      appendWaitsOnDevice: true,
      load: () => memory.load(),
      append: async (batch) => {
        await memory.append(batch);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      writeSnapshot: (snapshot) => memory.writeSnapshot(snapshot),
      writeMeta: (meta) => memory.writeMeta(meta),
      close: () => memory.close(),
    };
    const replica = await Replica.open({ storage: slow, replicaId: 'a' });
    const pending = replica.set('k', 1);
    while (release === undefined) await null;
    // The look-up ran while the append waited.
    // biome-ignore lint/complexity/useLiteralKeys: reads a private field (TypeScript allows it only in bracket form)
    expect(replica['data'].state.lastWarmWins).toBe(1);
    expect(replica.get('k')).toBeUndefined();
    release();
    await pending;
    expect(replica.get('k')).toBe(1);
    await replica.close();
  });
});
