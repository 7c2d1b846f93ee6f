/**
 * The library API (`tidelog/sim`): simulate and sweep return structured results, expectConverges throws a typed
 * error whose message carries the seed, the finding, the replay and the shrunk schedule.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { expectConverges, SimulationFailedError, simulate, sweep } from '../../src/sim/api.js';
import { ackBeforeStoreTarget } from '../sim-targets/broken-adapters.js';
import { lamportMapTarget } from '../sim-targets/example-adapter.js';

const small = { steps: 120, replicas: 3 } as const;
/** A schedule on which acknowledging before the append is durable loses writes (slow fsyncs, crashes). */
const lossy = { steps: 300, replicas: 3, fsyncMsMax: 100, faults: ['crash', 'isolate', 'drop', 'reorder', 'duplicate'], faultRate: 0.05, dropProbability: 0.3 } as const;
const lossyFlags = '--steps 300 --replicas 3 --fsync-ms-max 100 --faults crash,isolate,drop,reorder,duplicate --fault-rate 0.05 --drop-probability 0.3';

describe('simulate', () => {
  it('runs one seed of an adapter and reports what it checked', async () => {
    const result = await simulate(lamportMapTarget, { seed: 2, ...small });
    expect(result.passed).toBe(true);
    expect(result.violations).toEqual([]);
    expect(result.target).toBe('lamport-map');
    expect(result.checks).toContain('convergence');
    expect(result.options.replicas).toBe(3);
    expect(result.convergence?.ms).toBeGreaterThanOrEqual(0);
    expect(result.traceHash).toMatch(/^[0-9a-f]{16}$/);
    // Deterministic: the same seed and options give the same run.
    expect((await simulate(lamportMapTarget, { seed: 2, ...small })).traceHash).toBe(result.traceHash);
  });

  it('reports a violation with its checker, seed, replay and the shrunk schedule', async () => {
    const result = await simulate(ackBeforeStoreTarget, { seed: 1, ...lossy, shrink: 60, module: './test/sim-targets/broken-adapters.ts#ackBeforeStoreTarget' });
    expect(result.passed).toBe(false);
    const violation = result.violations.find((v) => v.checker === 'acked-writes');
    expect(violation?.seed).toBe(1);
    expect(violation?.replay).toBe(`npx tidelog replay 1 --target ./test/sim-targets/broken-adapters.ts#ackBeforeStoreTarget ${lossyFlags}`);
    expect(result.shrunk?.checker).toBe(result.violations[0]?.checker);
    expect(result.shrunk?.actions.length).toBeLessThan(result.shrunk?.actionsBefore ?? 0);
    expect(result.shrunk?.lines[0]).toMatch(/^\s+\d+ms (write|crash|partition|restart|heal) /);
  });

  it('runs Tidelog itself and the built-in targets by name', async () => {
    const own = await simulate('tidelog', { seed: 3, steps: 80 });
    expect(own.passed).toBe(true);
    expect(own.replay).toBe('npx tidelog replay 3 --steps 80');
    expect(own.checks).toContain('reference-model');
    const yjs = await simulate('yjs', { seed: 3, steps: 80 });
    expect(yjs.target).toBe('yjs');
    expect(yjs.replay).toBe('npx tidelog replay 3 --target yjs --steps 80');
    await expect(simulate('no-such-crdt')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(simulate({} as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('without a module path, the replay is the call that reproduces the run', async () => {
    const result = await simulate(ackBeforeStoreTarget, { seed: 1, ...lossy, shrink: false });
    expect(result.violations[0]?.replay).toBe(`simulate(ack-before-store(tidelog), ${JSON.stringify({ seed: 1, ...lossy })}) (or with the adapter's module: npx tidelog replay 1 --target <module> ${lossyFlags})`);
    expect(result.shrunk).toBeUndefined();
  });
});

describe('sweep', () => {
  it('runs consecutive seeds and gives convergence percentiles', async () => {
    const result = await sweep(lamportMapTarget, { runs: 4, seed: 10, ...small });
    expect(result.passed).toBe(true);
    expect(result.runs).toBe(4);
    expect(result.firstSeed).toBe(10);
    expect(result.convergence.runs).toBe(4);
    expect(result.convergence.ms.p50).toBeLessThanOrEqual(result.convergence.ms.p99);
    expect(result.events).toBeGreaterThan(0);
  });

  it('stops after failuresMax failing seeds, and shrinks only the first', async () => {
    const result = await sweep(ackBeforeStoreTarget, { runs: 30, seed: 1, ...lossy, failuresMax: 2, shrink: 40 });
    expect(result.passed).toBe(false);
    expect(result.failures).toHaveLength(2);
    expect(result.failures[0]?.shrunk).toBeDefined();
    expect(result.failures[1]?.shrunk).toBeUndefined();
  });
});

describe('expectConverges', () => {
  it('resolves with the sweep when every seed passes', async () => {
    const result = await expectConverges(lamportMapTarget, { runs: 2, ...small });
    expect(result.passed).toBe(true);
  });

  it('throws SimulationFailedError naming the seed, the checker, the replay and the shrunk schedule', async () => {
    const failing = expectConverges(ackBeforeStoreTarget, { runs: 3, seed: 1, ...lossy, shrink: 40, module: './broken.ts' });
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SimulationFailedError);
    const e = error as SimulationFailedError;
    expect(e.code).toBe('SIMULATION_FAILED');
    expect(e.message).toMatch(/^\d of 3 seeds failed on target ack-before-store\(tidelog\) \(seeds 1\.\.3\)/);
    expect(e.message).toContain('seed 1: ');
    expect(e.message).toContain('[acked-writes]');
    expect(e.message).toContain('replay: npx tidelog replay 1 --target ./broken.ts');
    expect(e.message).toMatch(/shrunk schedule: \d+ of \d+ actions still fail \[/);
    expect((e.details.seeds as number[])[0]).toBe(1);
  });
});
