/** The sync protocol: messages, the session, its scheduler and an in-memory transport. */
export { FRAME_HEADER_BYTES, type HelloMessage, MessageType, type OpsMessage, SNAPSHOT_PARTS_MAX, type SnapshotMessage, SYNC_PROTOCOL_VERSION, type SyncMessage, decodeMessage, encodeMessage } from './messages.js';
export { MemoryRoom, MemoryTransport } from './memory-transport.js';
export { type CancelTimer, ManualScheduler, type Scheduler, systemScheduler } from './scheduler.js';
export { type SyncError, SyncSession, type SyncSessionOptions, type SyncStatus } from './session.js';
export { type SyncState, SyncStateTracker } from './sync-state.js';
export type { Transport, TransportListener } from './transport.js';
export { ReplicaIdBudgetError } from './errors.js';
export { REPLICA_ID_BUDGET_DEFAULTS, type ReplicaIdBudgetLimits } from './id-budget.js';
export { syncMetricsText } from './metrics.js';
