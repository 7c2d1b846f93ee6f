/** Every tab reads and writes one database: a leader tab holds it, the others follow over a BroadcastChannel. */
export { isTabWriterOf, TAB_WRITER_SEPARATOR } from './leader-duties.js';
export { openTabReplica, type TabReplicaOptions } from './open-tab-replica.js';
export type { ChannelLike, TabMessage } from './protocol.js';
export { type OpenedDatabase, type TabLocks, TabReplica, type TabReplicaParts, type TabRole } from './tab-replica.js';
