/** The Node variant of {@link openSyncedReplica}: `ws` for the socket and, given a directory, the file log. */
import { WebSocket } from 'ws';
import { nodeAead } from '../crypto/node-aead.js';
import { FileStorage, type FileStorageOptions } from '../storage/file/index.js';
import type { WebSocketConstructor } from '../sync/websocket-transport.js';
import type { JsonValue } from '../core/json.js';
import { openSyncedReplica, resolveRoomKey, type SyncedReplica, type SyncedReplicaOptions } from './open-synced-replica.js';

/**
 * `ws` with an all-zero masking key, which `ws` recognises and skips (no pass over every byte sent).
 * RFC 6455 masks client frames so that script in a browser cannot put bytes of its choosing on the wire
 * and poison a proxy's cache; every frame this client sends is an AES-GCM envelope under a random nonce,
 * which nobody can choose, so the mask protects nothing here and cost the writer as much CPU as encoding.
 */
class UnmaskedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { generateMask: zeroMask });
  }
}

function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/** Options of {@link openSyncedReplicaNode}: those of `openSyncedReplica`, plus a database directory. */
export interface NodeSyncedReplicaOptions<V extends JsonValue = JsonValue> extends SyncedReplicaOptions<V> {
  /** Database directory for the crash-safe file log; memory when absent (and no `storage` given). */
  readonly dir?: string;
  /** File log options. */
  readonly file?: FileStorageOptions;
}

/**
 * Opens a replica (on a file log in `dir`) synced through a relay, in Node. Envelopes use `node:crypto`'s
 * AES-GCM unless `aead` says otherwise (same bytes as WebCrypto's, less overhead per frame).
 * @example
 * const db = await openSyncedReplicaNode({ dir: './notes-db', relayUrl: 'ws://127.0.0.1:8080', key: invite });
 */
export async function openSyncedReplicaNode<V extends JsonValue = JsonValue>(options: NodeSyncedReplicaOptions<V>): Promise<SyncedReplica<V>> {
  // Resolve the key before taking the file lock, so a bad key leaves nothing open.
  const key = await resolveRoomKey(options);
  const { passphrase: _passphrase, ...rest } = options;
  const opened = options.storage === undefined && options.dir !== undefined ? await FileStorage.open(options.dir, options.file) : undefined;
  const storage = options.storage ?? opened;
  try {
    return await openSyncedReplica<V>({
      ...rest,
      key,
      aead: options.aead ?? nodeAead,
      ...(storage === undefined ? {} : { storage }),
      WebSocket: options.WebSocket ?? (UnmaskedWebSocket as unknown as WebSocketConstructor),
    });
  } catch (error) {
    // We opened the file log, so we release its lock (a wrong at-rest key must not leave it held).
    await opened?.close().catch(() => undefined);
    throw error;
  }
}
