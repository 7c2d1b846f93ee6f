/**
 * `openTabReplica`: a database in IndexedDB that every tab of the browser reads and writes, optionally kept in
 * sync through a relay (by whichever tab leads). See `TabReplica` for how the tabs share it.
 */
import { type Clock, systemClock } from '../../core/clock.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { type Random, systemRandom } from '../../core/random.js';
import { Replica, type ReplicaOptions } from '../../core/replica.js';
import { EncryptedStorage } from '../../crypto/encrypted-storage.js';
import { IndexedDbStorage } from '../../storage/indexeddb/idb-storage.js';
import { resolveRoomKey, type SyncedReplicaOptions, syncReplica } from '../open-synced-replica.js';
import type { ChannelLike } from './protocol.js';
import { type OpenedDatabase, type TabLocks, TabReplica } from './tab-replica.js';

/** Options of {@link openTabReplica}. */
export interface TabReplicaOptions {
  /** The IndexedDB database name; every tab that opens the same name shares the database. */
  readonly name: string;
  /** Sync through a relay (relay URL, key or passphrase, ...); the leader tab runs the one session for all tabs. */
  readonly sync?: Omit<SyncedReplicaOptions, 'storage' | 'replica'>;
  /** Replica options other than storage (limits, history). */
  readonly replica?: Omit<ReplicaOptions, 'storage' | 'clock' | 'random'>;
  /** IndexedDB commit durability (see `IndexedDbStorageOptions.durability`); `strict` by default. */
  readonly durability?: 'strict' | 'relaxed';
  /** The IndexedDB factory; `globalThis.indexedDB` by default. */
  readonly indexedDB?: IDBFactory;
  /** The Web Locks API; `navigator.locks` by default. */
  readonly locks?: TabLocks;
  /** Opens the tabs' channel; `new BroadcastChannel(name)` by default. */
  readonly channel?: (name: string) => ChannelLike;
  readonly clock?: Clock;
  readonly random?: Random;
  /** How often a follower repeats its hello while no leader answers. Default 500 ms. */
  readonly helloRetryMs?: number;
}

/**
 * Opens the database `name` for this tab: as its leader when no other tab holds it, else as a follower of
 * the tab that does. Either way reads are synchronous and writes resolve once durable.
 * @example
 * const db = await openTabReplica({ name: 'todos', sync: { relayUrl: 'wss://relay.example.com', key: invite } });
 * db.query({ prefix: 'todo/' }).subscribe((todos) => render(todos));
 * await db.set('todo/1', { text: 'buy milk' });
 */
export async function openTabReplica(options: TabReplicaOptions): Promise<TabReplica> {
  if (typeof options?.name !== 'string' || options.name.length === 0) throw new InvalidArgumentError('openTabReplica needs a database name');
  const locks = options.locks ?? (globalThis as { navigator?: { locks?: TabLocks } }).navigator?.locks;
  if (locks === undefined) throw new InvalidArgumentError('this platform has no Web Locks (navigator.locks): pass options.locks');
  const openChannel = options.channel ?? defaultChannel;
  // Every tab derives the key up front: a wrong passphrase fails here, not later in whichever tab leads.
  const key = options.sync === undefined ? undefined : await resolveRoomKey(options.sync);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const openDatabase = async (writerIds: (replicaId: string) => (id: string) => boolean): Promise<OpenedDatabase> => {
    const idb = await IndexedDbStorage.open(options.name, {
      locks: null,
      ...(options.indexedDB === undefined ? {} : { factory: options.indexedDB }),
      ...(options.durability === undefined ? {} : { durability: options.durability }),
    });
    const storage = key !== undefined && options.sync?.encryptAtRest === true ? new EncryptedStorage(idb, key, {}) : idb;
    const replica = await Replica.open({ ...options.replica, storage, clock, random });
    if (options.sync === undefined || key === undefined) return { replica, close: () => replica.close() };
    const { key: _key, passphrase: _passphrase, ...sync } = options.sync;
    const synced = syncReplica(replica, key, { ...sync, session: { ...sync.session, isOwnReplica: writerIds(replica.replicaId) } });
    return { replica, sync: synced, close: () => synced.close() };
  };
  return TabReplica.start({
    lockName: `tidelog:indexeddb:${options.name}`,
    locks,
    channel: openChannel(`tidelog:tabs:${options.name}`),
    openDatabase,
    clock,
    random,
    ...(options.helloRetryMs === undefined ? {} : { helloRetryMs: options.helloRetryMs }),
  });
}

function defaultChannel(name: string): ChannelLike {
  const Channel = (globalThis as { BroadcastChannel?: new (name: string) => ChannelLike }).BroadcastChannel;
  if (Channel === undefined) throw new InvalidArgumentError('this platform has no BroadcastChannel: pass options.channel');
  return new Channel(name);
}
