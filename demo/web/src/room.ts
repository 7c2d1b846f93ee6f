/**
 * The app's room: a database in IndexedDB that every tab of this browser reads and writes (`openTabReplica`:
 * one tab leads and syncs through the relay, the others follow), and the status the app shows about it. The
 * room key is stretched from the passphrase; the relay only ever sees the derived room id.
 */
import { openTabReplica, resolveRoomKey, type TabReplica } from '../../../src/browser.js';

/**
 * scrypt salt shared by every copy of the demo: people who type the same passphrase
 * meet in the same room. A real app would add a room name or use invite strings.
 */
const PASSPHRASE_SALT = 'tidelog web demo v1';

/** An open room. */
export interface Room {
  /** This tab's handle on the room's database. */
  readonly replica: TabReplica;
  /** The id the relay routes by (derived from the key; reveals nothing). */
  readonly roomId: string;
  /** How long opening took: stretching the passphrase, and opening the database (leading or following). */
  readonly openedMs: { readonly keyMs: number; readonly databaseMs: number };
  close(): Promise<void>;
}

/** Options of {@link openRoom}. */
export interface OpenRoomOptions {
  readonly relayUrl: string;
  readonly passphrase: string;
}

/** Derives the room key, opens the room's database (leading or following the tab that does) and syncs. */
export async function openRoom(options: OpenRoomOptions): Promise<Room> {
  const startedMs = performance.now();
  const key = await resolveRoomKey({ passphrase: { passphrase: options.passphrase, salt: PASSPHRASE_SALT } });
  const keyMs = performance.now() - startedMs;
  // One database per room, named by the public room id: the passphrase never touches storage names.
  const replica = await openTabReplica({
    name: `tidelog-demo-${key.roomId}`,
    sync: { relayUrl: options.relayUrl, key, transport: { reconnectDelayMsMax: 5_000 } },
  });
  const databaseMs = performance.now() - startedMs - keyMs;
  const onOnline = (): void => {
    // A socket that lived through an outage may be stalled or dead: start afresh, which also runs anti-entropy.
    replica.database?.sync?.socket.reconnect();
  };
  window.addEventListener('online', onOnline);
  return {
    replica,
    roomId: key.roomId,
    openedMs: { keyMs: Math.round(keyMs), databaseMs: Math.round(databaseMs) },
    async close() {
      window.removeEventListener('online', onOnline);
      await replica.close();
    },
  };
}
