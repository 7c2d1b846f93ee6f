/**
 * Timing: every figure is a tinybench task with a fixed number of iterations,
 * an untimed setup before each iteration and an untimed check after it (so a
 * fast wrong answer fails the run instead of winning it). Sizes too slow for
 * the run's budget are skipped, and the report says so.
 */
import { Bench } from 'tinybench';

/** How one figure is measured. */
export interface TrialPlan<S> {
  /** Label for progress lines. */
  readonly label: string;
  /** Timed iterations. */
  readonly iterations: number;
  /** Whether to run one untimed warmup iteration first (JIT). */
  readonly warmup: boolean;
  /** Builds fresh state for one iteration (untimed). */
  readonly setup: () => Promise<S>;
  /** The measured work. */
  readonly run: (state: S) => Promise<void>;
  /** Verifies the iteration's result (untimed); throws when wrong. */
  readonly check: (state: S) => Promise<void> | void;
  /** Releases the state (untimed). */
  readonly teardown?: (state: S) => Promise<void> | void;
}

/** What a trial measured. */
export interface TrialResult {
  /** Mean wall time of one iteration, ms (tinybench's figure). */
  readonly meanMs: number;
  /** Fastest iteration by wall time, ms. */
  readonly minMs: number;
  /**
   * Least CPU time (user + system, all threads of this process) of one iteration, ms.
   * The headline figure: on a shared machine other processes stretch wall time, not CPU time.
   */
  readonly cpuMs: number;
  /** Iterations timed. */
  readonly samples: number;
  /** CPU time of every timed iteration, ms, in the order run (for the median and range). */
  readonly cpuSamplesMs: readonly number[];
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs the wall clock and this process's CPU clock around `work`; returns both, in ms. */
export async function timed(work: () => Promise<void>): Promise<{ wallMs: number; cpuMs: number }> {
  const cpuStart = cpuNowMs();
  const wallStart = performance.now();
  await work();
  return { wallMs: performance.now() - wallStart, cpuMs: Math.max(cpuNowMs() - cpuStart, 0.001) };
}

function cpuNowMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Thrown by a check: the system produced a wrong result. */
export class WrongResultError extends Error {
  override readonly name = 'WrongResultError';
}

/** Fails the current iteration when `ok` is false. */
export function expect(ok: boolean, what: string): void {
  if (!ok) throw new WrongResultError(what);
}

/** Progress on stderr, so stdout stays clean for the runner. */
export function progress(line: string): void {
  process.stderr.write(`[compare] ${line}\n`);
}

/** Runs a trial through tinybench; rethrows whatever failed inside it. */
export async function trial<S>(plan: TrialPlan<S>): Promise<TrialResult> {
  let state: S | undefined;
  const bench = new Bench({ iterations: plan.iterations, time: 0, warmup: plan.warmup, warmupIterations: 1, warmupTime: 0, throws: true });
  const cpuSamplesMs: number[] = [];
  let warmedUp = !plan.warmup;
  bench.add(
    plan.label,
    async () => {
      const cpuStart = cpuNowMs();
      await plan.run(state as S);
      if (warmedUp) cpuSamplesMs.push(cpuNowMs() - cpuStart);
    },
    {
      beforeEach: async () => {
        // Start every iteration from a collected heap, so one system's garbage is not collected on another's time,
        // and collect again after the setup: its garbage (a preload, say) is not the timed work's either.
        (globalThis as { gc?: () => void }).gc?.();
        state = await plan.setup();
        (globalThis as { gc?: () => void }).gc?.();
      },
      afterEach: async (mode) => {
        if (mode === 'warmup') warmedUp = true;
        const current = state as S;
        state = undefined;
        try {
          await plan.check(current);
        } finally {
          await plan.teardown?.(current);
        }
      },
    },
  );
  await bench.run();
  const task = bench.tasks[0];
  const result = task?.result;
  if (result === undefined || (result.state !== 'completed' && result.state !== 'aborted-with-statistics')) {
    const error = result !== undefined && 'error' in result ? result.error : new Error(`${plan.label}: tinybench reported ${result?.state}`);
    throw error;
  }
  if (cpuSamplesMs.length === 0) throw new Error(`${plan.label}: no timed iteration recorded its CPU time`);
  return {
    meanMs: result.latency.mean,
    minMs: result.latency.min,
    cpuMs: Math.max(Math.min(...cpuSamplesMs), 0.001),
    samples: result.latency.samplesCount,
    cpuSamplesMs: cpuSamplesMs.map((ms) => Math.max(ms, 0.001)),
  };
}

/**
 * Decides which sizes a system still runs: skips a size whose projected time
 * exceeds the budget. The projection follows the measured growth of the per-op
 * cost (a curve that grew x4 per decade is assumed to keep doing so), so a
 * superlinear system does not blow the run. Callers record CPU time, not wall
 * time: on a shared machine other processes stretch wall time 2-5x, and a
 * wall-time budget skipped the 1M sizes of a loaded run (2026-12-04, load 13-18)
 * that a quiet run keeps; CPU time is what the system itself costs.
 */
export class SizeBudget {
  private readonly points = new Map<string, { ops: number; perOpMs: number }[]>();

  constructor(private readonly iterationMsMax: number) {}

  /** Records the CPU time of one iteration measured for `key` (e.g. `workload/metric/system/axis`) at `ops` ops. */
  record(key: string, cpuMs: number, ops: number): void {
    const list = this.points.get(key) ?? [];
    list.push({ ops, perOpMs: cpuMs / ops });
    this.points.set(key, list);
  }

  /** Records the mean of the CPU times of the timed iterations (rounds) measured for `key` at `ops` ops. */
  recordSamples(key: string, cpuSamplesMs: readonly number[], ops: number): void {
    if (cpuSamplesMs.length === 0) return;
    this.record(key, cpuSamplesMs.reduce((a, b) => a + b, 0) / cpuSamplesMs.length, ops);
  }

  /** The projected CPU time of one iteration at `ops` ops, if anything was measured for `key`. */
  projectMs(key: string, ops: number): number | undefined {
    const list = this.points.get(key);
    const last = list?.[list.length - 1];
    if (list === undefined || last === undefined) return undefined;
    const prev = list[list.length - 2];
    let growthPerDecade = 1;
    if (prev !== undefined && last.ops > prev.ops) growthPerDecade = Math.max(1, (last.perOpMs / prev.perOpMs) ** (1 / Math.log10(last.ops / prev.ops)));
    const decades = Math.max(0, Math.log10(ops / last.ops));
    return last.perOpMs * ops * growthPerDecade ** decades;
  }

  /** Why `ops` would be too slow for `key`, or undefined to run it. */
  skipReason(key: string, ops: number): string | undefined {
    const projectedMs = this.projectMs(key, ops);
    if (projectedMs === undefined || projectedMs <= this.iterationMsMax) return undefined;
    return `skipped: projected ${(projectedMs / 1000).toFixed(0)} CPU-s per iteration exceeds this run's ${(this.iterationMsMax / 1000).toFixed(0)} s budget`;
  }
}
