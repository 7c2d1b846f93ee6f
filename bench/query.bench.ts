/**
 * The query suite (issue 16): a range read on 1,000,000 keys through the sorted index against a full scan of
 * the same keys (a plain Map, filtered then sorted: the cheapest scan there is, with no replica in the way),
 * a prefix read, a live query's cost per write it is told about, and the cost of keeping the index: fresh
 * keys written then read once, against the same writes without an index read. Every task checks its result.
 */
import { Bench } from 'tinybench';
import { ManualClock, Replica } from '../src/core/index.js';
import type { BenchResult, SuiteOptions } from './types.js';

/** Width of every key's number, so key order is number order. */
const DIGITS = 7;
/** Keys in one range read (the size of a page a UI shows). */
const RANGE_KEYS = 100;

const keyOf = (i: number): string => `item/${String(i).padStart(DIGITS, '0')}`;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`query bench: wrong result: ${what}`);
}

async function filled(keys: number): Promise<Replica> {
  const replica = await Replica.open({ replicaId: 'bench', clock: new ManualClock(1_000) });
  const batchOps = 10_000;
  for (let from = 0; from < keys; from += batchOps) {
    await replica.batch((b) => {
      for (let i = from; i < Math.min(keys, from + batchOps); i++) b.set(keyOf(i), i);
    });
  }
  return replica;
}

function mean(bench: Bench, name: string): number {
  const task = bench.tasks.find((t) => t.name === name);
  const result = task?.result;
  if (result === undefined || result.state !== 'completed') throw new Error(`query bench: ${name} did not complete`);
  return result.latency.mean;
}

/** Runs the query benchmarks. */
export async function querySuite(opts: SuiteOptions): Promise<BenchResult[]> {
  const keys = opts.quick ? 100_000 : 1_000_000;
  const replica = await filled(keys);
  check(replica.size === keys, `size ${replica.size}`);
  // The scan's data: the same keys and values in a Map, as an app without an index would hold them.
  const plain = new Map<string, number>();
  for (let i = 0; i < keys; i++) plain.set(keyOf(i), i);
  const startAt = Math.floor(keys / 2);
  const start = keyOf(startAt);
  const end = keyOf(startAt + RANGE_KEYS);
  const prefix = keyOf(startAt).slice(0, -2); // 100 keys share all but the last two digits
  const checkRange = (entries: readonly (readonly [string, unknown])[]): void => {
    check(entries.length === RANGE_KEYS && entries[0]?.[0] === start && entries.at(-1)?.[0] === keyOf(startAt + RANGE_KEYS - 1), `range of ${entries.length}`);
  };

  const bench = new Bench({ name: 'query', time: opts.quick ? 300 : 1_500, warmupTime: opts.quick ? 100 : 300 });
  bench.add('range read, sorted index', () => checkRange(replica.entries({ start, end })));
  bench.add('range read, limit, sorted index', () => checkRange(replica.entries({ start, limit: RANGE_KEYS })));
  bench.add('prefix read, sorted index', () => checkRange(replica.entries({ prefix })));
  bench.add('range read, full scan', () => {
    const out: [string, number][] = [];
    for (const [key, value] of plain) if (key >= start && key < end) out.push([key, value]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    checkRange(out);
  });
  await bench.run();

  // A live query on the range, told about writes inside it: its cost per write against writes nobody watches.
  const writes = opts.quick ? 2_000 : 20_000;
  const live = replica.query({ start, end });
  let events = 0;
  const timeWrites = async (label: string): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < writes; i++) await replica.set(keyOf(startAt + (i % RANGE_KEYS)), `${label}${i}`);
    return performance.now() - t0;
  };
  // Unwatched before and after the watched run (the first also warms up after the big build): the faster of the two.
  await timeWrites('warm');
  const unwatchedBeforeMs = await timeWrites('u');
  const stop = live.subscribe(() => {
    events += 1;
  });
  const watchedMs = await timeWrites('w');
  stop();
  const unwatchedMs = Math.min(unwatchedBeforeMs, await timeWrites('v'));
  check(events === writes + 1, `live query events ${events}, expected ${writes + 1}`);

  // The index's own cost on the write path: fresh keys (each one a liveness change) written, then one read.
  const fresh = opts.quick ? 20_000 : 100_000;
  const freshRun = async (read: boolean): Promise<number> => {
    const r = await Replica.open({ replicaId: 'fresh', clock: new ManualClock(1_000) });
    const t0 = performance.now();
    for (let i = 0; i < fresh; i++) await r.set(keyOf(i), i);
    if (read) check(r.keys({ prefix: 'item/', limit: 10 }).length === 10, 'fresh read');
    const ms = performance.now() - t0;
    await r.close();
    return ms;
  };
  const freshNoRead: number[] = [];
  const freshRead: number[] = [];
  for (let round = 0; round < 5; round++) {
    freshNoRead.push(await freshRun(false));
    freshRead.push(await freshRun(true));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  await replica.close();

  const indexMs = mean(bench, 'range read, sorted index');
  const scanMs = mean(bench, 'range read, full scan');
  const kilo = keys.toLocaleString('en-US');
  return [
    { name: `range read of ${RANGE_KEYS} keys in ${kilo}, sorted index`, opsPerSecond: 1_000 / indexMs, note: `${(scanMs / indexMs).toFixed(0)}x the full scan; ${(indexMs * 1_000).toFixed(1)} us per read` },
    { name: `range read of ${RANGE_KEYS} keys in ${kilo}, start + limit, sorted index`, opsPerSecond: 1_000 / mean(bench, 'range read, limit, sorted index'), note: 'same keys, bounded by limit instead of end' },
    { name: `prefix read of ${RANGE_KEYS} keys in ${kilo}, sorted index`, opsPerSecond: 1_000 / mean(bench, 'prefix read, sorted index'), note: `prefix '${prefix}'` },
    { name: `range read of ${RANGE_KEYS} keys in ${kilo}, full scan`, opsPerSecond: 1_000 / scanMs, note: `a Map of the same ${kilo} keys, filtered and sorted; ${scanMs.toFixed(1)} ms per read` },
    {
      name: `set into a watched ${RANGE_KEYS}-key range (live query subscribed)`,
      opsPerSecond: (writes / watchedMs) * 1_000,
      note: `took ${(watchedMs / unwatchedMs).toFixed(2)}x the time of the same ${writes.toLocaleString('en-US')} awaited sets unwatched (${Math.round((writes / unwatchedMs) * 1_000).toLocaleString('en-US')} ops/s); ${events.toLocaleString('en-US')} events, one per write plus the first`,
    },
    {
      name: `${fresh.toLocaleString('en-US')} sets of fresh keys, then one range read`,
      opsPerSecond: (fresh / median(freshRead)) * 1_000,
      note: `median of 5; took ${(median(freshRead) / median(freshNoRead)).toFixed(3)}x the time of the same sets without the read (${Math.round((fresh / median(freshNoRead)) * 1_000).toLocaleString('en-US')} ops/s): the index folds the new keys in at the read`,
    },
  ];
}
