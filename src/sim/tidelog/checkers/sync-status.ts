/**
 * Checker: the sync status tells the truth once the run is over. After convergence and the quiet period that
 * follows it (at least two anti-entropy rounds, each answered with a hello), every replica's session must
 * report nothing pending: a peer has confirmed holding every op written here. A session that still counts ops
 * as waiting would show "3 changes waiting" forever to a user whose data is in fact everywhere.
 */
import type { CheckContext, Finding } from './context.js';

/** Finds sessions that still report pending ops (or no connection) after the replicas converged. */
export function checkSyncStatus(context: CheckContext): Finding[] {
  if (context.convergedAtMs === undefined) return []; // liveness reports that
  const findings: Finding[] = [];
  for (const node of context.nodes) {
    const state = node.session?.syncState();
    if (state === undefined) continue; // not running: convergence reports that
    if (state.pendingOps > 0) findings.push({ message: `${node.name} reports ${state.pendingOps} ops no peer confirmed, after every replica converged`, subject: { node: node.index } });
  }
  return findings;
}
