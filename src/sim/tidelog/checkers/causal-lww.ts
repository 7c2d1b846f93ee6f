/**
 * Checker 3, causal last-writer-wins: a write issued after its replica observed
 * another write to the same key orders after it (so the earlier write can
 * never overwrite it), whatever the writer's wall clock said.
 */
import { compareOps, opIdString } from '../../../core/op.js';
import type { CheckContext, Finding } from './context.js';

/** Finds writes that order before a write their replica had already seen. */
export function checkCausalLww(context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const write of context.history.acked) {
    if (write.observed === undefined || write.observed.key !== write.op.key) continue;
    if (compareOps(write.op, write.observed) <= 0) {
      const id = opIdString(write.op);
      findings.push({ message: `op ${id} on ${write.op.key} orders before ${opIdString(write.observed)}, which its replica had observed when it wrote`, subject: { opId: id, key: write.op.key, node: write.node } });
      if (findings.length >= 10) break;
    }
  }
  return findings;
}
