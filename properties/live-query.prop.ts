/**
 * Range reads and live queries against a model: after any run of sets, deletes and batches, `keys`/`entries`
 * of any range equal a filter-and-sort over a plain Map, and a subscribed query or watched key was told
 * exactly the results that changed (no event that changes nothing, none missed). Replay: see fc-config.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonValue, jsonEqual, ManualClock, type QueryEntry, type QueryOptions, Replica } from '../src/core/index.js';
import { fcParams } from './fc-config.js';

// Few distinct keys with shared prefixes, so ranges, prefixes and overwrites all get exercised.
const keyArb = fc.constantFrom('a', 'a/1', 'a/2', 'a/10', 'ab', 'b', 'b/1', 'b/x', 'c', 'a/1/z', '\u00e9', 'A');
const boundArb = fc.option(fc.constantFrom('', 'a', 'a/', 'a/1', 'a/2', 'b', 'b/', 'c', 'zz', 'A'), { nil: undefined });
const writeArb = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: keyArb, value: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('delete' as const), key: keyArb }),
  fc.record({ kind: fc.constant('batch' as const), keys: fc.array(keyArb, { minLength: 1, maxLength: 4 }), value: fc.integer({ min: 0, max: 3 }) }),
);
const queryArb: fc.Arbitrary<QueryOptions> = fc
  .record({ prefix: boundArb, start: boundArb, end: boundArb, limit: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }) })
  .map((q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as QueryOptions);

function modelEntries(model: Map<string, JsonValue>, q: QueryOptions): [string, JsonValue][] {
  const keys = [...model.keys()]
    .filter((k) => (q.prefix === undefined || k.startsWith(q.prefix)) && (q.start === undefined || k >= q.start) && (q.end === undefined || k < q.end))
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return keys.slice(0, q.limit ?? keys.length).map((k) => [k, model.get(k) as JsonValue]);
}

function sameEntries(a: readonly QueryEntry[], b: readonly QueryEntry[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry[0] === (b[i] as QueryEntry)[0] && jsonEqual(entry[1], (b[i] as QueryEntry)[1]));
}

describe('range reads and live queries', () => {
  it('match a sorted filter over a model, and subscribers see exactly the changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(writeArb, { maxLength: 40 }), fc.array(queryArb, { minLength: 1, maxLength: 4 }), keyArb, async (writes, queries, watched) => {
        const replica = await Replica.open({ replicaId: 'p', clock: new ManualClock(1) });
        const model = new Map<string, JsonValue>();
        const live = queries.map((q) => {
          const seen: (readonly QueryEntry[])[] = [];
          const query = replica.query(q);
          query.subscribe((result) => seen.push(result));
          return { q, query, seen, expected: [modelEntries(model, q)] };
        });
        const watchedSeen: (JsonValue | undefined)[] = [];
        replica.watch(watched).subscribe((value) => watchedSeen.push(value));
        const watchedExpected: (JsonValue | undefined)[] = [undefined];
        for (const write of writes) {
          if (write.kind === 'set') {
            await replica.set(write.key, write.value);
            model.set(write.key, write.value);
          } else if (write.kind === 'delete') {
            await replica.delete(write.key);
            model.delete(write.key);
          } else {
            await replica.batch((b) => {
              for (const key of write.keys) b.set(key, write.value);
            });
            for (const key of write.keys) model.set(key, write.value);
          }
          for (const entry of live) {
            const now = modelEntries(model, entry.q);
            if (!sameEntries(now, entry.expected[entry.expected.length - 1] as QueryEntry[])) entry.expected.push(now);
          }
          const value = model.get(watched);
          if (!jsonEqual(value, watchedExpected[watchedExpected.length - 1])) watchedExpected.push(value);
        }
        for (const entry of live) {
          expect(replica.entries(entry.q)).toEqual(modelEntries(model, entry.q));
          expect(replica.keys(entry.q)).toEqual(modelEntries(model, entry.q).map(([k]) => k));
          expect(entry.query.current).toEqual(modelEntries(model, entry.q));
          expect(entry.seen.map((r) => [...r])).toEqual(entry.expected);
        }
        expect(watchedSeen).toEqual(watchedExpected);
        await replica.close();
      }),
      fcParams(300),
    );
  });
});
