/**
 * The simulator suite (issue 4): simulated events per second (wall and CPU
 * time: the machine is shared, CPU time is the steadier figure), the wall time
 * of a 5-replica, 10,000-op run with faults, and the convergence after the
 * final heal (virtual ms, messages, bytes) as p50/p95/p99 over a sweep of
 * swarm seeds. Writes reports/sim.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { parseFaults, type SimOptions, swarmOptions } from '../src/sim/options.js';
import { percentiles } from '../src/sim/report.js';
import { runSimulation } from '../src/sim/tidelog/simulator.js';
import type { BenchResult, SuiteOptions } from './types.js';

const rootDir = dirname(dirname(fileURLToPath(import.meta.url)));

/** The run the issue's speed target names: 5 replicas, 10,000 ops, faults on. */
function fiveByTenThousand(): SimOptions {
  return swarmOptions(42, {
    replicas: 5,
    steps: 10_000,
    stepIntervalMs: 5,
    faults: parseFaults('drop,duplicate,reorder,slow,partition,crash,torn,pause,skew,jump'),
    faultRate: 0.01,
  });
}

interface Throughput {
  readonly events: number;
  /** Mean wall time of the measured (warm) runs. */
  readonly wallMs: number;
  /** Median wall time of the measured runs. */
  readonly wallMedianMs: number;
  /** Wall time of the first, cold run (JIT warm-up included): what a single `tidelog sim` pays. */
  readonly coldMs: number;
  readonly cpuMs: number;
}

/**
 * Starts a phase from a collected heap (the bench runs with --expose-gc): otherwise garbage left by the
 * 50-replica run decides when the sweep's major collections fall, and the sweep figure swung 2x between runs.
 */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs `options` `warmup` times unmeasured, then `iterations` times measured. The first run's wall time is
 * kept apart (a cold start: the JIT has not optimized the hot paths yet); the figure is the warm mean.
 */
async function measure(options: SimOptions, iterations: number, warmup = 2): Promise<Throughput> {
  collect();
  let events = 0;
  let cpuMicros = 0;
  let runs = 0;
  let coldMs = Number.NaN;
  const bench = new Bench({ name: 'sim', iterations, time: 0, warmupIterations: warmup, warmupTime: 0 });
  bench.add(`sim ${options.replicas}x${options.steps}`, async () => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const result = await runSimulation(options);
    const used = process.cpuUsage(cpu);
    if (runs === 0) coldMs = performance.now() - start;
    cpuMicros += used.user + used.system;
    events += result.events;
    runs += 1;
  });
  await bench.run();
  const task = bench.tasks[0];
  const result = task?.result;
  if (result === undefined || result.state !== 'completed') throw new Error('sim bench did not complete');
  // Warmup runs are counted in `events` and `runs` too; every run of one seed has the same events.
  return { events: events / runs, wallMs: result.latency.mean, wallMedianMs: result.latency.p50 ?? result.latency.mean, coldMs, cpuMs: cpuMicros / 1_000 / runs };
}

/** Runs the simulator suite. */
export async function simSuite(opts: SuiteOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const five = await measure(fiveByTenThousand(), opts.quick ? 2 : 8);
  results.push({ name: 'sim events/s: 5 replicas, 10,000 ops, faults', opsPerSecond: (five.events / five.wallMs) * 1_000, note: `${Math.round(five.events)} events per run, wall clock, mean of the warm runs (median: ${Math.round((five.events / five.wallMedianMs) * 1_000).toLocaleString('en-US')}/s)` });
  results.push({ name: 'sim events/CPU-s: 5 replicas, 10,000 ops, faults', opsPerSecond: (five.events / five.cpuMs) * 1_000, note: 'per CPU second of this process (GC threads included), cold runs included' });
  results.push({ name: 'sim run time: 5 replicas, 10,000 ops, faults', value: five.wallMs, unit: 'ms', note: `wall clock, mean of the warm runs; the first (cold) run took ${Math.round(five.coldMs)} ms` });

  const mesh = await measure(swarmOptions(7, { replicas: 50, steps: opts.quick ? 500 : 2_000, faults: parseFaults('drop,slow,partition') }), 1, 1);
  results.push({ name: 'sim events/s: 50 replicas', opsPerSecond: (mesh.events / mesh.wallMs) * 1_000, note: `${Math.round(mesh.events)} events per run` });

  const seeds = opts.quick ? 20 : 100;
  const convergenceMs: number[] = [];
  const messages: number[] = [];
  const bytes: number[] = [];
  let failures = 0;
  let sweepEvents = 0;
  collect();
  const sweepStart = performance.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await runSimulation(swarmOptions(seed));
    sweepEvents += result.events;
    if (result.violations.length > 0) failures += 1;
    if (result.convergence === undefined) continue;
    convergenceMs.push(result.convergence.ms);
    messages.push(result.convergence.messages);
    bytes.push(result.convergence.bytes);
  }
  const sweepMs = performance.now() - sweepStart;
  const ms = percentiles(convergenceMs);
  const msg = percentiles(messages);
  const by = percentiles(bytes);
  for (const p of ['p50', 'p95', 'p99'] as const) {
    results.push({ name: `convergence after heal ${p}`, value: ms[p], unit: 'virtual ms', note: `${seeds} swarm seeds, ${failures} failing` });
    results.push({ name: `convergence messages ${p}`, value: msg[p], unit: 'frames' });
    results.push({ name: `convergence bytes ${p}`, value: by[p], unit: 'bytes' });
  }
  results.push({ name: 'sweep events/s (swarm seeds, 1,000 steps each)', opsPerSecond: (sweepEvents / sweepMs) * 1_000, note: `${seeds} seeds, ${sweepEvents} events` });
  writeReport(opts, results, { seeds, failures, five });
  return results;
}

function writeReport(opts: SuiteOptions, results: readonly BenchResult[], info: { seeds: number; failures: number; five: Throughput }): void {
  const dir = opts.quick ? join(rootDir, 'reports', 'quick') : join(rootDir, 'reports');
  mkdirSync(dir, { recursive: true });
  const rows = results.map((r) => `| ${r.name} | ${r.opsPerSecond !== undefined ? `${Math.round(r.opsPerSecond).toLocaleString('en-US')} /s` : `${Math.round(r.value ?? 0).toLocaleString('en-US')} ${r.unit ?? ''}`} | ${r.note ?? ''} |`);
  const text = [
    '# Simulator figures',
    '',
    `Generated by \`npm run bench -- sim\`${opts.quick ? ' (quick mode)' : ''} on ${new Date().toISOString().slice(0, 10)}; the machine is shared (2 cores), so CPU-second figures are steadier than wall-clock ones.`,
    '',
    '| figure | value | note |',
    '| --- | --- | --- |',
    ...rows,
    '',
    `Sweep: ${info.seeds} swarm seeds (each seed draws its replicas 2..8, faults and rates), ${info.failures} failing. Convergence is measured from the final heal (every fault stopped, every node restarted and resumed, the network healed) to the first moment every replica has equal version vectors and equal states; messages and bytes are frames sent in that window.`,
    '',
    'Target from issue 4: 200,000 simulated events per second, and a 5-replica 10,000-op run with faults well under a second.',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'sim.md'), text);
}
