/**
 * The app's room: a replica in IndexedDB, kept in sync through the relay with
 * `openSyncedReplica`, and the status the app shows about it. The room key is
 * stretched from the passphrase; the relay only ever sees the derived room id.
 */
import { IndexedDbStorage, openSyncedReplica, type Replica, resolveRoomKey, type SyncedReplica } from '../../../src/browser.js';

/**
 * scrypt salt shared by every copy of the demo: people who type the same passphrase
 * meet in the same room. A real app would add a room name or use invite strings.
 */
const PASSPHRASE_SALT = 'tidelog web demo v1';
/** How often the status panel re-reads the session (peers confirm ops in their periodic hellos). */
const STATUS_POLL_MS = 250;

/** What the status panel shows about the connection. */
export interface RoomStatus {
  /** `online` only when the socket is open and the browser thinks it has a network. */
  readonly network: 'online' | 'offline' | 'connecting';
  /** Local ops that no peer has confirmed holding yet (by their latest hello). */
  readonly unsentOps: number;
  /** Other devices heard from in this session. */
  readonly peersSeen: number;
  /** The id the relay routes by (derived from the key; reveals nothing). */
  readonly roomId: string;
}

/** An open room. */
export interface Room {
  readonly replica: Replica;
  readonly synced: SyncedReplica;
  status(): RoomStatus;
  /** Calls `listener` whenever the status may have changed; returns the unsubscribe. */
  onStatus(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Options of {@link openRoom}. */
export interface OpenRoomOptions {
  readonly relayUrl: string;
  readonly passphrase: string;
}

/** Derives the room key, opens the room's IndexedDB database and starts syncing. */
export async function openRoom(options: OpenRoomOptions): Promise<Room> {
  const key = await resolveRoomKey({ passphrase: { passphrase: options.passphrase, salt: PASSPHRASE_SALT } });
  // One database per room, named by the public room id: the passphrase never touches storage names.
  const storage = await IndexedDbStorage.open(`tidelog-demo-${key.roomId}`);
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  const synced = await openSyncedReplica({
    relayUrl: options.relayUrl,
    key,
    storage,
    transport: { onStateChange: notify, reconnectDelayMsMax: 5_000 },
  });
  const onOnline = (): void => {
    // A socket that lived through an outage may be stalled or dead: start afresh, which also runs anti-entropy.
    synced.socket.reconnect();
    notify();
  };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', notify);
  const poll = setInterval(notify, STATUS_POLL_MS);
  return {
    replica: synced.replica,
    synced,
    status: () => statusOf(synced),
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      clearInterval(poll);
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', notify);
      listeners.clear();
      await synced.close();
    },
  };
}

function statusOf(synced: SyncedReplica): RoomStatus {
  const { replica, session, socket } = synced;
  const state = socket.stats().state;
  const network = !navigator.onLine || state === 'waiting' || state === 'closed' ? 'offline' : state === 'connecting' ? 'connecting' : 'online';
  const written = replica.versionVector()[replica.replicaId] ?? 0;
  let confirmed = 0;
  for (const vv of session.peerVersionVectors().values()) confirmed = Math.max(confirmed, vv[replica.replicaId] ?? 0);
  return { network, unsentOps: Math.max(0, written - confirmed), peersSeen: session.status().peersSeen.length, roomId: synced.roomId };
}
