/** The record every comparison workload produces, and the run context they share. */
import { median, progress, type SizeBudget, type TrialPlan, type TrialResult, trial } from './measure.js';
import type { SystemName } from './system.js';

/** What a scaling series varies. */
export type Axis = 'ops' | 'keys' | 'replicas' | 'clients';

/** One measured (or skipped) figure of one system. */
export interface Figure {
  /** Workload id, e.g. `a-sets`, `b-ycsb-a`. */
  readonly group: string;
  /** What the figure is: `throughput`, `encode time`, `bytes`, ... */
  readonly metric: string;
  /** The system, or `machine` for the hardware limits. */
  readonly system: SystemName | 'machine';
  /** The scaling axis and this figure's point on it. */
  readonly axis: Axis;
  readonly x: number;
  /** Ops the figure covers (divides time into per-op cost). */
  readonly ops: number;
  /** Throughput: ops per CPU-second of the best iteration. */
  readonly opsPerSecond?: number;
  /** CPU time of the best iteration, ms (user + system, every thread of the process). */
  readonly cpuMs?: number;
  /** Wall time of the fastest iteration, ms (stretched by whatever else ran on the machine). */
  readonly wallMs?: number;
  /** The spread over the timed iterations (rounds): median and slowest CPU time, ms, and how many there were. */
  readonly cpuMsMedian?: number;
  readonly cpuMsMax?: number;
  readonly rounds?: number;
  /** Messages a sync exchange needed (h-session). */
  readonly messages?: number;
  /** A non-throughput figure in `unit`. */
  readonly value?: number;
  readonly unit?: string;
  /** What it counts and how it was checked, or why it is missing. */
  readonly note?: string;
  /** Set when the size was not run. */
  readonly skipped?: string;
}

/** Shared by every workload of one run. */
export interface RunContext {
  readonly quick: boolean;
  readonly budget: SizeBudget;
  /** Collected figures, in the order measured. */
  readonly figures: Figure[];
}

/** Timed iterations for a workload of `ops` ops: fewer as the work grows. */
export function iterationsFor(ctx: RunContext, ops: number): number {
  if (ops >= 1_000_000) return ctx.quick ? 1 : 2;
  if (ops >= 100_000) return ctx.quick ? 1 : 3;
  return ctx.quick ? 3 : 5;
}

/** The part of a figure a workload names before it is measured. */
export type FigureBase = Omit<Figure, 'opsPerSecond' | 'cpuMs' | 'wallMs' | 'skipped' | 'cpuMsMedian' | 'cpuMsMax' | 'rounds'>;

/** The throughput fields of a figure from the CPU times of its timed iterations (best, median, slowest). */
export function spreadFields(ops: number, cpuSamplesMs: readonly number[], wallMs: number): Pick<Figure, 'opsPerSecond' | 'cpuMs' | 'wallMs' | 'cpuMsMedian' | 'cpuMsMax' | 'rounds'> {
  const best = Math.min(...cpuSamplesMs);
  return { opsPerSecond: (ops * 1000) / best, cpuMs: best, wallMs, cpuMsMedian: median(cpuSamplesMs), cpuMsMax: Math.max(...cpuSamplesMs), rounds: cpuSamplesMs.length };
}

/**
 * Measures one throughput figure unless the budget says the size is too slow
 * for this system; records and returns it either way.
 */
export async function measured<S>(
  ctx: RunContext,
  base: FigureBase,
  plan: Omit<TrialPlan<S>, 'label' | 'iterations' | 'warmup'>,
  /** Size that sets the iteration count, when the setup is heavier than the timed ops (default `base.ops`). */
  sizeOps = base.ops,
): Promise<TrialResult | undefined> {
  const budgetKey = `${base.group}/${base.metric}/${base.system}/${base.axis}`;
  const label = `${base.group} ${base.metric} ${base.system} ${base.axis}=${base.x}`;
  const skipped = ctx.budget.skipReason(budgetKey, base.ops);
  if (skipped !== undefined) {
    progress(`${label}: ${skipped}`);
    ctx.figures.push({ ...base, skipped });
    return undefined;
  }
  // Slow iterations need no warmup and fewer repeats: the JIT is warm long before a 2-second run ends.
  // The projection is CPU time (SizeBudget), so a loaded machine keeps the sizes and repeats of a quiet one.
  const projectedMs = ctx.budget.projectMs(budgetKey, base.ops) ?? 0;
  const iterations = projectedMs > 5_000 ? 1 : projectedMs > 500 ? Math.min(2, iterationsFor(ctx, sizeOps)) : iterationsFor(ctx, sizeOps);
  const result = await trial({ ...plan, label, iterations, warmup: sizeOps < 100_000 && projectedMs <= 500 });
  ctx.budget.recordSamples(budgetKey, result.cpuSamplesMs, base.ops);
  // Ops per CPU-second of the best iteration: other processes on a shared machine stretch wall time, not CPU time.
  const opsPerSecond = (base.ops * 1000) / result.cpuMs;
  progress(
    `${label}: ${formatRate(opsPerSecond)} ops per CPU-s (best CPU ${result.cpuMs.toFixed(1)} ms; wall best ${result.minMs.toFixed(1)} ms, mean ${result.meanMs.toFixed(1)} ms; ${result.samples} runs, checked)`,
  );
  ctx.figures.push({ ...base, ...spreadFields(base.ops, result.cpuSamplesMs, result.minMs) });
  return result;
}

/** Records a non-timed figure (bytes, memory). */
export function recorded(ctx: RunContext, figure: Figure): void {
  ctx.figures.push(figure);
  progress(`${figure.group} ${figure.metric} ${figure.system} ${figure.axis}=${figure.x}: ${figure.value?.toFixed(1)} ${figure.unit ?? ''}`);
}

/** 1234567 -> `1.23M`. */
export function formatRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return n.toFixed(0);
}
