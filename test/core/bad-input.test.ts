import { describe, expect, it } from 'vitest';
import { JSON_DEPTH_MAX, type JsonValue, KEY_LENGTH_MAX, ManualClock, MemoryStorage, type Op, Replica, TidelogError } from '../../src/core/index.js';
import { errorOf, observe } from './doubles.js';

async function seeded(): Promise<{ r: Replica; storage: MemoryStorage }> {
  const storage = new MemoryStorage();
  const r = await Replica.open({ replicaId: 'a', storage, clock: new ManualClock(1_000) });
  await r.set('keep', { v: 1 });
  await r.delete('gone');
  return { r, storage };
}

/** Runs a call that must fail with `code`, and checks that neither state nor storage moved. */
async function expectRejected(r: Replica, storage: MemoryStorage, code: string, call: () => unknown): Promise<void> {
  const before = observe(r);
  const batches = storage.batchCount;
  const error = await errorOf(call);
  expect(error).toBeInstanceOf(TidelogError);
  expect((error as TidelogError).code).toBe(code);
  expect(observe(r)).toBe(before);
  expect(storage.batchCount).toBe(batches);
}

function deep(levels: number): JsonValue {
  let value: JsonValue = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

class Point {
  x = 1;
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
const cyclicArray: unknown[] = [1];
cyclicArray.push({ back: cyclicArray });
// biome-ignore lint/suspicious/noSparseArray: the point of the test
const sparse = [1, , 3];
const withSymbolKey = { a: 1, [Symbol('s')]: 2 };

const badKeys: [string, unknown][] = [
  ['empty', ''],
  ['number', 42],
  ['undefined', undefined],
  ['null', null],
  ['object', { k: 1 }],
  ['too long', 'k'.repeat(KEY_LENGTH_MAX + 1)],
];

// Deliberately not JSON values: typed as JsonValue so they reach the runtime checks (the types refuse them).
const badValues = [
  ['function', () => 1],
  ['cycle', cyclic],
  ['cycle through an array', cyclicArray],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity nested', { a: [Number.NEGATIVE_INFINITY] }],
  ['BigInt', 10n],
  ['undefined', undefined],
  ['undefined inside an object', { a: undefined }],
  ['symbol', Symbol('s')],
  ['symbol key', withSymbolKey],
  ['class instance', new Point()],
  ['Date', new Date(0)],
  ['Map', new Map()],
  ['Uint8Array', new Uint8Array(2)],
  ['sparse array', sparse],
  ['too deep', deep(JSON_DEPTH_MAX + 1)],
] as [string, unknown][] as [string, JsonValue][];

describe('invalid keys and values get typed errors and change nothing', () => {
  it('accepts a key of exactly the maximum length and a value at the maximum depth', async () => {
    const { r } = await seeded();
    await r.set('k'.repeat(KEY_LENGTH_MAX), deep(JSON_DEPTH_MAX - 1));
    expect(r.has('k'.repeat(KEY_LENGTH_MAX))).toBe(true);
  });

  for (const [name, key] of badKeys) {
    it(`key: ${name}`, async () => {
      const { r, storage } = await seeded();
      await expectRejected(r, storage, 'INVALID_KEY', () => r.set(key as string, 1));
      await expectRejected(r, storage, 'INVALID_KEY', () => r.delete(key as string));
      await expectRejected(r, storage, 'INVALID_KEY', () => r.batch([{ type: 'set', key: 'ok', value: 1 }, { type: 'delete', key: key as string }]));
      await expectRejected(r, storage, 'INVALID_KEY', () =>
        r.batch((b) => {
          b.set('ok', 1);
          b.set(key as string, 1);
        }),
      );
      await expectRejected(r, storage, 'INVALID_KEY', () => r.history(key as string));
    });
  }

  for (const [name, value] of badValues) {
    it(`value: ${name}`, async () => {
      const { r, storage } = await seeded();
      await expectRejected(r, storage, 'INVALID_VALUE', () => r.set('keep', value));
      await expectRejected(r, storage, 'INVALID_VALUE', () => r.batch([{ type: 'set', key: 'ok', value: 1 }, { type: 'set', key: 'keep', value }]));
      await expectRejected(r, storage, 'INVALID_VALUE', () =>
        r.batch((b) => {
          b.set('ok', 1);
          b.set('keep', value);
        }),
      );
    });
  }

  it('malformed batch entries get INVALID_ARGUMENT', async () => {
    const { r, storage } = await seeded();
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.batch('nope' as never));
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.batch([null as never]));
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.batch([{ type: 'set', key: 'a', value: 1 }, { type: 'merge', key: 'a' } as never]));
    await expectRejected(r, storage, 'INVALID_VALUE', () => r.batch([{ type: 'set', key: 'a' } as never]));
  });

  it('bad compaction and stateAt arguments get typed errors', async () => {
    const { r, storage } = await seeded();
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.compact({ retainOps: -1 }));
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.compact({ retainOps: 0.5 }));
    await expectRejected(r, storage, 'MALFORMED_OP', () => r.stateAt({ versionVector: { a: -1 } }));
    await expectRejected(r, storage, 'MALFORMED_OP', () => r.stateAt({ versionVector: [] as never }));
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.stateAt({ timestamp: { wall: 'x', logical: 0 } } as never));
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.stateAt({ timestamp: { wall: 1, logical: Number.NaN } }));
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.stateAt(null as never));
    await expectRejected(r, storage, 'INVALID_ARGUMENT', () => r.stateAt({} as never));
    await expectRejected(r, storage, 'MALFORMED_OP', () => r.opsSince({ a: 1.5 }));
    await expectRejected(r, storage, 'MALFORMED_OP', () => r.opsSince(null as never));
  });
});

function goodOp(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { replica: 'b', seq: 1, wall: 5, logical: 0, key: 'k', type: 'set', value: 1, ...overrides };
}

const malformedOps: [string, unknown][] = [
  ['not an object', 'op'],
  ['null', null],
  ['missing replica', goodOp({ replica: undefined })],
  ['empty replica', goodOp({ replica: '' })],
  ['replica too long', goodOp({ replica: 'r'.repeat(129) })],
  ['numeric replica', goodOp({ replica: 7 })],
  ['seq 0', goodOp({ seq: 0 })],
  ['seq fractional', goodOp({ seq: 1.5 })],
  ['seq string', goodOp({ seq: '1' })],
  ['seq too large', goodOp({ seq: 2 ** 32 })],
  ['wall negative', goodOp({ wall: -1 })],
  ['wall NaN', goodOp({ wall: Number.NaN })],
  ['wall unsafe', goodOp({ wall: 2 ** 53 })],
  ['logical fractional', goodOp({ logical: 0.5 })],
  ['logical missing', goodOp({ logical: undefined })],
  ['key empty', goodOp({ key: '' })],
  ['key not a string', goodOp({ key: 3 })],
  ['key too long', goodOp({ key: 'k'.repeat(KEY_LENGTH_MAX + 1) })],
  ['type unknown', goodOp({ type: 'merge' })],
  ['set without value', goodOp({ value: undefined })],
  ['delete with value', goodOp({ type: 'delete', value: 1 })],
  ['value a function', goodOp({ value: () => 1 })],
  ['value NaN', goodOp({ value: Number.NaN })],
  ['value a class instance', goodOp({ value: new Point() })],
];

describe('applyRemote rejects malformed batches whole', () => {
  for (const [name, bad] of malformedOps) {
    it(`field: ${name}`, async () => {
      const { r, storage } = await seeded();
      // The bad op sits after a valid one: the valid one must not be applied either.
      await expectRejected(r, storage, 'MALFORMED_OP', () => r.applyRemote([goodOp({ key: 'fresh', seq: 3 }), bad]));
      expect(r.has('fresh')).toBe(false);
    });
  }

  it('rejects a non-array and a malformed horizon', async () => {
    const { r, storage } = await seeded();
    await expectRejected(r, storage, 'MALFORMED_OP', () => r.applyRemote('ops' as never));
    await expectRejected(r, storage, 'MALFORMED_OP', () => r.applyRemote([goodOp()], { horizon: { b: -3 } }));
  });

  it('unknown fields are dropped and values are copied and frozen', async () => {
    const { r } = await seeded();
    const value = { nested: [1] };
    await r.applyRemote([{ ...goodOp({ value }), extra: 'x' }]);
    value.nested.push(2);
    expect(r.get('k')).toEqual({ nested: [1] });
    expect(r.history('k')[0]).not.toHaveProperty('extra');
  });

  it('an op id reused for different content is OP_ID_CONFLICT and nothing of the batch applies', async () => {
    const { r, storage } = await seeded();
    await r.applyRemote([goodOp({ seq: 1, key: 'x', value: 1 })]);
    for (const conflicting of [goodOp({ seq: 1, key: 'x', value: 2 }), goodOp({ seq: 1, key: 'y', value: 1 }), goodOp({ seq: 1, key: 'x', wall: 6 }), goodOp({ seq: 1, key: 'x', type: 'delete', value: undefined })]) {
      await expectRejected(r, storage, 'OP_ID_CONFLICT', () => r.applyRemote([goodOp({ seq: 2, key: 'new' }), conflicting]));
    }
    // Our own id, reused by a stale backup of us: refused, and the values stay (the replica then writes under a
    // fresh id, re-issuing its winners: see own-id.test.ts).
    const own = r.history('keep')[0] as Op;
    const entries = r.entries();
    expect(await errorOf(() => r.applyRemote([{ ...own, value: 'other' }]))).toMatchObject({ code: 'OP_ID_CONFLICT' });
    expect(r.entries()).toEqual(entries);
    expect(r.replicaId).not.toBe(own.replica);
    // Within one batch.
    await expectRejected(r, storage, 'OP_ID_CONFLICT', () => r.applyRemote([goodOp({ seq: 5 }), goodOp({ seq: 5, value: 9 })]));
    // An identical duplicate is fine.
    expect(await r.applyRemote([goodOp({ seq: 1, key: 'x', value: 1 })])).toMatchObject({ applied: 0, duplicates: 1 });
  });

  it('a rejected remote batch in the same commit group does not hide its ops from the next batch', async () => {
    const { r } = await seeded();
    await r.applyRemote([goodOp({ seq: 1, key: 'x', value: 1 })]);
    // Both batches are submitted in the same tick, so they share one commit group.
    const rejected = r.applyRemote([goodOp({ seq: 2, key: 'y', value: 'staged' }), goodOp({ seq: 1, key: 'x', value: 'conflict' })]);
    const accepted = r.applyRemote([goodOp({ seq: 2, key: 'y', value: 'other' })]);
    await expect(rejected).rejects.toMatchObject({ code: 'OP_ID_CONFLICT' });
    expect(await accepted).toMatchObject({ applied: 1, duplicates: 0 });
    expect(r.get('y')).toBe('other');
    expect(r.versionVector()).toEqual({ a: 2, b: 2 });
  });
});
