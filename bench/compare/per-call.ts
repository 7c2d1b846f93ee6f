/**
 * (a') The pattern applications actually use: one `set` per call. Two metrics, each run in alternating rounds
 * (every round runs every system once, the starting system rotating), so that no system always inherits the
 * JIT and heap state of the same predecessor, and the report gives the median and range over rounds:
 *
 * - `per call, await last`: Tidelog issues every write as its own `set` and awaits only the last promise; the
 *   other systems get all the writes in one transaction / change / commit (their fastest way to take N calls);
 * - `per call, await each`: every write awaited (Tidelog) or committed on its own (the others).
 *
 * Every round checks every key afterwards.
 */
import { checkSets, keyNames } from './data.js';
import { type FigureBase, formatRate, type RunContext, spreadFields } from './figures.js';
import { progress, timed } from './measure.js';
import type { MapDoc, MapSystem } from './system.js';

/** Rounds of the full run (the quick run does 3). */
const ROUNDS = 5;

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Runs one per-call metric for every system at `ops` writes over `keyCount` keys, in alternating rounds. */
export async function runPerCall(ctx: RunContext, systems: readonly MapSystem[], ops: number, keyCount: number, awaitEach: boolean): Promise<void> {
  const metric = awaitEach ? 'per call, await each' : 'per call, await last';
  const keys = keyNames(keyCount).slice(0, keyCount);
  const rounds = ctx.quick ? 3 : ROUNDS;
  const bases = new Map<MapSystem, FigureBase>();
  const samples = new Map<MapSystem, { cpu: number[]; wall: number[] }>();
  const running: MapSystem[] = [];
  for (const system of systems) {
    const base: FigureBase = {
      group: 'a-per-call',
      metric,
      system: system.name,
      axis: 'ops',
      x: ops,
      ops,
      note: `${ops} writes over ${keyCount} keys, one call per write; ${
        awaitEach
          ? 'each awaited (tidelog) or committed on its own (yjs: map.set outside a transaction; loro: set + commit(); automerge: one change per write)'
          : 'tidelog awaits only the last promise; yjs / automerge / loro take all writes in one transaction / change / commit'
      }; ${rounds} alternating rounds; every key checked`,
    };
    bases.set(system, base);
    const skipped = ctx.budget.skipReason(`a-per-call/${metric}/${system.name}/ops`, ops);
    if (skipped !== undefined) {
      progress(`a-per-call ${metric} ${system.name} ops=${ops}: ${skipped}`);
      ctx.figures.push({ ...base, skipped });
      continue;
    }
    running.push(system);
    samples.set(system, { cpu: [], wall: [] });
  }
  const once = async (system: MapSystem, count: number): Promise<{ wallMs: number; cpuMs: number }> => {
    collect();
    const doc: MapDoc = await system.create(0);
    collect();
    try {
      const time = await timed(() => doc.writePerCall(keys, 0, count, awaitEach));
      checkSets(doc, count, keyCount);
      return time;
    } finally {
      await doc.close();
    }
  };
  // One untimed warmup round (JIT), small enough to cost little.
  for (const system of running) await once(system, Math.min(ops, 20_000));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < running.length; i++) {
      const system = running[(round + i) % running.length] as MapSystem;
      const time = await once(system, ops);
      const list = samples.get(system) as { cpu: number[]; wall: number[] };
      list.cpu.push(time.cpuMs);
      list.wall.push(time.wallMs);
    }
  }
  for (const system of running) {
    const list = samples.get(system) as { cpu: number[]; wall: number[] };
    const figure = { ...(bases.get(system) as FigureBase), ...spreadFields(ops, list.cpu, Math.min(...list.wall)) };
    ctx.budget.recordSamples(`a-per-call/${metric}/${system.name}/ops`, list.cpu, ops);
    ctx.figures.push(figure);
    progress(
      `a-per-call ${metric} ${system.name} ops=${ops}: best ${formatRate(figure.opsPerSecond as number)} ops per CPU-s, median ${formatRate((ops * 1000) / (figure.cpuMsMedian as number))}, slowest ${formatRate((ops * 1000) / (figure.cpuMsMax as number))} (${rounds} rounds, checked)`,
    );
  }
}
