/**
 * Shared helpers for the named scenarios: a scenario is fixed options plus a
 * hand-written fault schedule laid over the seed's workload, run once with a
 * fixed seed, and held to every checker.
 */
import { expect } from 'vitest';
import { parseFaults, type SimOverrides, swarmOptions } from '../src/sim/options.js';
import { type Action, type FaultAction, makePlan, type Plan } from '../src/sim/plan.js';
import { type RunHooks, runSimulation, type SimResult } from '../src/sim/tidelog/simulator.js';

/** Options for a scenario: nothing random switched on unless the scenario says so. */
export function scenarioOptions(seed: number, overrides: SimOverrides) {
  return swarmOptions(seed, { faults: [], faultRate: 0, clockSkewMsMax: 0, ...overrides, ...(overrides.faults === undefined ? {} : { faults: overrides.faults }) });
}

/** The seed's workload with `faults` laid over it (sorted by time; faults at or after the final heal are dropped). */
export function withFaults(plan: Plan, faults: readonly FaultAction[]): Plan {
  const actions: Action[] = [...plan.actions, ...faults.filter((f) => f.atMs < plan.healAtMs)];
  actions.sort((a, b) => a.atMs - b.atMs);
  return { actions, healAtMs: plan.healAtMs };
}

/** Runs a scenario and requires every checker to pass and the replicas to converge. */
export async function runScenario(seed: number, overrides: SimOverrides, faults: (plan: Plan) => FaultAction[], hooks: RunHooks = {}): Promise<SimResult> {
  const options = scenarioOptions(seed, overrides);
  const base = makePlan(options);
  const result = await runSimulation(options, { ...hooks, plan: withFaults(base, faults(base)) });
  expect(result.violations, JSON.stringify(result.violations.slice(0, 3))).toEqual([]);
  return result;
}

/** Times every `everyMs` from `fromMs` until `untilMs`. */
export function every(fromMs: number, untilMs: number, everyMs: number): number[] {
  const out: number[] = [];
  for (let t = fromMs; t < untilMs; t += everyMs) out.push(t);
  return out;
}

export { parseFaults };
