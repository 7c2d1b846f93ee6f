/**
 * Checker 4, reference model: every replica's state equals a plain sequential
 * map fed every surviving op (the oracle's record of every op committed
 * anywhere, restricted to the replica's version vector) in HLC order.
 */
import { compareOps, type Op } from '../../../core/op.js';
import type { Replica } from '../../../core/replica.js';
import { vvCovers } from '../../../core/version-vector.js';
import type { CheckContext, Finding } from './context.js';

/** The reference map's winning op of every key, over the committed ops `replica` holds (covered by its vector, or past a gap). */
export function referenceWinners(context: CheckContext, replica: Replica): Map<string, Op> {
  const vv = replica.versionVector();
  const ops: Op[] = [];
  for (const op of context.history.committed.values()) if (vvCovers(vv, op.replica, op.seq) || replica.opById(op.replica, op.seq) !== undefined) ops.push(op);
  ops.sort(compareOps);
  const winners = new Map<string, Op>();
  for (const op of ops) winners.set(op.key, op); // sequential: a later op simply overwrites
  return winners;
}

/** The reference state as `[key, value]` JSON, sorted like `Replica.entries`. */
export function referenceState(winners: Map<string, Op>): string {
  const out: [string, unknown][] = [];
  for (const key of [...winners.keys()].sort()) {
    const op = winners.get(key) as Op;
    if (op.type === 'set') out.push([key, op.value]);
  }
  return JSON.stringify(out);
}

/** Finds replicas whose state is not the reference model's. */
export function checkReferenceModel(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const node of context.nodes) {
    const replica = node.replica;
    if (replica === undefined) continue;
    if (node.entries() !== referenceState(referenceWinners(context, replica))) findings.push({ message: `${node.name} state differs from the reference model of the ops it holds`, subject: { node: node.index } });
  }
  return findings;
}
