/**
 * Checker 2, no acknowledged write lost: every op whose commit resolved is,
 * at the end, held by every replica (its version vector covers it) and still
 * wins its key unless a later op superseded it. Ops a fault destroyed before
 * they left their device (bit flips, stale restores, wipes) are exempt: the
 * oracle knows exactly which. So are the ops of a replica id that was reused
 * for different ops (detected and reported; that id is fenced).
 */
import { compareOps, opIdString } from '../../../core/op.js';
import type { Replica } from '../../../core/replica.js';
import { vvCovers } from '../../../core/version-vector.js';
import type { CheckContext, Finding } from './context.js';
import { referenceWinners } from './reference-model.js';

/** Finds acknowledged writes that did not survive. */
export function checkAckedWrites(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const live = context.nodes.filter((node) => node.replica !== undefined).map((node) => node.replica as Replica);
  const first = live[0];
  if (first === undefined) return [];
  // A replica id deliberately re-created by a fault and reused (and reported) is fenced: its ops are not owed any more.
  // Reuse without such a fault is itself the bug (an acknowledged op was lost and its seq written again): no exemption.
  const history = context.history;
  const reuse = history.reuseExpected && history.conflictsDetected > 0 && history.reusedIds.length > 0;
  const reused = new Set(reuse ? history.reusedIds.map((id) => id.slice(0, id.lastIndexOf(':'))) : []);
  // Converged runs: every replica holds the same ops, so one speaks for all. Under reported reuse the replicas need not
  // converge (batches mixing a conflicting id with good ops are rejected whole), so an op survives if any replica holds it.
  const holders = reuse ? live : [first];
  const vectors = holders.map((replica) => replica.versionVector());
  const winners = reuse ? undefined : referenceWinners(context, first);
  for (const write of history.acked) {
    const id = opIdString(write.op);
    if (history.isLost(write.op) || reused.has(write.op.replica)) continue;
    const where = `(${write.op.key}, acked at ${write.ackAtMs}ms on n${write.node})`;
    const subject = { opId: id, key: write.op.key, node: write.node };
    // Held past a gap counts: an op whose predecessor was destroyed stays in every log and state, above the vector.
    const held = holders.map((replica) => replica.opById(write.op.replica, write.op.seq));
    if (held.some((op) => op !== undefined && (compareOps(op, write.op) !== 0 || op.key !== write.op.key))) {
      findings.push({ message: `acknowledged op ${id} ${where} was replaced by a different op under the same id`, subject });
    } else if (!held.some((op) => op !== undefined) && !vectors.some((vv) => vvCovers(vv, write.op.replica, write.op.seq))) {
      findings.push({ message: `acknowledged op ${id} ${where} is missing: version vector ${write.op.replica}=${vectors[0]?.[write.op.replica] ?? 0}`, subject });
    } else if (winners !== undefined) {
      const winner = winners.get(write.op.key);
      if (winner === undefined || compareOps(winner, write.op) < 0) findings.push({ message: `acknowledged op ${id} on ${write.op.key} lost to nothing newer`, subject });
    }
    if (findings.length >= 10) break;
  }
  return findings;
}
