/**
 * The core suite (issue 2): single-writer `set` throughput into MemoryStorage
 * (many writes in flight, and one awaited at a time), `applyRemote` merge
 * throughput, and a plain `Map.set` loop in the same run as the yardstick.
 * Target: >= 1,000,000 ops/s for set and applyRemote. Every task checks the
 * state it produced, so a fast but wrong core fails the run.
 *
 * Each workload runs in its own child process (this file, `--child <workload>`),
 * with its own Map.set yardstick: V8 tunes the JIT and the young generation to
 * whatever ran first, and in one process the second pattern measured loses up to
 * half its throughput to garbage collection. A final `mixed` workload keeps that
 * effect visible: sequential, then many-in-flight writes, in one process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { ManualClock, MemoryStorage, type Op, Replica } from '../src/core/index.js';
import type { BenchResult, SuiteOptions } from './types.js';

/** The floor the issue sets for set and applyRemote. */
const TARGET_OPS_PER_SECOND = 1_000_000;
/** Distinct keys written (a realistic overwrite ratio: every key is written many times). */
const KEYS = 10_000;
/** Ops per remote batch, the size of a sync message. */
const REMOTE_BATCH_OPS = 1_000;
/** Writes outstanding at once in the many-in-flight workload (issued, then awaited together, wave after wave). */
const IN_FLIGHT_OPS = 20_000;
/** pendingOpsMax of the pipelined workload: the most writes it keeps waiting for the writer. */
const PIPELINE_OPS_MAX = 4_096;
/** Replicas whose interleaved ops the applyRemote workload merges. */
const REMOTE_WRITERS = 4;

const WORKLOADS = ['sequential', 'concurrent', 'flood', 'pipelined', 'remote', 'mixed'] as const;
type Workload = (typeof WORKLOADS)[number];

const keyNames = Array.from({ length: KEYS }, (_, i) => `user/${i}/name`);

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`core bench: wrong result: ${what}`);
}

async function freshReplica(id: string, pendingOpsMax?: number): Promise<Replica> {
  return Replica.open({ replicaId: id, storage: new MemoryStorage(), clock: new ManualClock(1_000), ...(pendingOpsMax === undefined ? {} : { pendingOpsMax }) });
}

/** Checks a replica after `opsPerIteration` sets of value i to key i % KEYS. */
function checkWrites(replica: Replica, opsPerIteration: number): void {
  check(replica.versionVector()[replica.replicaId] === opsPerIteration, `version vector ${JSON.stringify(replica.versionVector())}`);
  const last = opsPerIteration - 1;
  check(replica.get(keyNames[last % KEYS] as string) === last, 'last write visible');
  check(replica.size === Math.min(KEYS, opsPerIteration), `size ${replica.size}`);
}

/** Ops of `writers` replicas interleaved, as a sync would deliver them, in batches. */
async function remoteBatches(opsTotal: number, writers: number): Promise<Op[][]> {
  const sources = await Promise.all(Array.from({ length: writers }, (_, w) => freshReplica(`writer-${w}`)));
  const writes: Promise<Op>[] = [];
  for (let i = 0; i < opsTotal; i++) writes.push((sources[i % writers] as Replica).set(keyNames[i % KEYS] as string, i));
  await Promise.all(writes);
  const perSource = sources.map((source) => source.opsSince({}));
  await Promise.all(sources.map((source) => source.close()));
  const interleaved: Op[] = [];
  for (let i = 0; interleaved.length < opsTotal; i++) for (const ops of perSource) if (i < ops.length) interleaved.push(ops[i] as Op);
  const batches: Op[][] = [];
  for (let i = 0; i < interleaved.length; i += REMOTE_BATCH_OPS) batches.push(interleaved.slice(i, i + REMOTE_BATCH_OPS));
  return batches;
}

/**
 * CPU time spent inside a task's measured iterations. The machine is shared (2 cores,
 * other jobs): wall-clock figures drop when something else runs, ops per CPU-second much less so.
 */
class CpuMeter {
  private micros = 0;
  private ops = 0;

  /** Runs `work` (`ops` of them) and adds its CPU time. */
  async measure(ops: number, work: () => Promise<void> | void): Promise<void> {
    const start = process.cpuUsage();
    await work();
    const used = process.cpuUsage(start);
    this.micros += used.user + used.system;
    this.ops += ops;
  }

  /** Forgets the warmup: tinybench calls this when the measured phase begins. */
  reset(mode?: string): void {
    if (mode !== 'run') return;
    this.micros = 0;
    this.ops = 0;
  }

  /** Ops per CPU-second over the measured runs. */
  get opsPerCpuSecond(): number {
    return this.micros === 0 ? 0 : (this.ops / this.micros) * 1e6;
  }
}

function opsPerSecond(task: Task, opsPerIteration: number): number {
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`core bench: task ${task.name} did not complete (${result.state}${'error' in result ? `: ${String(result.error)}` : ''})`);
  return (opsPerIteration / result.latency.mean) * 1_000;
}

/** What one child process measured. */
interface Measured {
  readonly task: string;
  readonly opsPerSecond: number;
  readonly opsPerCpuSecond: number;
}

type TaskSpec = {
  readonly name: string;
  readonly run: (replica: Replica) => Promise<void>;
  readonly check: (replica: Replica) => void;
  readonly pendingOpsMax?: number;
};

function taskSpecs(opsPerIteration: number, batches: readonly Op[][]): Record<Exclude<Workload, 'mixed'>, TaskSpec> {
  return {
    sequential: {
      name: 'set, sequential await (MemoryStorage)',
      run: async (r) => {
        for (let i = 0; i < opsPerIteration; i++) await r.set(keyNames[i % KEYS] as string, i);
      },
      check: (r) => checkWrites(r, opsPerIteration),
    },
    concurrent: {
      name: `set, many in flight (${IN_FLIGHT_OPS.toLocaleString('en-US')} outstanding, MemoryStorage)`,
      run: async (r) => {
        for (let from = 0; from < opsPerIteration; from += IN_FLIGHT_OPS) {
          const to = Math.min(opsPerIteration, from + IN_FLIGHT_OPS);
          const writes: Promise<Op>[] = new Array(to - from);
          for (let i = from; i < to; i++) writes[i - from] = r.set(keyNames[i % KEYS] as string, i);
          await Promise.all(writes);
        }
      },
      check: (r) => checkWrites(r, opsPerIteration),
    },
    flood: {
      // Every write of the iteration outstanding at once: the queue's promises outgrow V8's young generation.
      name: `set, all ${opsPerIteration.toLocaleString('en-US')} in flight at once (MemoryStorage)`,
      run: async (r) => {
        const writes: Promise<Op>[] = new Array(opsPerIteration);
        for (let i = 0; i < opsPerIteration; i++) writes[i] = r.set(keyNames[i % KEYS] as string, i);
        await Promise.all(writes);
      },
      check: (r) => checkWrites(r, opsPerIteration),
    },
    pipelined: {
      // The bulk-writer pattern docs/core.md recommends: many in flight, memory bounded by ready().
      name: 'set, pipelined with ready() (MemoryStorage)',
      run: async (r) => {
        let last: Promise<Op> | undefined;
        for (let i = 0; i < opsPerIteration; i++) {
          if (r.pendingOps >= PIPELINE_OPS_MAX) await r.ready();
          last = r.set(keyNames[i % KEYS] as string, i);
        }
        await last;
      },
      check: (r) => checkWrites(r, opsPerIteration),
      pendingOpsMax: PIPELINE_OPS_MAX,
    },
    remote: {
      name: `applyRemote (${REMOTE_BATCH_OPS}-op batches, ${REMOTE_WRITERS} writers)`,
      run: async (r) => {
        for (const batch of batches) await r.applyRemote(batch);
      },
      check: (r) => {
        const vv = r.versionVector();
        check(Object.values(vv).reduce((a, b) => a + b, 0) === opsPerIteration, `merged version vector ${JSON.stringify(vv)}`);
        const last = opsPerIteration - 1;
        check(r.get(keyNames[last % KEYS] as string) === last, 'last remote write wins');
      },
    },
  };
}

/** Runs one workload in this process (the child side): the workload's tasks, then Map.set. */
async function measureWorkload(workload: Workload, quick: boolean): Promise<Measured[]> {
  const opsPerIteration = quick ? 20_000 : 100_000;
  const bench = new Bench({ name: `core ${workload}`, time: quick ? 500 : 2_000, warmupTime: quick ? 150 : 500, iterations: quick ? 5 : 10 });
  const gc = (globalThis as { gc?: () => void }).gc;
  const specs = taskSpecs(opsPerIteration, workload === 'remote' ? await remoteBatches(opsPerIteration, REMOTE_WRITERS) : []);
  const chosen = workload === 'mixed' ? [specs.sequential, specs.concurrent] : [specs[workload]];
  const meters: CpuMeter[] = [];
  let replica: Replica | undefined;
  for (const spec of chosen) {
    const meter = new CpuMeter();
    meters.push(meter);
    bench.add(spec.name, () => meter.measure(opsPerIteration, () => spec.run(replica as Replica)), {
      beforeAll: (mode) => meter.reset(mode),
      beforeEach: async () => {
        gc?.();
        replica = await freshReplica('bench', spec.pendingOpsMax);
      },
      afterEach: () => spec.check(replica as Replica),
    });
  }
  const mapMeter = new CpuMeter();
  let map = new Map<string, number>();
  bench.add(
    'Map.set loop',
    () =>
      mapMeter.measure(opsPerIteration, () => {
        for (let i = 0; i < opsPerIteration; i++) map.set(keyNames[i % KEYS] as string, i);
      }),
    {
      beforeAll: (mode) => mapMeter.reset(mode),
      beforeEach: () => {
        map = new Map();
      },
      afterEach: () => check(map.size === Math.min(KEYS, opsPerIteration) && map.get(keyNames[(opsPerIteration - 1) % KEYS] as string) === opsPerIteration - 1, 'Map state'),
    },
  );
  await bench.run();
  return bench.tasks.map((task, i) => ({ task: task.name, opsPerSecond: opsPerSecond(task, opsPerIteration), opsPerCpuSecond: (meters[i] ?? mapMeter).opsPerCpuSecond }));
}

/** Runs one workload in a fresh child process and returns what it measured. */
function runChild(workload: Workload, quick: boolean): Measured[] {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', workload, quick ? '--quick' : '--full'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  if (child.status !== 0) throw new Error(`core bench: workload ${workload} failed (exit ${child.status ?? child.signal}): ${child.stderr.trim()}`);
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Measured[];
}

/** Runs the core benchmarks, one child process per workload. */
export async function coreSuite(opts: SuiteOptions): Promise<BenchResult[]> {
  const opsPerIteration = opts.quick ? 20_000 : 100_000;
  const results: BenchResult[] = [];
  for (const workload of WORKLOADS) {
    process.stderr.write(`  core: ${workload} ...\n`);
    const measured = runChild(workload, opts.quick);
    const map = measured.at(-1) as Measured;
    for (const m of measured.slice(0, -1)) {
      const name = workload === 'mixed' ? `${m.task}, both patterns in one process` : m.task;
      const target = workload === 'mixed' || workload === 'flood' ? '' : `target ${m.opsPerSecond >= TARGET_OPS_PER_SECOND ? 'met' : 'MISSED'} (>= 1M ops/s); `;
      results.push({
        name,
        opsPerSecond: m.opsPerSecond,
        ops: opsPerIteration,
        note:
          `${target}${Math.round(m.opsPerCpuSecond).toLocaleString('en-US')} ops per CPU-second; ` +
          `${(m.opsPerSecond / map.opsPerSecond).toFixed(3)} of Map.set in the same process (${Math.round(map.opsPerSecond).toLocaleString('en-US')} ops/s); ` +
          `${opsPerIteration.toLocaleString('en-US')} ops/iteration over ${KEYS.toLocaleString('en-US')} keys`,
      });
    }
    if (workload === 'sequential')
      results.push({ name: 'Map.set loop (yardstick)', opsPerSecond: map.opsPerSecond, ops: opsPerIteration, note: 'same keys and values, no durability, no merge' });
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--child') {
  const workload = process.argv[3] as Workload;
  if (!WORKLOADS.includes(workload)) throw new Error(`unknown workload ${workload}`);
  const measured = await measureWorkload(workload, process.argv[4] === '--quick');
  process.stdout.write(`${JSON.stringify(measured)}\n`);
}
