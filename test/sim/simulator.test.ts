import { describe, expect, it } from 'vitest';
import { checkDeterminism, firstTraceDifference } from '../../src/sim/determinism.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { parseFaults, swarmOptions } from '../../src/sim/options.js';
import { makePlan } from '../../src/sim/plan.js';
import { Prng, ZipfSampler } from '../../src/sim/prng.js';
import { percentiles } from '../../src/sim/report.js';
import { tidelogHarness } from '../../src/sim/tidelog/harness.js';
import { runSimulation } from '../../src/sim/tidelog/simulator.js';
import { formatEntry, type TraceEntry } from '../../src/sim/trace.js';

describe('simulator building blocks', () => {
  it('pops events by time, then by insertion order', () => {
    const queue = new EventQueue();
    const seen: string[] = [];
    for (const [at, name] of [[5, 'c'], [1, 'a'], [5, 'd'], [3, 'b'], [1, 'a2']] as const) queue.push(at, () => seen.push(name));
    while (queue.size > 0) queue.pop()?.run();
    expect(seen).toEqual(['a', 'a2', 'b', 'c', 'd']);
  });

  it('derives independent, reproducible streams from one seed', () => {
    const a = new Prng(7, 'x');
    const b = new Prng(7, 'x');
    const c = new Prng(7, 'y');
    const draws = (p: Prng) => Array.from({ length: 5 }, () => p.int(1000));
    expect(draws(a)).toEqual(draws(b));
    expect(draws(new Prng(7, 'x'))).not.toEqual(draws(c));
  });

  it('draws zipfian keys hot-first', () => {
    const zipf = new ZipfSampler(100);
    const prng = new Prng(1);
    const counts = new Array(100).fill(0);
    for (let i = 0; i < 20_000; i++) counts[zipf.sample(prng)] += 1;
    expect(counts[0]).toBeGreaterThan(counts[10] * 5);
  });

  it('draws swarm options from the seed, with overrides winning, and rejects bad ones', () => {
    expect(swarmOptions(3)).toEqual(swarmOptions(3));
    expect(swarmOptions(3)).not.toEqual(swarmOptions(4));
    expect(swarmOptions(3, { replicas: 9 }).replicas).toBe(9);
    expect(() => swarmOptions(3, { replicas: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => swarmOptions(3, { dropProbability: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => parseFaults('drop,meteor')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(parseFaults('all').length).toBeGreaterThan(15);
  });

  it('plans the same schedule for the same options', () => {
    const options = swarmOptions(11, { faults: parseFaults('all'), faultRate: 0.1, steps: 200 });
    const plan = makePlan(options);
    expect(plan).toEqual(makePlan(options));
    expect(plan.actions.filter((a) => a.kind !== 'write').length).toBeGreaterThan(5);
    expect(plan.actions.every((a) => a.atMs < plan.healAtMs)).toBe(true);
  });

  it('computes nearest-rank percentiles', () => {
    expect(percentiles([5, 1, 4, 2, 3, 6, 7, 8, 9, 10])).toEqual({ p50: 5, p95: 10, p99: 10 });
  });
});

describe('simulator runs', () => {
  it('gives the same trace hash for the same seed and a different one for another seed', async () => {
    const options = swarmOptions(21, { steps: 300, faults: parseFaults('all'), faultRate: 0.05 });
    const [a, b, c] = [await runSimulation(options), await runSimulation(options), await runSimulation(swarmOptions(22, { steps: 300 }))];
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.events).toBe(b.events);
    expect(c.traceHash).not.toBe(a.traceHash);
    expect(a.violations).toEqual([]);
  });

  it('passes the determinism self-check and names no differing event', async () => {
    const report = await checkDeterminism(tidelogHarness, swarmOptions(5, { steps: 200, faults: parseFaults('all'), faultRate: 0.05 }));
    expect(report.identical).toBe(true);
    expect(report.firstDifference).toBeUndefined();
    expect(report.hashes[0]).toBe(report.hashes[1]);
  });

  it('names the first differing event of two traces', async () => {
    const run = await runSimulation(swarmOptions(5, { steps: 100 }), { keepTrace: true });
    const lines = [...(run.trace ?? [])];
    expect(firstTraceDifference(lines, [...lines])).toBeUndefined();
    const altered = [...lines];
    altered[40] = { ...(altered[40] as TraceEntry), atMs: (altered[40] as TraceEntry).atMs + 1 };
    expect(firstTraceDifference(lines, altered)).toEqual({ index: 40, first: formatEntry(lines[40] as TraceEntry), second: formatEntry(altered[40] as TraceEntry) });
    expect(firstTraceDifference(lines, lines.slice(0, 30))).toEqual({ index: 30, first: formatEntry(lines[30] as TraceEntry), second: '(run ended)' });
  });

  it('converges a clean run quickly and measures it', async () => {
    const result = await runSimulation(swarmOptions(1, { steps: 300, faults: [], replicas: 4 }));
    expect(result.violations).toEqual([]);
    expect(result.convergence).toBeDefined();
    expect(result.convergence?.ms).toBeLessThan(1_000);
    expect(result.writesAcked).toBeGreaterThan(250);
  });

  it('passes every checker on a sweep of swarm seeds (each seed draws its own faults and rates)', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const result = await runSimulation(swarmOptions(seed, { steps: 400 }));
      expect(result.violations, `seed ${seed}: replay with npx tidelog replay ${seed} --steps 400`).toEqual([]);
    }
  });

  it('survives every fault at a high rate on a sweep of seeds', async () => {
    for (let seed = 300; seed < 306; seed++) {
      const result = await runSimulation(swarmOptions(seed, { steps: 300, faults: parseFaults('all'), faultRate: 0.08 }));
      expect(result.violations, `seed ${seed}`).toEqual([]);
      expect(result.convergence, `seed ${seed}`).toBeDefined();
    }
  });
});
