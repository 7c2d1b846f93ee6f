/**
 * A session's status as Prometheus text, for a client that serves `/metrics` (the relay serves its own): the
 * refusals of lying peers next to the traffic, so a dashboard shows a device whose clock is wrong or a member
 * that forges ids. Counters only; names follow Prometheus conventions (`_total`).
 */
import type { SyncStatus } from './session.js';

/** Renders `status` as Prometheus exposition text, each line labelled with `labels` (e.g. `{ replica: id }`). */
export function syncMetricsText(status: SyncStatus, labels: Readonly<Record<string, string>> = {}): string {
  const base = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  const line = (name: string, value: number, extra: Record<string, string> = {}) => {
    const all = [...base, ...Object.entries(extra).map(([k, v]) => `${k}="${escapeLabel(v)}"`)];
    return `${name}${all.length === 0 ? '' : `{${all.join(',')}}`} ${value}`;
  };
  const lines = [
    '# HELP tidelog_sync_ops_received_total Ops received in frames for this replica.',
    '# TYPE tidelog_sync_ops_received_total counter',
    line('tidelog_sync_ops_received_total', status.opsReceived),
    '# HELP tidelog_sync_ops_applied_total Received ops that were new here.',
    '# TYPE tidelog_sync_ops_applied_total counter',
    line('tidelog_sync_ops_applied_total', status.opsApplied),
    '# HELP tidelog_sync_ops_refused_total Ops refused for now, by reason (accepted later when the reason passes).',
    '# TYPE tidelog_sync_ops_refused_total counter',
    line('tidelog_sync_ops_refused_total', status.clockDriftRefusals, { reason: 'clock-drift' }),
    line('tidelog_sync_ops_refused_total', status.replicaIdRefusals, { reason: 'replica-id-budget' }),
    line('tidelog_sync_ops_refused_total', status.opsDeferred, { reason: 'seq-gap' }),
    '# HELP tidelog_sync_frames_malformed_total Frames that did not decode.',
    '# TYPE tidelog_sync_frames_malformed_total counter',
    line('tidelog_sync_frames_malformed_total', status.framesMalformed),
    '# HELP tidelog_sync_op_id_conflicts_total Batches refused for an op id used for different content.',
    '# TYPE tidelog_sync_op_id_conflicts_total counter',
    line('tidelog_sync_op_id_conflicts_total', status.opIdConflicts),
    '# HELP tidelog_sync_forged_own_ops_total Times a peer sent or claimed ops under our own id that we never wrote.',
    '# TYPE tidelog_sync_forged_own_ops_total counter',
    line('tidelog_sync_forged_own_ops_total', status.forgedOwnOps),
    '# HELP tidelog_sync_identity_rotations_total Moves to a fresh replica id (the old one was forged or reused).',
    '# TYPE tidelog_sync_identity_rotations_total counter',
    line('tidelog_sync_identity_rotations_total', status.identityRotations),
    '# HELP tidelog_sync_transfers_evicted_total Snapshot transfers and split hellos dropped to stay within their bound.',
    '# TYPE tidelog_sync_transfers_evicted_total counter',
    line('tidelog_sync_transfers_evicted_total', status.transfersEvicted),
  ];
  return `${lines.join('\n')}\n`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
