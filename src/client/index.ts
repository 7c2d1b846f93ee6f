/** The one-call client: a replica kept in sync, end-to-end encrypted, through a relay. Browser-safe. */
export { type PassphraseKey, openSyncedReplica, resolveRoomKey, roomUrl, type SyncedReplica, type SyncedReplicaOptions, syncReplica } from './open-synced-replica.js';
export { consoleRelayLog, type RelayLog } from './relay-notices.js';
export * from './tabs/index.js';
