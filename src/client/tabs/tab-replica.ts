/**
 * `TabReplica`: one browser tab's handle on a database that every tab of the browser reads and writes. One tab,
 * the leader, holds the database (its Web Lock, its IndexedDB storage, its sync session); the others are
 * followers: they keep a materialized copy in memory (reads stay synchronous), forward their writes to the
 * leader over a `BroadcastChannel` and apply what it commits. When the leader's tab closes, reloads or crashes,
 * the browser hands the lock to a waiting follower, which opens the database and leads from then on; writes
 * nobody acknowledged are sent again and, carrying the op ids they were staged under, applied exactly once.
 */
import type { Clock } from '../../core/clock.js';
import type { ChangeEvent } from '../../core/commit-pipeline.js';
import { InvalidArgumentError, ReplicaClosedError, TidelogError, type TidelogErrorCode } from '../../core/errors.js';
import { HybridLogicalClock } from '../../core/hlc.js';
import { type JsonValue, jsonEqual, toJsonValue } from '../../core/json.js';
import { LiveQuery, LiveValue, type LiveSource, type QueryOptions } from '../../core/live-query.js';
import { MemoryStorage } from '../../core/memory-storage.js';
import type { Op, OpInput } from '../../core/op.js';
import { type Random, randomReplicaId } from '../../core/random.js';
import { type BatchWriter, Replica, validateKey } from '../../core/replica.js';
import type { KeyChange } from '../../core/state.js';
import { type VersionVector, vvDominates } from '../../core/version-vector.js';
import { type SyncState, SyncStateTracker } from '../../sync/sync-state.js';
import type { SyncedReplica } from '../open-synced-replica.js';
import { isTabWriterOf, LeaderDuties, TAB_WRITER_SEPARATOR } from './leader-duties.js';
import { asTabMessage, type ChannelLike, type TabMessage } from './protocol.js';

/** Which part a tab plays. */
export type TabRole = 'leader' | 'follower';

/** What the leader opens once it holds the lock: the database replica and, when syncing, its sync state. */
export interface OpenedDatabase {
  readonly replica: Replica;
  /** The database's sync (session, socket, state); absent when the database does not sync. */
  readonly sync?: SyncedReplica;
  /** Stops syncing and closes the replica. */
  close(): Promise<void>;
}

/** The part of the Web Locks API the tabs use: a queued exclusive request, abortable while it waits. */
export interface TabLocks {
  request(name: string, options: { readonly mode: 'exclusive'; readonly signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** What a {@link TabReplica} is made of (see `openTabReplica` for the browser's defaults). */
export interface TabReplicaParts {
  /** The lock that makes a tab the leader (the database's own Web Lock). */
  readonly lockName: string;
  readonly locks: TabLocks;
  /** The channel every tab of the database shares. */
  readonly channel: ChannelLike;
  /** Opens the database; called once this tab holds the lock. */
  readonly openDatabase: (writerIds: (replicaId: string) => (id: string) => boolean) => Promise<OpenedDatabase>;
  readonly clock: Clock;
  readonly random: Random;
  /** How often a follower repeats its hello while no leader answers. Default 500 ms. */
  readonly helloRetryMs?: number;
  /** How long `close()` waits for the leader to acknowledge a follower's writes still on their way. Default 2,000 ms. */
  readonly closeWaitMs?: number;
}

interface Outstanding {
  readonly ops: readonly Op[];
  readonly resolve: (ops: readonly Op[]) => void;
  readonly reject: (error: unknown) => void;
}

const NOT_SYNCED: SyncState = Object.freeze({ connected: false, pendingOps: 0, lastPeer: undefined });

/** One tab's handle on a database shared by every tab (see the module comment). */
export class TabReplica implements LiveSource {
  /** This tab's id on the channel (not a replica id). */
  readonly tabId: string;
  private current: Replica;
  private detachCurrent: () => void;
  private roleNow: TabRole = 'follower';
  private db: OpenedDatabase | undefined;
  private duties: LeaderDuties | undefined;
  private dbId: string | undefined;
  private writerId: string | undefined;
  private writerSeq = 0;
  private readonly hlc: HybridLogicalClock;
  private readonly outstanding = new Map<number, Outstanding>();
  private nextWriteId = 1;
  private sync: SyncState = NOT_SYNCED;
  private readonly changeListeners = new Set<(event: ChangeEvent) => void>();
  private readonly syncListeners = new Set<(state: SyncState) => void>();
  private readonly roleListeners = new Set<(role: TabRole) => void>();
  private readonly lockAbort = new AbortController();
  private releaseLock: (() => void) | undefined;
  private helloTimer: ReturnType<typeof setTimeout> | undefined;
  private readyResolve!: () => void;
  private readyReject!: (error: unknown) => void;
  /** Settles once this tab can serve reads: it leads, or a leader sent it the database's state. */
  readonly ready: Promise<void>;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly parts: TabReplicaParts,
    view: Replica,
  ) {
    this.tabId = `tab-${randomReplicaId(parts.random)}`;
    this.hlc = new HybridLogicalClock(parts.clock);
    this.current = view;
    this.detachCurrent = this.attach(view);
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
  }

  /** Starts a tab: a follower at once, asking for the leader's state, and in line for the lock. */
  static async start(parts: TabReplicaParts): Promise<TabReplica> {
    // The follower's copy lives in memory under an id of its own; it never writes under it.
    const view = await Replica.open({ storage: new MemoryStorage(), clock: parts.clock, random: parts.random });
    const tab = new TabReplica(parts, view);
    tab.parts.channel.onmessage = (event) => tab.onMessage(event.data);
    tab.requestLock();
    tab.sayHello();
    try {
      await tab.ready;
    } catch (error) {
      // Opening failed (the database would not open here): leave nothing behind, no channel, no timer, no lock.
      await tab.close().catch(() => undefined);
      throw error;
    }
    return tab;
  }

  // ---- roles --------------------------------------------------------------

  /** `leader` while this tab holds the database, else `follower`. */
  get role(): TabRole {
    return this.roleNow;
  }

  /** Calls `listener` whenever this tab's role changes. Returns the unsubscribe function. */
  onRole(listener: (role: TabRole) => void): () => void {
    const entry = (role: TabRole): void => listener(role);
    this.roleListeners.add(entry);
    return () => void this.roleListeners.delete(entry);
  }

  /** The database's replica id (the leader's ops carry it; each tab writes under `<id>~<suffix>`). */
  get replicaId(): string {
    return this.dbId ?? this.current.replicaId;
  }

  private requestLock(): void {
    this.parts.locks
      .request(this.parts.lockName, { mode: 'exclusive', signal: this.lockAbort.signal }, () => {
        if (this.closed) return Promise.resolve();
        return new Promise<void>((release) => {
          this.releaseLock = release;
          this.becomeLeader().catch((error: unknown) => {
            // This tab cannot open the database: let another one try, and tell whoever waits on `ready`.
            this.releaseLock = undefined;
            release();
            this.readyReject(error);
          });
        });
      })
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'AbortError') this.readyReject(error);
      });
  }

  private async becomeLeader(): Promise<void> {
    const db = await this.parts.openDatabase((replicaId) => (id) => isTabWriterOf(replicaId, id));
    if (this.closed) {
      await db.close();
      return;
    }
    this.db = db;
    this.dbId = db.replica.replicaId;
    const view = this.current;
    this.swap(db.replica);
    await view.close();
    const tracker = db.sync === undefined ? new SyncStateTracker(db.replica, (id) => id === db.replica.replicaId || isTabWriterOf(db.replica.replicaId, id)) : undefined;
    const syncState = (): SyncState => db.sync?.syncState() ?? tracker?.current() ?? NOT_SYNCED;
    this.duties = new LeaderDuties(db.replica, this.tabId, (message) => this.post(message), syncState);
    if (tracker !== undefined) {
      tracker.recount();
      db.replica.subscribeOps((event) => tracker.committed(event));
    }
    const onSync = (state: SyncState): void => {
      this.setSync(state);
      this.duties?.syncChanged(state);
    };
    if (db.sync !== undefined) db.sync.onSyncState(onSync);
    else tracker?.subscribe(onSync);
    this.setSync(syncState());
    this.clearHelloTimer();
    this.roleNow = 'leader';
    this.duties.announce();
    // Writes this tab sent as a follower and nobody acknowledged: commit them here, once.
    for (const [writeId, entry] of [...this.outstanding]) this.duties.commit(entry.ops, writeId, (id, error) => this.settle(id, error));
    this.emitRole();
    this.readyResolve();
  }

  // ---- the channel --------------------------------------------------------

  private post(message: TabMessage): void {
    if (!this.closed || message.type === 'bye') this.parts.channel.postMessage(message);
  }

  private onMessage(data: unknown): void {
    const message = asTabMessage(data);
    if (message === undefined || message.from === this.tabId || this.closed) return;
    if ('to' in message && message.to !== this.tabId) return;
    if (this.duties !== undefined) {
      this.duties.handle(message);
      return;
    }
    switch (message.type) {
      case 'state':
        this.onState(message);
        break;
      case 'leader':
        // A new leader: ask it for what we lack (the old one may have died with commits it never told us).
        this.sayHello();
        break;
      case 'ops':
        this.applyFromLeader(message.ops, undefined);
        break;
      case 'ack':
        this.settle(message.writeId, message.error);
        break;
      case 'sync':
        this.setSync(message.state);
        break;
      default:
        break;
    }
  }

  private sayHello(): void {
    if (this.duties !== undefined || this.closed) return;
    this.post({ type: 'hello', from: this.tabId, versionVector: this.current.versionVector() });
    this.clearHelloTimer();
    // No answer (no leader yet, or one still opening the database): ask again.
    this.helloTimer = setTimeout(() => this.sayHello(), this.parts.helloRetryMs ?? 500);
  }

  private clearHelloTimer(): void {
    if (this.helloTimer !== undefined) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
  }

  private onState(message: Extract<TabMessage, { type: 'state' }>): void {
    this.clearHelloTimer();
    this.dbId = message.dbReplicaId;
    this.writerId ??= `${message.dbReplicaId}${TAB_WRITER_SEPARATOR}${randomReplicaId(this.parts.random).slice(0, 8)}`;
    this.setSync(message.sync);
    const behind = !vvDominates(this.current.versionVector(), message.horizon);
    this.applyFromLeader(message.ops, behind ? { horizon: message.horizon, completeSummary: message.completeSummary } : undefined).then(
      () => this.readyResolve(),
      (error: unknown) => this.readyReject(error),
    );
    // Whatever we sent and nobody acknowledged goes to this leader, in order; it applies each op id once.
    for (const [writeId, entry] of this.outstanding) this.post({ type: 'write', from: this.tabId, writeId, ops: entry.ops });
  }

  private applyFromLeader(ops: readonly Op[], options: { horizon: VersionVector; completeSummary: boolean } | undefined): Promise<void> {
    if (ops.length === 0 && options === undefined) return Promise.resolve();
    const view = this.current;
    return view.applyRemote(ops, options ?? {}).then(
      (result) => {
        // Ops past a hole we cannot fill from this message: ask the leader for everything we lack.
        if (result.deferred > 0) this.sayHello();
      },
      (error: unknown) => {
        if (error instanceof ReplicaClosedError) return; // the view was replaced by the database: nothing to apply to
        throw error;
      },
    );
  }

  private settle(writeId: number, error: { code: string; message: string } | undefined): void {
    const entry = this.outstanding.get(writeId);
    if (entry === undefined) return;
    this.outstanding.delete(writeId);
    if (error !== undefined) {
      // A refused write leaves a hole in this writer's seqs: later writes go under a fresh writer id.
      if (this.writerId !== undefined && entry.ops[0]?.replica === this.writerId) this.rotateWriter();
      entry.reject(new TidelogError(error.code as TidelogErrorCode, `the leader tab did not commit the write: ${error.message}`));
      return;
    }
    // Resolve once our own copy holds the write, so a read after `await set(...)` sees it.
    this.current.applyRemote(entry.ops).then(
      () => entry.resolve(entry.ops),
      () => entry.resolve(entry.ops),
    );
  }

  private rotateWriter(): void {
    if (this.dbId === undefined) return;
    this.writerId = `${this.dbId}${TAB_WRITER_SEPARATOR}${randomReplicaId(this.parts.random).slice(0, 8)}`;
    this.writerSeq = 0;
  }

  private setSync(state: SyncState): void {
    if (state === this.sync) return;
    this.sync = state;
    for (const listener of [...this.syncListeners]) notify(listener, state);
  }

  private emitRole(): void {
    for (const listener of [...this.roleListeners]) notify(listener, this.roleNow);
  }

  // ---- the replica this tab reads -----------------------------------------

  private attach(replica: Replica): () => void {
    const stopChanges = replica.subscribe((event) => {
      for (const listener of [...this.changeListeners]) notify(listener, event);
    });
    // Followers stage writes: their clock must order after everything they have seen.
    const stopOps = replica.subscribeOps((event) => {
      for (const op of event.ops) this.hlc.observe(op);
    });
    return () => {
      stopChanges();
      stopOps();
    };
  }

  /** Reads from `next` from now on, telling listeners every key whose value differs between the two. */
  private swap(next: Replica): void {
    const prev = this.current;
    const changes: KeyChange[] = [];
    const ops = next.opsSince(prev.versionVector());
    const seen = new Set<string>();
    for (const op of ops.concat(prev.opsSince(next.versionVector()))) {
      if (seen.has(op.key)) continue;
      seen.add(op.key);
      const previous = prev.get(op.key);
      const value = next.get(op.key);
      if (!jsonEqual(previous, value)) changes.push({ key: op.key, value, previous, op: next.history(op.key).at(-1) ?? op });
    }
    for (const op of ops) this.hlc.observe(op);
    this.detachCurrent();
    this.current = next;
    this.detachCurrent = this.attach(next);
    if (changes.length > 0) {
      const event: ChangeEvent = { origin: 'remote', ops, changes };
      for (const listener of [...this.changeListeners]) notify(listener, event);
    }
  }

  // ---- reads (synchronous, from this tab's copy) ----------------------------

  /** The value of `key`, or undefined. */
  get(key: string): JsonValue | undefined {
    this.assertOpen();
    return this.current.get(key);
  }

  /** True when `key` has a value. */
  has(key: string): boolean {
    this.assertOpen();
    return this.current.has(key);
  }

  /** Number of keys with a value. */
  get size(): number {
    this.assertOpen();
    return this.current.size;
  }

  /** Keys with a value in key order, of all keys or a range (see `Replica.keys`). */
  keys(options: QueryOptions = {}): string[] {
    this.assertOpen();
    return this.current.keys(options);
  }

  /** `[key, value]` pairs in key order, of all keys or a range (see `Replica.keys`). */
  entries(options: QueryOptions = {}): [string, JsonValue][] {
    this.assertOpen();
    return this.current.entries(options);
  }

  /** Replica id -> highest contiguous seq this tab's copy holds. */
  versionVector(): VersionVector {
    this.assertOpen();
    return this.current.versionVector();
  }

  /** A live range query over this tab's copy (see `Replica.query`); it follows the tab across a change of role. */
  query(options: QueryOptions = {}): LiveQuery {
    this.assertOpen();
    return new LiveQuery(this, options);
  }

  /** One key, live (see `Replica.watch`). */
  watch(key: string): LiveValue {
    this.assertOpen();
    return new LiveValue(this, validateKey(key));
  }

  /** Listens to every change this tab sees: commits, merges and what a change of role brought. */
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.assertOpen();
    const entry = (event: ChangeEvent): void => listener(event);
    this.changeListeners.add(entry);
    return () => void this.changeListeners.delete(entry);
  }

  /** The database's sync state, as the leader reports it (see `SyncSession.syncState`). */
  syncState(): SyncState {
    return this.sync;
  }

  /** Calls `listener` whenever the sync state changes. Returns the unsubscribe function. */
  onSyncState(listener: (state: SyncState) => void): () => void {
    const entry = (state: SyncState): void => listener(state);
    this.syncListeners.add(entry);
    return () => void this.syncListeners.delete(entry);
  }

  /** The database while this tab leads (its replica and sync session), else undefined. */
  get database(): OpenedDatabase | undefined {
    return this.db;
  }

  // ---- writes ---------------------------------------------------------------

  /** Sets `key`. Resolves with the op once the leader made it durable and this tab's copy holds it. */
  async set(key: string, value: JsonValue): Promise<Op> {
    const ops = await this.write([{ type: 'set', key: validateKey(key), value: toJsonValue(value) }]);
    return ops[0] as Op;
  }

  /** Deletes `key`. Resolves with the op once durable (see {@link TabReplica.set}). */
  async delete(key: string): Promise<Op> {
    const ops = await this.write([{ type: 'delete', key: validateKey(key) }]);
    return ops[0] as Op;
  }

  /** Commits several writes atomically, like `Replica.batch`. */
  async batch(writes: readonly OpInput<JsonValue>[] | ((batch: BatchWriter) => void)): Promise<Op[]> {
    const inputs: OpInput<JsonValue>[] = [];
    if (typeof writes === 'function') {
      writes({
        set: (key, value) => void inputs.push({ type: 'set', key: validateKey(key), value: toJsonValue(value) }),
        delete: (key) => void inputs.push({ type: 'delete', key: validateKey(key) }),
      });
    } else {
      if (!Array.isArray(writes)) throw new InvalidArgumentError('batch takes an array of writes or a function');
      for (const [index, input] of writes.entries()) {
        if (typeof input !== 'object' || input === null) throw new InvalidArgumentError(`batch entry ${index} is not an object`, { index });
        if (input.type === 'set') inputs.push({ type: 'set', key: validateKey(input.key), value: toJsonValue(input.value) });
        else if (input.type === 'delete') inputs.push({ type: 'delete', key: validateKey(input.key) });
        else throw new InvalidArgumentError(`batch entry ${index} has type ${String((input as { type?: unknown }).type)}; expected 'set' or 'delete'`, { index });
      }
    }
    if (inputs.length === 0) return [];
    return [...(await this.write(inputs))];
  }

  private write(inputs: readonly OpInput<JsonValue>[]): Promise<readonly Op[]> {
    this.assertOpen();
    if (this.db !== undefined) {
      const db = this.db.replica;
      if (inputs.length === 1) {
        const input = inputs[0] as OpInput<JsonValue>;
        return (input.type === 'set' ? db.set(input.key, input.value) : db.delete(input.key)).then((op) => [op]);
      }
      return db.batch(inputs);
    }
    const writer = this.writerId;
    if (writer === undefined) return Promise.reject(new ReplicaClosedError('this tab has no leader to write through yet'));
    const ops = inputs.map((input) => this.stage(writer, input));
    const writeId = this.nextWriteId++;
    return new Promise((resolve, reject) => {
      this.outstanding.set(writeId, { ops, resolve, reject });
      this.post({ type: 'write', from: this.tabId, writeId, ops });
    });
  }

  private stage(writer: string, input: OpInput<JsonValue>): Op {
    const ts = this.hlc.tick();
    this.writerSeq += 1;
    const base = { replica: writer, seq: this.writerSeq, wall: ts.wall, logical: ts.logical, key: input.key };
    return Object.freeze(input.type === 'set' ? { ...base, type: 'set', value: input.value as JsonValue } : { ...base, type: 'delete' });
  }

  // ---- closing ----------------------------------------------------------------

  /**
   * Leaves the tab group: a follower waits (up to `closeWaitMs`) for its writes on their way, a leader for its
   * commits, then hands the lock to the next tab.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        const deadline = Date.now() + (this.parts.closeWaitMs ?? 2_000);
        while (this.outstanding.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        this.closed = true;
        this.clearHelloTimer();
        this.lockAbort.abort();
        for (const entry of this.outstanding.values()) entry.reject(new ReplicaClosedError('the tab closed before the leader acknowledged this write; it may or may not be saved'));
        this.outstanding.clear();
        this.duties?.stop();
        this.post({ type: 'bye', from: this.tabId });
        this.detachCurrent();
        if (this.db !== undefined) await this.db.close();
        else await this.current.close();
        this.releaseLock?.();
        this.parts.channel.onmessage = null;
        this.parts.channel.close();
        this.changeListeners.clear();
        this.syncListeners.clear();
        this.roleListeners.clear();
      })();
    }
    return this.closing;
  }

  /** True once `close()` was called and finished. */
  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new ReplicaClosedError();
  }
}

function notify<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
