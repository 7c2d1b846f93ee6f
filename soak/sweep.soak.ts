/**
 * Long simulator sweeps for `npm run soak` (never part of `npm test`): many swarm
 * seeds with every fault on at a high rate, the raw-restore / same-id-wipe modes,
 * and a long 50-replica run. Each failure names its seed and replay command.
 */
import { describe, expect, it } from 'vitest';
import { parseFaults, type SimOverrides, swarmOptions } from '../src/sim/options.js';
import { replayCommand } from '../src/sim/report.js';
import { runSimulation } from '../src/sim/tidelog/simulator.js';

const SEEDS = Number(process.env.SOAK_SEEDS ?? 300);

async function sweep(first: number, count: number, overrides: SimOverrides): Promise<string[]> {
  const failures: string[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const result = await runSimulation(swarmOptions(seed, overrides));
    if (result.violations.length > 0) failures.push(`seed ${seed}: [${result.violations[0]?.checker}] ${result.violations[0]?.message} -- ${replayCommand(seed, overrides)}`);
  }
  return failures;
}

describe('soak', () => {
  it('every fault at a high rate over many seeds', async () => {
    expect(await sweep(10_000, SEEDS, { faults: parseFaults('all'), faultRate: 0.05, steps: 2_000 })).toEqual([]);
  });

  it('raw restores and same-id wipes: reuse is always detected', async () => {
    expect(await sweep(20_000, Math.ceil(SEEDS / 3), { faults: parseFaults('all'), faultRate: 0.05, restoreMode: 'raw', wipeMode: 'same-id' })).toEqual([]);
  });

  it('a long 50-replica run', async () => {
    expect(await sweep(30_000, 2, { replicas: 50, steps: 10_000, faults: parseFaults('drop,duplicate,slow,partition,isolate,crash,torn,pause,skew') })).toEqual([]);
  });
});
