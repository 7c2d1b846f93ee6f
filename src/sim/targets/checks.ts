/**
 * The end-of-run checks of a target run, and which apply to which semantics:
 *
 * | check | hlc-lww (Tidelog) | own (Yjs, Automerge) |
 * | --- | --- | --- |
 * | convergence | yes | yes |
 * | acked-writes | yes | yes |
 * | lww-order | yes | no: concurrent writes resolve by the CRDT's own rule |
 * | liveness | yes | yes |
 *
 * Causal LWW, the reference model and equal-vectors need op-level access
 * (version vectors, HLC ops) and stay with the Tidelog simulator (`runSimulation`).
 */
import { checkLiveness } from '../liveness.js';
import type { SimOptions } from '../options.js';
import type { Finding, Violation } from '../result.js';
import { describeStateDiff, stateJson } from '../state-diff.js';
import type { IssuedWrite, TargetHistory } from './history.js';
import type { TargetSemantics } from './target.js';

/** The finished run as the checks see it: each node's state (undefined when not running). */
export interface TargetCheckInput {
  readonly options: SimOptions;
  readonly semantics: TargetSemantics;
  readonly states: readonly (ReadonlyMap<string, unknown> | undefined)[];
  readonly history: TargetHistory;
  readonly healAtMs: number;
  readonly convergedAtMs: number | undefined;
  readonly nowMs: number;
}

/** Which checks run for `semantics`. */
export function checksFor(semantics: TargetSemantics): readonly string[] {
  return semantics === 'hlc-lww' ? ['convergence', 'acked-writes', 'lww-order', 'liveness'] : ['convergence', 'acked-writes', 'liveness'];
}

function checkConvergence(input: TargetCheckInput): Finding[] {
  const down = input.states.filter((s) => s === undefined).length;
  if (down > 0) return [{ message: `${down} replicas are not running at the end` }];
  const json = input.states.map((s) => stateJson(s as ReadonlyMap<string, unknown>));
  const findings: Finding[] = [];
  for (let i = 1; i < json.length; i++) if (json[i] !== json[0]) findings.push({ message: `n${i} state differs from n0 (${describeStateDiff(input.states[0], input.states[i])})`, subject: { node: i } });
  return findings;
}

/** True when `x` may legitimately supersede `w`: anything but an earlier write of the same incarnation (which `w` observed). */
function maySupersede(x: IssuedWrite, w: IssuedWrite): boolean {
  return x !== w && (x.node !== w.node || x.incarnation !== w.incarnation || x.seq > w.seq);
}

function describe(w: IssuedWrite): string {
  return `${w.value === undefined ? `-${w.key}` : `${w.key}=${w.value}`} (write #${w.seq} on n${w.node}, issued ${w.issuedAtMs}ms, acked ${w.ackAtMs}ms)`;
}

/**
 * No acknowledged write lost: an acked write is what every replica shows for its key, unless some write
 * other than an earlier one of the same incarnation (which it had observed) also wrote the key.
 */
function checkAckedWrites(input: TargetCheckInput): Finding[] {
  const findings: Finding[] = [];
  for (const w of input.history.writes) {
    if (w.ackAtMs === undefined) continue;
    const others = input.history.byKey.get(w.key) ?? [];
    if (others.some((x) => maySupersede(x, w))) continue;
    input.states.forEach((state, node) => {
      if (state === undefined || findings.length >= 10) return;
      const shown = state.get(w.key);
      if (shown !== w.value) findings.push({ message: `acknowledged write ${describe(w)} is lost on n${node}: it shows ${shown === undefined ? 'no value' : JSON.stringify(shown)}, and nobody else wrote ${w.key}`, subject: { write: w.seq, key: w.key, node } });
    });
  }
  return findings;
}

/** LWW order (hlc-lww targets): each key's visible value comes from a write stamped at or after its newest acknowledged write. */
function checkLwwOrder(input: TargetCheckInput): Finding[] {
  const findings: Finding[] = [];
  for (const [key, writes] of input.history.byKey) {
    let newest: IssuedWrite | undefined;
    for (const w of writes) if (w.stamp !== undefined && w.ackAtMs !== undefined && (newest === undefined || (newest.stamp as string) < w.stamp)) newest = w;
    if (newest === undefined) continue;
    const newestStamp = newest.stamp as string;
    input.states.forEach((state, node) => {
      if (state === undefined || findings.length >= 10) return;
      const shown = state.get(key);
      const sources = writes.filter((w) => w.value === shown);
      // An unacknowledged source has no stamp: it may be newer, so it is given the benefit of the doubt.
      if (sources.length === 0) findings.push({ message: `n${node} shows ${key}=${JSON.stringify(shown)}, which no write produced`, subject: { key, node } });
      else if (sources.every((w) => w.stamp !== undefined && w.stamp < newestStamp)) {
        const message = `n${node} shows ${key}=${JSON.stringify(shown)} from an older write than acknowledged ${describe(newest as IssuedWrite)} (stamp ${sources[0]?.stamp} < ${newestStamp})`;
        findings.push({ message, subject: { write: (newest as IssuedWrite).seq, key, node } });
      }
    });
  }
  return findings;
}

const CHECKS: Readonly<Record<string, (input: TargetCheckInput) => Finding[]>> = {
  convergence: checkConvergence,
  'acked-writes': checkAckedWrites,
  'lww-order': checkLwwOrder,
  liveness: (input) => checkLiveness({ livenessBudgetMs: input.options.livenessBudgetMs, healAtMs: input.healAtMs, convergedAtMs: input.convergedAtMs }),
};

/** Runs the checks that apply to the target's semantics. */
export function runTargetChecks(input: TargetCheckInput): Violation[] {
  const violations: Violation[] = [];
  for (const name of checksFor(input.semantics)) {
    for (const finding of (CHECKS[name] as (input: TargetCheckInput) => Finding[])(input)) violations.push({ checker: name, ...finding, atMs: input.nowMs });
  }
  return violations;
}
