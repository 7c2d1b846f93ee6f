/** The comparison benchmark's own parts: the adapters agree on semantics, the zipfian chooser is skewed and seeded, and the report helpers flag what they should. */
import { describe, expect, it } from 'vitest';
import { ManualClock, type Op, Replica } from '../../src/core/index.js';
import { checkSets, keyNames, lastWrite, readAll, writeSets } from '../../bench/compare/data.js';
import { type Figure, measured, type RunContext } from '../../bench/compare/figures.js';
import { runPerCall } from '../../bench/compare/per-call.js';
import { expect as benchExpect, SizeBudget, WrongResultError } from '../../bench/compare/measure.js';
import { ratio, superlinearFlags } from '../../bench/compare/report.js';
import { lineChart } from '../../bench/compare/svg.js';
import type { MapDoc, MapSystem } from '../../bench/compare/system.js';
import { SYSTEMS } from '../../bench/compare/systems.js';
import { ZipfianGenerator } from '../../bench/compare/zipf.js';

describe('compared systems', () => {
  for (const system of SYSTEMS) {
    it(`${system.name}: writes, encodes, loads and merges deltas with the same results as the others`, async () => {
      const doc = await system.create(0);
      await writeSets(doc, 0, 2500, 700);
      checkSets(doc, 2500, 700);
      expect(readAll(doc, 2500, 700)).toBe(700);
      const version = doc.version();
      const full = doc.encodeState();
      await writeSets(doc, 2500, 3000, 700);
      const delta = doc.encodeSince(version);
      const copy = await system.load(full, 1);
      checkSets(copy, 2500, 700);
      await copy.apply(delta);
      checkSets(copy, 3000, 700);
      await doc.write((w) => w.set('user', { name: 'ada', address: 'here' }));
      expect(doc.get('user')).toEqual({ name: 'ada', address: 'here' });
      await doc.close();
      await copy.close();
    });

    it(`${system.name}: a set per call (await last and await each) leaves every key right, and a catch-up through its sync exchange copies everything`, async () => {
      const keys = keyNames(4).slice(0, 4);
      for (const awaitEach of [false, true]) {
        const doc = await system.create(0);
        await doc.writePerCall(keys, 0, 50, awaitEach);
        checkSets(doc, 50, 4);
        await doc.close();
      }
      const source = await system.create(1);
      await writeSets(source, 0, 300, 30);
      const reader = await system.create(2);
      const exchange = await source.catchUp(reader);
      checkSets(reader, 300, 30);
      expect(exchange.bytes).toBeGreaterThan(30);
      expect(exchange.messages).toBeGreaterThanOrEqual(1);
      await Promise.all([source.close(), reader.close()]);
    });

    it(`${system.name}: a wrong value fails the check`, async () => {
      const doc = await system.create(0);
      await writeSets(doc, 0, 100, 10);
      await doc.write((w) => w.set('k3', -1));
      expect(() => checkSets(doc, 100, 10)).toThrow(WrongResultError);
      await doc.close();
    });
  }

  it('concurrent writers converge to one winner whatever the merge order', async () => {
    for (const system of SYSTEMS) {
      const updates: Uint8Array[] = [];
      for (let c = 0; c < 5; c++) {
        const writer = await system.create(c + 1);
        const origin = writer.version();
        await writer.write((w) => w.set('v', c));
        updates.push(writer.encodeSince(origin));
        await writer.close();
      }
      const forward = await system.create(10);
      const backward = await system.create(11);
      for (const u of updates) await forward.apply(u);
      for (const u of [...updates].reverse()) await backward.apply(u);
      expect(forward.get('v'), system.name).toBe(backward.get('v'));
      await forward.close();
      await backward.close();
    }
  });
});

describe('data helpers', () => {
  it('lastWrite names the last op that wrote a key', () => {
    expect(lastWrite(10, 3, 0)).toBe(9);
    expect(lastWrite(10, 3, 2)).toBe(8);
    expect(lastWrite(2, 3, 2)).toBeUndefined();
  });
});

describe('ZipfianGenerator', () => {
  it('is deterministic for a seed and skewed toward few items', () => {
    const a = new ZipfianGenerator(10_000, 42);
    const b = new ZipfianGenerator(10_000, 42);
    const counts = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      const x = a.next();
      expect(x).toBe(b.next());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(10_000);
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    const top = Math.max(...counts.values());
    // Theta 0.99 over 10K items: the hottest item draws about 1/zeta(10K) ~ 10% of requests; uniform would be 0.01%.
    expect(top / 50_000).toBeGreaterThan(0.05);
    expect(counts.size).toBeGreaterThan(1000);
  });

  it('rejects a key space too small to be zipfian', () => {
    expect(() => new ZipfianGenerator(1, 1)).toThrow(RangeError);
  });
});

describe('report helpers', () => {
  const fig = (system: Figure['system'], x: number, cpuMs: number): Figure => ({
    group: 'g',
    metric: 'throughput',
    system,
    axis: 'ops',
    x,
    ops: x,
    opsPerSecond: (x * 1000) / cpuMs,
    cpuMs,
  });

  it('flags a series whose per-op time more than doubles per size step, and only that one', () => {
    const flags = superlinearFlags([fig('tidelog', 1000, 1), fig('tidelog', 10_000, 10), fig('yjs', 1000, 1), fig('yjs', 10_000, 50)]);
    expect(flags).toHaveLength(1);
    expect(flags[0]).toContain('yjs');
  });

  it('ratio says how many times better Tidelog is, for throughput and for bytes', () => {
    expect(ratio(fig('tidelog', 1000, 1), fig('yjs', 1000, 2))).toBeCloseTo(2);
    const bytes = (system: Figure['system'], value: number): Figure => ({ group: 'g', metric: 'bytes', system, axis: 'ops', x: 1, ops: 1, value, unit: 'bytes' });
    expect(ratio(bytes('tidelog', 400), bytes('yjs', 100))).toBeCloseTo(0.25);
  });

  it('the size budget projects with the measured growth and skips what would blow it', () => {
    const budget = new SizeBudget(1000);
    budget.record('k', 10, 1000);
    budget.record('k', 400, 10_000); // per-op time x4 per decade
    expect(budget.projectMs('k', 100_000)).toBeCloseTo(16_000);
    expect(budget.skipReason('k', 100_000)).toMatch(/skipped/);
    expect(budget.skipReason('other', 100_000)).toBeUndefined();
  });

  it('the size budget follows CPU time, not wall time: an iteration that waits keeps the next size, one that computes does not', async () => {
    const ctx: RunContext = { quick: true, budget: new SizeBudget(500), figures: [] };
    const base = (metric: string) => ({ group: 'g', metric, system: 'tidelog', axis: 'ops', x: 1000, ops: 1000 }) as const;
    // 150 ms of wall per 1,000 ops projects 1.5 s at 10K, past the 500 ms budget; waiting on a timer costs ~no CPU.
    await measured(ctx, base('waits'), { setup: async () => undefined, run: () => sleepMs(150), check: () => undefined });
    expect(ctx.budget.projectMs('g/waits/tidelog/ops', 10_000)).toBeLessThan(500);
    expect(ctx.budget.skipReason('g/waits/tidelog/ops', 10_000)).toBeUndefined();
    await measured(ctx, base('computes'), { setup: async () => undefined, run: async () => spinCpuMs(150), check: () => undefined });
    expect(ctx.budget.skipReason('g/computes/tidelog/ops', 10_000)).toMatch(/skipped: projected \d+ CPU-s/);
  });

  it('the per-call workload feeds the budget CPU time too', async () => {
    const ctx: RunContext = { quick: true, budget: new SizeBudget(500), figures: [] };
    const waiting = stubSystem(() => sleepMs(100));
    const computing = stubSystem(async () => spinCpuMs(100));
    await runPerCall(ctx, [waiting, { ...computing, name: 'yjs' }], 1000, 10, false);
    expect(ctx.figures.map((f) => f.skipped)).toEqual([undefined, undefined]);
    expect(ctx.budget.skipReason('a-per-call/per call, await last/tidelog/ops', 10_000)).toBeUndefined();
    expect(ctx.budget.skipReason('a-per-call/per call, await last/yjs/ops', 10_000)).toMatch(/skipped/);
  });

  it('the bench check throws a typed error', () => {
    expect(() => benchExpect(false, 'nope')).toThrow(WrongResultError);
  });

  it('draws a chart with one polyline per series and escapes text', () => {
    const svg = lineChart({
      title: 'a <b>',
      xLabel: 'ops',
      yLabel: 'ns',
      series: [
        {
          name: 'x',
          points: [
            [10, 1],
            [100, 5],
          ],
        },
        {
          name: 'y',
          points: [
            [10, 2],
            [100, 3],
          ],
        },
      ],
    });
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('a &lt;b&gt;');
    expect(svg.startsWith('<svg')).toBe(true);
  });
});

describe('remote staging (core change made for this benchmark)', () => {
  // applyRemote only indexes a batch when it steps back in seq order: these cover that path.
  const op = (seq: number, value: number): Op => ({ replica: 'peer', seq, wall: 1000 + seq, logical: 0, key: `k${seq}`, type: 'set', value });

  it('finds duplicates and conflicts inside a batch that is out of seq order', async () => {
    const r = await Replica.open({ replicaId: 'me', clock: new ManualClock(1) });
    expect(await r.applyRemote([op(3, 3), op(5, 5), op(3, 3), op(4, 4), op(1, 1)])).toMatchObject({ applied: 4, duplicates: 1 });
    await expect(r.applyRemote([op(7, 7), op(6, 6), op(7, 70)])).rejects.toMatchObject({ code: 'OP_ID_CONFLICT' });
    expect(r.has('k6')).toBe(false);
    expect(r.versionVector()).toEqual({ peer: 1 });
    expect(await r.applyRemote([op(2, 2), op(6, 6)])).toMatchObject({ applied: 2, duplicates: 0 });
    expect(r.versionVector()).toEqual({ peer: 6 });
    await r.close();
  });

  it('checks a batch against another batch of the same commit group', async () => {
    const r = await Replica.open({ replicaId: 'me', clock: new ManualClock(1) });
    // Submitted in the same tick: one commit group.
    const first = r.applyRemote([op(1, 1), op(2, 2)]);
    const second = r.applyRemote([op(2, 20)]);
    const third = r.applyRemote([op(2, 2), op(3, 3)]);
    expect(await first).toMatchObject({ applied: 2 });
    await expect(second).rejects.toMatchObject({ code: 'OP_ID_CONFLICT' });
    expect(await third).toMatchObject({ applied: 1, duplicates: 1 });
    expect(r.get('k2')).toBe(2);
    await r.close();
  });
});

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Burns `ms` of this process's CPU time (not wall time: a loaded machine stretches the loop, not the CPU it gets). */
function spinCpuMs(ms: number): void {
  const start = process.cpuUsage();
  let x = 0;
  while (true) {
    for (let i = 0; i < 10_000; i++) x += i;
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms || x < 0) return;
  }
}

/** A map system whose per-call write holds the right values and takes its time through `pause`. */
function stubSystem(pause: () => Promise<void>): MapSystem {
  return {
    name: 'tidelog',
    version: 'stub',
    objectModel: 'stub',
    load: () => Promise.reject(new Error('not used')),
    create: async () => {
      const state = new Map<string, number>();
      const doc: Partial<MapDoc> = {
        get: (key) => state.get(key),
        size: () => state.size,
        close: async () => undefined,
        writePerCall: async (keys, from, to) => {
          for (let i = from; i < to; i++) state.set(keys[i % keys.length] as string, i);
          await pause();
        },
      };
      return doc as MapDoc;
    },
  };
}
