/** The one-call client: a replica kept in sync, end-to-end encrypted, through a relay. Browser-safe. */
export { type PassphraseKey, openSyncedReplica, resolveRoomKey, roomUrl, type SyncedReplica, type SyncedReplicaOptions } from './open-synced-replica.js';
