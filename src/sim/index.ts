/**
 * The deterministic simulator: the kernel (options, plans, the run loop, the
 * typed trace, shrinking, the determinism check, reports, the timeline), the
 * {@link Harness} interface every run goes through, and Tidelog's own harness.
 * The target harness and the adapters are `./targets/index.js`.
 */
export { checkDeterminism, type DeterminismReport, firstTraceDifference } from './determinism.js';
export type { Harness } from './harness.js';
export { checkLiveness, type LivenessInput } from './liveness.js';
export { FAULT_NAMES, type FaultName, faultOn, parseFaults, type SimBug, type SimOptions, type SimOverrides, swarmOptions, validateOptions } from './options.js';
export { type Action, describeAction, type FaultAction, makePlan, type Plan, type WriteAction } from './plan.js';
export { type ProcessState, SimProcess } from './process.js';
export { Prng, ZipfSampler } from './prng.js';
export { excerptFor, failureReport, percentile, percentiles, replayCommand, summarize, verdict } from './report.js';
export type { Finding, RunHooks, RunResult, Subject, Violation } from './result.js';
export { type ShrinkLimits, type ShrinkResult, shrinkRun, shrinkSchedule, type TrialRun } from './shrink.js';
export { type FaultHandlers, type FaultKind, type FaultOf, SimRun } from './sim-run.js';
export { describeStateDiff, stateJson } from './state-diff.js';
export { renderTimeline } from './timeline.js';
export { eventNodes, formatEntry, formatEvent, Trace, type TraceEntry, type TraceEvent } from './trace.js';
export { type CheckContext, runCheckers } from './tidelog/checkers/index.js';
export { tidelogHarness, shrinkPlan } from './tidelog/harness.js';
export type { AckedWrite, History } from './tidelog/history.js';
export { type ConvergenceMeasure, runSimulation, type SimResult } from './tidelog/simulator.js';
export { type RecoveryReport, SimMedium, SimStorage } from './tidelog/storage.js';
