/**
 * Checker 2, no acknowledged write lost: every op whose commit resolved is,
 * at the end, held by every replica (its version vector covers it) and still
 * wins its key unless a later op superseded it. Ops a fault destroyed before
 * they left their device (bit flips, stale restores, wipes) are exempt: the
 * oracle knows exactly which. So are the ops of a replica id that was reused
 * for different ops (detected and reported; that id is fenced).
 */
import { compareOps, opIdString } from '../../core/op.js';
import { vvCovers } from '../../core/version-vector.js';
import type { CheckContext, Finding } from './context.js';
import { referenceWinners } from './reference-model.js';

/** Finds acknowledged writes that did not survive. */
export function checkAckedWrites(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const live = context.nodes.filter((node) => node.replica !== undefined);
  const first = live[0]?.replica;
  if (first === undefined) return [];
  const vv = first.versionVector();
  const winners = referenceWinners(context, first);
  // A replica id deliberately re-created by a fault and reused (and reported) is fenced: its ops are not owed any more.
  // Reuse without such a fault is itself the bug (an acknowledged op was lost and its seq written again): no exemption.
  const history = context.history;
  const reused = new Set(history.reuseExpected && history.conflictsDetected > 0 ? history.reusedIds.map((id) => id.slice(0, id.lastIndexOf(':'))) : []);
  for (const write of context.history.acked) {
    const id = opIdString(write.op);
    if (context.history.lost.has(id) || reused.has(write.op.replica)) continue;
    // Held past a gap counts: an op whose predecessor was destroyed stays in every log and state, above the vector.
    const held = first.opById(write.op.replica, write.op.seq);
    if (held !== undefined && (compareOps(held, write.op) !== 0 || held.key !== write.op.key)) {
      findings.push(`acknowledged op ${id} (${write.op.key}, acked at ${write.ackAtMs}ms on n${write.node}) was replaced by a different op under the same id`);
    } else if (!vvCovers(vv, write.op.replica, write.op.seq) && held === undefined) {
      findings.push(`acknowledged op ${id} (${write.op.key}, acked at ${write.ackAtMs}ms on n${write.node}) is missing: version vector ${write.op.replica}=${vv[write.op.replica] ?? 0}`);
    } else {
      const winner = winners.get(write.op.key);
      if (winner === undefined || compareOps(winner, write.op) < 0) findings.push(`acknowledged op ${id} on ${write.op.key} lost to nothing newer`);
    }
    if (findings.length >= 10) break;
  }
  return findings;
}
