/**
 * `openSyncedReplica`: one call that opens a replica on its storage, derives the
 * room from a key or passphrase, connects to a relay, encrypts everything that
 * leaves, and keeps it in sync. Browser-safe; `tidelog/node` has a variant with
 * `ws` and file storage wired in.
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { JsonValue } from '../core/json.js';
import { Replica, type ReplicaOptions } from '../core/replica.js';
import type { Storage } from '../core/storage.js';
import type { Aead } from '../crypto/aead.js';
import { EncryptedStorage } from '../crypto/encrypted-storage.js';
import { EncryptedTransport } from '../crypto/encrypted-transport.js';
import type { RandomBytes } from '../crypto/random-bytes.js';
import { type RoomKey, roomKeyFromInvite, roomKeyFromPassphrase, type ScryptParams } from '../crypto/room-key.js';
import { SyncSession, type SyncSessionOptions } from '../sync/session.js';
import type { SyncState } from '../sync/sync-state.js';
import { type WebSocketConstructor, WebSocketTransport, type WebSocketTransportOptions, type WebSocketTransportState } from '../sync/websocket-transport.js';
import { consoleRelayLog, type RelayLog, relayNotices } from './relay-notices.js';

/** A passphrase and the salt (a room name works) it is stretched with. */
export interface PassphraseKey {
  readonly passphrase: string;
  readonly salt: string;
  readonly scrypt?: ScryptParams;
}

/** Options of {@link openSyncedReplica}. Give exactly one of `key` and `passphrase`. `V`: the value type (see `Replica<V>`). */
export interface SyncedReplicaOptions<V extends JsonValue = JsonValue> {
  /** The relay's base URL, e.g. `wss://relay.example.com` (the room path is appended). */
  readonly relayUrl: string;
  /** Other relays of the same deployment (sharing rooms through Redis): the transport fails over to them in turn. */
  readonly fallbackRelayUrls?: readonly string[];
  /** The room key, or its invite string (`tidelog1:...`). */
  readonly key?: RoomKey | string;
  /** Or a passphrase to derive the room key from. */
  readonly passphrase?: PassphraseKey;
  /** Where the log lives; memory by default. */
  readonly storage?: Storage;
  /** Also encrypt the stored log with the room key. Default false. */
  readonly encryptAtRest?: boolean;
  /** Replica options other than storage (replica id, clock, limits, a `schema` for the values). */
  readonly replica?: Omit<ReplicaOptions<V>, 'storage'>;
  /** Sync session options (batch sizes, anti-entropy period). */
  readonly session?: SyncSessionOptions;
  /** WebSocket transport options (backoff, timers), besides the URL. */
  readonly transport?: Omit<WebSocketTransportOptions, 'url'>;
  /** The WebSocket implementation; `globalThis.WebSocket` by default. */
  readonly WebSocket?: WebSocketConstructor;
  /** AES-GCM engine and randomness, for tests and benchmarks. */
  readonly aead?: Aead;
  readonly randomBytes?: RandomBytes;
  /**
   * Where to say that the relay cannot be reached (once per outage, `warn`) and that it is back (`info`).
   * `console` by default; `false` for silence. The same facts are in `syncState()` and `socket.stats()`.
   */
  readonly log?: RelayLog;
}

/** A replica kept in sync through a relay. */
export interface SyncedReplica<V extends JsonValue = JsonValue> {
  /** The database handle: read and write it as usual. */
  readonly replica: Replica<V>;
  /** The sync session (status, syncNow). */
  readonly session: SyncSession;
  /** The encrypting layer (rejection counters). */
  readonly encryption: EncryptedTransport;
  /** The socket layer (connection state, reconnect counters). */
  readonly socket: WebSocketTransport;
  /** The room id the relay sees. */
  readonly roomId: string;
  /** Connected or not, local ops no peer has confirmed yet, the vector the last peer reported (see `SyncSession.syncState`). */
  syncState(): SyncState;
  /** Calls `listener` whenever the sync state changes. Returns the unsubscribe function. */
  onSyncState(listener: (state: SyncState) => void): () => void;
  /** Stops syncing, closes the connection, then the replica. */
  close(): Promise<void>;
}

/** Resolves the room key from `key` or `passphrase`. @throws InvalidArgumentError, CryptoFailedError */
export async function resolveRoomKey(options: Pick<SyncedReplicaOptions, 'key' | 'passphrase'>): Promise<RoomKey> {
  if ((options.key === undefined) === (options.passphrase === undefined)) throw new InvalidArgumentError('give exactly one of key and passphrase');
  if (options.passphrase !== undefined) return roomKeyFromPassphrase(options.passphrase.passphrase, options.passphrase.salt, options.passphrase.scrypt);
  return typeof options.key === 'string' ? roomKeyFromInvite(options.key) : (options.key as RoomKey);
}

/** The URL of a room on a relay. */
export function roomUrl(relayUrl: string, roomId: string): string {
  return `${relayUrl.replace(/\/+$/, '')}/rooms/${roomId}`;
}

/**
 * Opens a replica and keeps it in sync through the relay at `relayUrl`.
 * @example
 * const { replica, close } = await openSyncedReplica({ relayUrl: 'wss://relay.example.com', key: invite });
 * await replica.set('todo/1', { text: 'buy milk' });
 */
export async function openSyncedReplica<V extends JsonValue = JsonValue>(options: SyncedReplicaOptions<V>): Promise<SyncedReplica<V>> {
  const key = await resolveRoomKey(options);
  const crypto = cryptoOptions(options);
  const baseStorage = options.storage;
  const storage = options.encryptAtRest === true && baseStorage !== undefined ? new EncryptedStorage(baseStorage, key, crypto) : baseStorage;
  const replica = await Replica.open<V>({ ...options.replica, ...(storage === undefined ? {} : { storage }) });
  return syncReplica(replica, key, options);
}

function cryptoOptions(options: Pick<SyncedReplicaOptions, 'aead' | 'randomBytes'>): { aead?: Aead; randomBytes?: RandomBytes } {
  return { ...(options.aead === undefined ? {} : { aead: options.aead }), ...(options.randomBytes === undefined ? {} : { randomBytes: options.randomBytes }) };
}

/**
 * Keeps an open replica in sync through a relay (what {@link openSyncedReplica} does after opening it): the
 * socket, the encryption and the session. `close()` stops them and then closes the replica.
 */
export function syncReplica<V extends JsonValue = JsonValue>(
  replica: Replica<V>,
  key: RoomKey,
  options: Omit<SyncedReplicaOptions, 'key' | 'passphrase' | 'storage' | 'encryptAtRest' | 'replica'>,
): SyncedReplica<V> {
  const crypto = cryptoOptions(options);
  const userHook = options.transport?.onStateChange;
  let notices: ((state: WebSocketTransportState) => void) | undefined;
  const socket: WebSocketTransport = new WebSocketTransport({
    ...options.transport,
    onStateChange: (state) => {
      userHook?.(state);
      notices?.(state);
    },
    url: roomUrl(options.relayUrl, key.roomId),
    ...(options.fallbackRelayUrls === undefined ? {} : { fallbackUrls: options.fallbackRelayUrls.map((url) => roomUrl(url, key.roomId)) }),
    ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
  });
  // Set after the constructor: its first attempt may fail inside it, before `socket` is assigned.
  notices = relayNotices(
    options.log ?? consoleRelayLog,
    () => socket.stats(),
    () => socket.currentUrl,
  );
  if (socket.stats().state === 'waiting') notices('waiting');
  const encryption = new EncryptedTransport(socket, { key, ...crypto });
  const session = new SyncSession(replica, encryption, options.session);
  session.start();
  let closing: Promise<void> | undefined;
  return {
    replica,
    session,
    encryption,
    socket,
    roomId: key.roomId,
    syncState: () => session.syncState(),
    onSyncState: (listener) => session.onSyncState(listener),
    close() {
      closing ??= (async () => {
        await session.stop();
        await encryption.close();
        await replica.close();
      })();
      return closing;
    },
  };
}
