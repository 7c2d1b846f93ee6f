/** The deterministic simulator: options, the run, the checkers, shrinking and reports. */
export { type CheckContext, runCheckers } from './tidelog/checkers/index.js';
export type { AckedWrite, History, Violation } from './tidelog/history.js';
export { FAULT_NAMES, type FaultName, faultOn, parseFaults, type SimBug, type SimOptions, type SimOverrides, swarmOptions, validateOptions } from './options.js';
export { type Action, describeAction, type FaultAction, makePlan, type Plan, type WriteAction } from './plan.js';
export { Prng, ZipfSampler } from './prng.js';
export { excerptFor, failureReport, percentile, percentiles, replayCommand, summarize } from './report.js';
export { type ShrinkResult, shrinkPlan, shrinkSchedule, type TrialRun } from './shrink.js';
export { type ConvergenceMeasure, type RunHooks, runSimulation, type SimResult } from './tidelog/simulator.js';
export { type RecoveryReport, SimMedium, SimStorage } from './tidelog/storage.js';
export { checkDeterminism, type DeterminismReport, firstTraceDifference } from './determinism.js';
export { renderTimeline } from './timeline.js';
