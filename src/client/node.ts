/** The Node variant of {@link openSyncedReplica}: `ws` for the socket and, given a directory, the file log. */
import { WebSocket } from 'ws';
import { FileStorage, type FileStorageOptions } from '../storage/file/index.js';
import type { WebSocketConstructor } from '../sync/websocket-transport.js';
import { openSyncedReplica, resolveRoomKey, type SyncedReplica, type SyncedReplicaOptions } from './open-synced-replica.js';

/** Options of {@link openSyncedReplicaNode}: those of `openSyncedReplica`, plus a database directory. */
export interface NodeSyncedReplicaOptions extends SyncedReplicaOptions {
  /** Database directory for the crash-safe file log; memory when absent (and no `storage` given). */
  readonly dir?: string;
  /** File log options. */
  readonly file?: FileStorageOptions;
}

/**
 * Opens a replica (on a file log in `dir`) synced through a relay, in Node.
 * @example
 * const db = await openSyncedReplicaNode({ dir: './notes-db', relayUrl: 'ws://127.0.0.1:8080', key: invite });
 */
export async function openSyncedReplicaNode(options: NodeSyncedReplicaOptions): Promise<SyncedReplica> {
  // Resolve the key before taking the file lock, so a bad key leaves nothing open.
  const key = await resolveRoomKey(options);
  const { passphrase: _passphrase, ...rest } = options;
  const opened = options.storage === undefined && options.dir !== undefined ? await FileStorage.open(options.dir, options.file) : undefined;
  const storage = options.storage ?? opened;
  try {
    return await openSyncedReplica({
      ...rest,
      key,
      ...(storage === undefined ? {} : { storage }),
      WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
    });
  } catch (error) {
    // We opened the file log, so we release its lock (a wrong at-rest key must not leave it held).
    await opened?.close().catch(() => undefined);
    throw error;
  }
}
