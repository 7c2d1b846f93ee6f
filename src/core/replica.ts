/**
 * `Replica`: the database handle. One replica owns one log. Writes go through
 * a single serialized commit path; reads come from the materialized state and
 * never wait for the writer.
 */
import { type Clock, systemClock } from './clock.js';
import { CommitQueue, type ItemOutcome } from './commit-queue.js';
import { HistoryTruncatedError, InvalidArgumentError, InvalidKeyError, MalformedOpError, OpIdConflictError, ReplicaClosedError, StorageFailedError, TidelogError } from './errors.js';
import { compareHlc, type HlcTimestamp, HybridLogicalClock } from './hlc.js';
import { Horizon } from './horizon.js';
import { type JsonValue, jsonEqual, toJsonValue } from './json.js';
import { MemoryStorage } from './memory-storage.js';
import { compareOps, KEY_LENGTH_MAX, type Op, type OpInput, opIdString, sameOpContent, validateOp } from './op.js';
import { OpLog } from './oplog.js';
import { type Random, randomReplicaId, systemRandom } from './random.js';
import { compareKeys, type KeyChange, MaterializedState, winnersOf } from './state.js';
import type { Snapshot, Storage, StoredLog } from './storage.js';
import { validateVersionVector, type VersionVector, vvCovers, vvDominates, vvMerge } from './version-vector.js';

export { KEY_LENGTH_MAX } from './op.js';
/** How far past a replica's contiguous prefix a remote op may land before it is deferred to a later sync. */
export const SEQ_GAP_MAX = 1 << 20;

/** Options of {@link Replica.open}. */
export interface ReplicaOptions {
  /** The replica id; by default the stored one, or a new random one for a new database. */
  readonly replicaId?: string;
  /** Where the log lives; a fresh {@link MemoryStorage} by default. */
  readonly storage?: Storage;
  /** Physical time for the HLC; the system clock by default. */
  readonly clock?: Clock;
  /** Randomness for new replica ids; the platform's CSPRNG by default. */
  readonly random?: Random;
  /** Ops that may wait for the writer before `set` callers are made to wait (backpressure). Default 65,536. */
  readonly pendingOpsMax?: number;
  /** Ops per storage append (group commit). Default 16,384. */
  readonly groupOpsMax?: number;
  /** Ops of history `compact()` keeps by default. Default 10,000. */
  readonly historyOpsRetained?: number;
}

/** A change notification: one per commit, local or remote. */
export interface ChangeEvent {
  /** Whether the ops were written here or merged from a peer. */
  readonly origin: 'local' | 'remote';
  /** The ops newly added to the log by this commit. */
  readonly ops: readonly Op[];
  /** Keys whose visible winner changed. */
  readonly changes: readonly KeyChange[];
}

/** The ops of one commit, without per-key change records: what {@link Replica.subscribeOps} listeners get. */
export interface OpsEvent {
  /** Whether the ops were written here or merged from a peer. */
  readonly origin: 'local' | 'remote';
  /** The ops newly added to the log by this commit. */
  readonly ops: readonly Op[];
}

/** What `applyRemote` did. */
export interface ApplyResult {
  /** Ops new to this replica, now in its log. */
  readonly applied: number;
  /** Ops it already held (harmless: merge is idempotent). */
  readonly duplicates: number;
  /** Ops too far ahead of a gap, left for a later sync. */
  readonly deferred: number;
  /** Number of merged ops that became their key's winner (subscribe for the details). */
  readonly changed: number;
}

/** What `compact` did. */
export interface CompactResult {
  /** Ops folded into the snapshot. */
  readonly compactedOps: number;
  /** Ops still held individually (history). */
  readonly retainedOps: number;
  /** The new horizon. */
  readonly base: VersionVector;
}

/** A point in time for {@link Replica.stateAt}: a version vector or an HLC timestamp. */
export type StatePoint = { readonly versionVector: VersionVector } | { readonly timestamp: HlcTimestamp };

/** Collects the writes of an atomic batch. */
export interface BatchWriter {
  /** Adds a set to the batch. */
  set(key: string, value: unknown): void;
  /** Adds a delete to the batch. */
  delete(key: string): void;
}

type ValidInput = { readonly type: 'set'; readonly key: string; readonly value: JsonValue } | { readonly type: 'delete'; readonly key: string };
// A single write is its own intent (one object per queued write: with many writes in flight, the
// queue's memory is what the garbage collector pays for).
type SingleIntent = ValidInput & { readonly kind: 'local' };
type BatchIntent = { readonly kind: 'batch'; readonly inputs: readonly ValidInput[] };
type Intent =
  | SingleIntent
  | BatchIntent
  | { readonly kind: 'remote'; readonly ops: readonly Op[]; readonly horizon: VersionVector | undefined; readonly completeSummary: boolean }
  | { readonly kind: 'compact'; readonly retainOps: number };

/** Checks a key: a non-empty string of at most {@link KEY_LENGTH_MAX} code units. */
export function validateKey(key: unknown): string {
  if (typeof key !== 'string') throw new InvalidKeyError(`key must be a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError('key must not be empty');
  if (key.length > KEY_LENGTH_MAX) throw new InvalidKeyError(`key is ${key.length} characters; the limit is ${KEY_LENGTH_MAX}`);
  return key;
}

function validateInput(input: unknown, index: number): ValidInput {
  if (typeof input !== 'object' || input === null) throw new InvalidArgumentError(`batch entry ${index} is not an object`, { index });
  const entry = input as Partial<OpInput>;
  const key = validateKey(entry.key);
  if (entry.type === 'delete') return { type: 'delete', key };
  if (entry.type === 'set') return { type: 'set', key, value: toJsonValue((entry as { value: unknown }).value) };
  throw new InvalidArgumentError(`batch entry ${index} has type ${String(entry.type)}; expected 'set' or 'delete'`, { index });
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return value;
}

/** A local-first key-value replica over an append-only op log. */
export class Replica {
  private readonly log = new OpLog();
  private readonly state = new MaterializedState();
  private readonly horizonSummary = new Horizon();
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private readonly opsListeners = new Set<(event: OpsEvent) => void>();
  private readonly queue: CommitQueue<Intent>;
  private readonly hlc: HybridLogicalClock;
  private localSeq = 0;
  /** Storage lets the commit path prepare while an append waits on its device (see `Storage.appendWaitsOnDevice`). */
  private readonly warmDuringAppend: boolean;
  private rotatedFrom: string | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    /** This replica's id. */
    readonly replicaId: string,
    private readonly storage: Storage,
    clock: Clock,
    private readonly historyOpsRetained: number,
    limits: { pendingOpsMax: number; groupOpsMax: number },
  ) {
    this.hlc = new HybridLogicalClock(clock);
    this.warmDuringAppend = storage.appendWaitsOnDevice === true;
    this.queue = new CommitQueue((group) => this.commitGroup(group), limits);
  }

  /**
   * Opens a replica on `storage` (memory by default), recovering whatever it holds.
   * @example
   * const replica = await Replica.open();
   * await replica.set('greeting', 'hello');
   */
  static async open(options: ReplicaOptions = {}): Promise<Replica> {
    const storage = options.storage ?? new MemoryStorage();
    const stored = await storage.load();
    try {
      return await Replica.restore(storage, stored, options);
    } catch (error) {
      // A replica that failed to open must not keep the medium (a file lock) held.
      await storage.close().catch(() => undefined);
      throw error;
    }
  }

  private static async restore(storage: Storage, stored: StoredLog, options: ReplicaOptions): Promise<Replica> {
    if (options.replicaId !== undefined) validateReplicaId(options.replicaId);
    if (options.replicaId !== undefined && stored.meta !== undefined && stored.meta.replicaId !== options.replicaId) {
      throw new InvalidArgumentError(`storage belongs to replica ${stored.meta.replicaId}, not ${options.replicaId}`);
    }
    const random = options.random ?? systemRandom;
    // After a lost tail, the lost sequence numbers may be known to peers with other content: start a new identity.
    const rotate = stored.tailLost === true && stored.meta !== undefined && options.replicaId === undefined;
    const replicaId = rotate ? randomReplicaId(random) : (stored.meta?.replicaId ?? options.replicaId ?? randomReplicaId(random));
    const replica = new Replica(replicaId, storage, options.clock ?? systemClock, positiveInt(options.historyOpsRetained, 10_000, 'historyOpsRetained'), {
      pendingOpsMax: positiveInt(options.pendingOpsMax, 65_536, 'pendingOpsMax'),
      groupOpsMax: positiveInt(options.groupOpsMax, 16_384, 'groupOpsMax'),
    });
    if (rotate) replica.rotatedFrom = stored.meta?.replicaId;
    if (stored.meta === undefined || rotate) await storage.writeMeta({ replicaId });
    if (stored.snapshot !== undefined) replica.restoreSnapshot(stored.snapshot);
    // `for await` over an array costs a promise per batch; memory and simulated storage hand over arrays.
    if (Array.isArray(stored.batches)) for (const batch of stored.batches as readonly (readonly Op[])[]) replica.restoreBatch(batch);
    else for await (const batch of stored.batches) replica.restoreBatch(batch);
    replica.localSeq = replica.log.maxSeq(replicaId);
    return replica;
  }

  private restoreSnapshot(snapshot: Snapshot): void {
    this.horizonSummary.load(snapshot);
    this.log.raiseBase(snapshot.base);
    for (const op of snapshot.winners) this.state.apply(op);
    this.hlc.observe(snapshot.clock);
  }

  private restoreBatch(batch: readonly Op[]): void {
    for (const op of batch) {
      if (this.log.has(op.replica, op.seq)) continue;
      this.log.add(op);
      this.state.apply(op);
      this.hlc.observe(op);
    }
  }

  // ---- writes -------------------------------------------------------------

  /** Sets `key` to a JSON `value`. Resolves with the op once it is durable. */
  set(key: string, value: unknown): Promise<Op> {
    try {
      this.assertOpen();
      return this.submitLocal<Op>({ kind: 'local', type: 'set', key: validateKey(key), value: toJsonValue(value) }, 1);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Deletes `key` (writes a tombstone). Resolves with the op once it is durable. */
  delete(key: string): Promise<Op> {
    try {
      this.assertOpen();
      return this.submitLocal<Op>({ kind: 'local', type: 'delete', key: validateKey(key) }, 1);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Commits several writes atomically: after a crash all survive or none does.
   * Takes a list of writes, or a function that adds them (if it throws, nothing is written).
   */
  async batch(writes: readonly OpInput[] | ((batch: BatchWriter) => void | Promise<void>)): Promise<Op[]> {
    this.assertOpen();
    let inputs: ValidInput[];
    if (typeof writes === 'function') {
      inputs = [];
      const collected = inputs;
      // The writer is sealed once the function settles: a kept reference must not slip writes into a queued batch.
      let sealed = false;
      const add = (input: ValidInput): void => {
        if (sealed) throw new InvalidArgumentError('the batch writer was used after its batch function returned');
        collected.push(input);
      };
      try {
        const pending = writes({
          set: (key, value) => add({ type: 'set', key: validateKey(key), value: toJsonValue(value) }),
          delete: (key) => add({ type: 'delete', key: validateKey(key) }),
        });
        if (pending !== undefined) await pending;
      } finally {
        sealed = true;
      }
    } else {
      if (!Array.isArray(writes)) throw new InvalidArgumentError('batch takes an array of writes or a function');
      inputs = writes.map(validateInput);
    }
    if (inputs.length === 0) return [];
    return this.submitLocal<Op[]>({ kind: 'batch', inputs }, inputs.length);
  }

  private submitLocal<R>(intent: SingleIntent | BatchIntent, opCount: number): Promise<R> {
    this.assertOpen();
    return this.queue.submit<R>(intent, opCount);
  }

  // ---- reads --------------------------------------------------------------

  /** The value of `key`, or undefined. */
  get(key: string): JsonValue | undefined {
    this.assertOpen();
    return this.state.get(key);
  }

  /** True when `key` has a value. */
  has(key: string): boolean {
    this.assertOpen();
    return this.state.has(key);
  }

  /** Number of keys with a value. */
  get size(): number {
    this.assertOpen();
    return this.state.size;
  }

  /** Keys with a value, sorted, optionally only those starting with `prefix`. */
  keys(options: { readonly prefix?: string } = {}): string[] {
    this.assertOpen();
    const all = this.state.keys();
    if (options.prefix === undefined || options.prefix === '') return all.slice();
    const prefix = options.prefix;
    const out: string[] = [];
    for (let i = lowerBound(all, prefix); i < all.length && (all[i] as string).startsWith(prefix); i++) out.push(all[i] as string);
    return out;
  }

  /** `[key, value]` pairs sorted by key, optionally only keys starting with `prefix`. */
  entries(options: { readonly prefix?: string } = {}): [string, JsonValue][] {
    return this.keys(options).map((key) => [key, this.state.get(key) as JsonValue]);
  }

  /** Listens to every commit, local and remote. Returns the unsubscribe function. */
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.assertOpen();
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Listens to the ops of every commit, local and remote, without the per-key change records that
   * {@link subscribe} needs (two state lookups and a record per op): what sync and progress counters use.
   * Returns the unsubscribe function.
   */
  subscribeOps(listener: (event: OpsEvent) => void): () => void {
    this.assertOpen();
    this.opsListeners.add(listener);
    return () => void this.opsListeners.delete(listener);
  }

  /**
   * Resolves once fewer than `pendingOpsMax` ops wait for the writer (backpressure for pipelined writers).
   * A writer that awaits each `set` is paced by storage already; one that fires many writes without
   * awaiting them awaits `ready()` before each, so its backlog, and memory, stays bounded.
   * @example
   * for (const [key, value] of rows) { await replica.ready(); void replica.set(key, value); }
   */
  ready(): Promise<void> {
    try {
      this.assertOpen();
      return this.queue.ready();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Ops waiting for the writer (for sync status displays). */
  get pendingOps(): number {
    return this.queue.backlog;
  }

  // ---- sync ---------------------------------------------------------------

  /** Replica id -> highest contiguous sequence number this replica holds. */
  versionVector(): VersionVector {
    this.assertOpen();
    return this.log.versionVector();
  }

  /** The compaction horizon: ops at or below it are held only as their keys' winners. */
  horizon(): VersionVector {
    this.assertOpen();
    return this.log.base();
  }

  /**
   * The ops the holder of `vv` lacks. When `vv` is behind this replica's horizon,
   * the compacted part comes as the winning op of each key; pass `horizon()` along
   * to `applyRemote` so the receiver can close its gaps.
   */
  opsSince(vv: VersionVector): Op[] {
    this.assertOpen();
    // The log's own vector (a session asking what lies past it) is frozen and valid: no need to copy it.
    const peer = vv === this.log.versionVector() ? vv : validateVersionVector(vv);
    const tail = this.log.opsSince(peer);
    if (vvDominates(peer, this.log.base())) return tail;
    const summary = this.horizonSummary.winnerOps().filter((op) => !vvCovers(peer, op.replica, op.seq));
    return summary.concat(tail);
  }

  /**
   * Merges ops from a peer. Validates everything first: a batch with any malformed
   * op, or an op whose id was already used for different content, is rejected whole.
   * `horizon` is the sender's compaction horizon, when the ops came from behind it. `completeSummary`
   * says the ops under it are the sender's whole compaction summary (`opsSince({})` under the horizon, as
   * sync sessions send it), not `opsSince(yourVector)`, which leaves out winners this replica already holds:
   * a held op under the horizon whose key has no winner there is then a reused id too.
   */
  async applyRemote(ops: readonly unknown[], options: { readonly horizon?: VersionVector; readonly completeSummary?: boolean } = {}): Promise<ApplyResult> {
    this.assertOpen();
    if (!Array.isArray(ops)) throw new MalformedOpError('applyRemote takes an array of ops');
    const valid = ops.map((op, index) => validateOp(op, index));
    const horizon = options.horizon === undefined ? undefined : validateVersionVector(options.horizon);
    return this.queue.submit<ApplyResult>({ kind: 'remote', ops: valid, horizon, completeSummary: options.completeSummary === true }, valid.length);
  }

  // ---- history ------------------------------------------------------------

  /** Every op on `key` still held, in merge order (the oldest may be the compacted winner). */
  history(key: string): Op[] {
    this.assertOpen();
    validateKey(key);
    const ops: Op[] = [];
    this.log.forEach((op) => {
      if (op.key === key) ops.push(op);
    });
    const compacted = this.horizonSummary.winner(key);
    if (compacted !== undefined) ops.push(compacted);
    return ops.sort(compareOps);
  }

  /**
   * The whole visible state as of a point: a version vector (ops it covers) or an
   * HLC timestamp (ops at or before it). Sorted by key.
   * @throws HistoryTruncatedError when the point is older than the retained history.
   */
  stateAt(point: StatePoint): Map<string, JsonValue> {
    this.assertOpen();
    let include: (op: Op) => boolean;
    if (typeof point !== 'object' || point === null) throw new InvalidArgumentError('stateAt takes { versionVector } or { timestamp }');
    if ('versionVector' in point) {
      const vv = validateVersionVector(point.versionVector);
      if (!vvDominates(vv, this.log.base())) {
        throw new HistoryTruncatedError('history before the compaction horizon was compacted away', { horizon: this.log.base() });
      }
      include = (op) => vvCovers(vv, op.replica, op.seq);
    } else {
      const at = validateTimestamp((point as { timestamp?: unknown }).timestamp);
      if (compareHlc(at, this.horizonSummary.clock) < 0) {
        throw new HistoryTruncatedError(`history before ${this.horizonSummary.clock.wall}.${this.horizonSummary.clock.logical} was compacted away`, { earliest: this.horizonSummary.clock });
      }
      include = (op) => compareHlc(op, at) <= 0;
    }
    const winners = this.horizonSummary.winnerMap();
    const selected: Op[] = [];
    this.log.forEach((op) => {
      if (include(op)) selected.push(op);
    });
    winnersOf(selected, winners);
    const out = new Map<string, JsonValue>();
    for (const key of [...winners.keys()].sort(compareKeys)) {
      const op = winners.get(key) as Op;
      if (op.type === 'set') out.set(key, op.value as JsonValue);
    }
    return out;
  }

  /** The op with id (replica, seq) if it is held individually (not compacted away), for sync consistency checks. */
  opById(replica: string, seq: number): Op | undefined {
    this.assertOpen();
    return this.log.get(replica, seq);
  }

  /** The earliest point `stateAt` accepts: the compaction horizon and its latest timestamp. */
  historyHorizon(): { readonly base: VersionVector; readonly clock: HlcTimestamp } {
    this.assertOpen();
    return { base: this.log.base(), clock: this.horizonSummary.clock };
  }

  /**
   * Folds all but the newest `retainOps` ops into a snapshot and lets storage drop
   * what it covers. Tombstones stay in the snapshot, so a peer that was offline
   * across the compaction still converges.
   */
  compact(options: { readonly retainOps?: number } = {}): Promise<CompactResult> {
    this.assertOpen();
    const retainOps = options.retainOps ?? this.historyOpsRetained;
    if (!Number.isSafeInteger(retainOps) || retainOps < 0) throw new InvalidArgumentError('retainOps must be a non-negative integer');
    return this.queue.submit<CompactResult>({ kind: 'compact', retainOps }, 1, true);
  }

  /** Waits for queued writes, then releases the storage. Later calls throw `ReplicaClosedError`. */
  close(): Promise<void> {
    // Every caller gets the same promise, so a second close also waits for the storage to be released.
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = (async () => {
        await this.queue.idle();
        this.listeners.clear();
        this.opsListeners.clear();
        await this.storage.close();
      })();
    }
    return this.closing;
  }

  /** The replica id this database wrote under before recovery cut its log tail on open (it then took a new one). */
  get identityRotatedFrom(): string | undefined {
    return this.rotatedFrom;
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new ReplicaClosedError();
  }

  // ---- the commit path ----------------------------------------------------

  // Not async: handing back the inner promise directly saves the microtask hops an async wrapper adds per commit.
  private commitGroup(group: readonly Intent[]): Promise<ItemOutcome[]> {
    const first = group[0] as Intent;
    if (first.kind === 'compact') return this.settle(() => this.commitCompaction(first.retainOps)).then((outcome) => [outcome]);
    if (group.length === 1 && (first.kind === 'local' || first.kind === 'batch')) return this.commitLocal(first);
    if (allSingles(group)) return this.commitSingles(group);
    return this.commitMixed(group);
  }

  /**
   * The hot path under many writers that each await their write: a group of single writes only. The same
   * steps as commitMixed, in one staging loop and one publish loop, with no per-write closures or staging.
   */
  private async commitSingles(group: readonly SingleIntent[]): Promise<ItemOutcome[]> {
    const savedSeq = this.localSeq;
    const ops: Op[] = new Array(group.length);
    for (let i = 0; i < group.length; i++) ops[i] = this.stageOne(group[i] as SingleIntent, undefined);
    try {
      // Nobody else holds `ops` (each writer gets its own op back): storage may keep it.
      await this.appendWarm(ops);
    } catch (error) {
      this.localSeq = savedSeq;
      throw error instanceof TidelogError ? error : new StorageFailedError('storage append failed; nothing was committed', {}, { cause: error });
    }
    const outcomes: ItemOutcome[] = new Array(group.length);
    if (this.listeners.size > 0 || this.opsListeners.size > 0) {
      for (let i = 0; i < group.length; i++) outcomes[i] = { ok: true, value: this.publish(group[i] as SingleIntent, [ops[i] as Op], 0) };
      return outcomes;
    }
    // Nobody listens: publishing is adding each op to the log and the state.
    for (let i = 0; i < group.length; i++) {
      const op = ops[i] as Op;
      this.log.add(op);
      this.state.apply(op);
      outcomes[i] = { ok: true, value: op };
    }
    return outcomes;
  }

  private async commitMixed(group: readonly Intent[]): Promise<ItemOutcome[]> {
    const savedSeq = this.localSeq;
    // Ids staged in this group, so a remote op can be checked against ops of earlier intents not yet in the log
    // (a group of one intent has none).
    const staged = group.length > 1 && group.some((intent) => intent.kind === 'remote') ? new OpIdMap() : undefined;
    // Deferral counters for remote intents only: a group of 16K local writes needs none.
    const deferrals: ({ count: number } | undefined)[] = new Array(group.length);
    const prepared: (Op[] | TidelogError)[] = group.map((intent, i) => {
      try {
        if (intent.kind === 'local') return [this.stageOne(intent, staged)];
        if (intent.kind === 'batch') return this.stageLocal(intent.inputs, staged);
        if (intent.kind === 'remote') {
          const deferred = { count: 0 };
          deferrals[i] = deferred;
          return this.stageRemote(intent.ops, staged, deferred, intent.horizon, intent.completeSummary);
        }
        throw new Error('a compaction never shares a commit group');
      } catch (error) {
        if (error instanceof TidelogError) return error;
        throw error;
      }
    });
    const appended: Op[] = [];
    for (const ops of prepared) if (Array.isArray(ops)) for (const op of ops) appended.push(op);
    if (appended.length > 0) {
      try {
        await this.appendWarm(appended);
      } catch (error) {
        this.localSeq = savedSeq;
        throw error instanceof TidelogError ? error : new StorageFailedError('storage append failed; nothing was committed', {}, { cause: error });
      }
    }
    const outcomes: ItemOutcome[] = [];
    for (let i = 0; i < group.length; i++) {
      const intent = group[i] as Intent;
      const ops = prepared[i] as Op[] | TidelogError;
      if (ops instanceof TidelogError) {
        outcomes.push({ ok: false, error: ops });
        continue;
      }
      // Only a remote batch that moves the horizon needs to await storage again; keep the rest synchronous.
      if (intent.kind === 'remote' && intent.horizon !== undefined) {
        const horizon = intent.horizon;
        outcomes.push(await this.settle(async () => {
          const result = this.publish(intent, ops, deferrals[i]?.count ?? 0);
          await this.adoptHorizon(horizon, ops);
          return result;
        }));
      } else {
        outcomes.push({ ok: true, value: this.publish(intent, ops, deferrals[i]?.count ?? 0) });
      }
    }
    return outcomes;
  }

  /** The hot path: one local write alone in its group (a writer that awaits each write). Same steps, no staging maps. */
  private async commitLocal(intent: SingleIntent | BatchIntent): Promise<ItemOutcome[]> {
    const savedSeq = this.localSeq;
    const ops = intent.kind === 'local' ? [this.stageOne(intent, undefined)] : this.stageLocal(intent.inputs, undefined);
    try {
      // A batch's ops are returned to the caller: give storage its own array.
      await this.appendWarm(intent.kind === 'local' ? ops : ops.slice());
    } catch (error) {
      this.localSeq = savedSeq;
      throw error instanceof TidelogError ? error : new StorageFailedError('storage append failed; nothing was committed', {}, { cause: error });
    }
    return [{ ok: true, value: this.publish(intent, ops, 0) }];
  }

  /**
   * Appends, and while the append waits on its device (an fsync on another thread), looks up the
   * state entries the publish will touch: read-only, so reads still see only durable state.
   */
  private appendWarm(ops: readonly Op[]): Promise<void> {
    const appended = this.storage.append(ops);
    if (this.warmDuringAppend) this.state.warm(ops);
    return appended;
  }

  private async settle(work: () => unknown): Promise<ItemOutcome> {
    try {
      return { ok: true, value: await work() };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private stageLocal(inputs: readonly ValidInput[], staged: OpIdMap | undefined): Op[] {
    const ops: Op[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) ops[i] = this.stageOne(inputs[i] as ValidInput, staged);
    return ops;
  }

  /** Gives one write its id and timestamp. */
  private stageOne(input: ValidInput, staged: OpIdMap | undefined): Op {
    const ts = this.hlc.tick();
    this.localSeq += 1;
    // Frozen: the same object sits in the log, the state, storage and the caller's hands.
    const op: Op = Object.freeze(
      input.type === 'set'
        ? { replica: this.replicaId, seq: this.localSeq, wall: ts.wall, logical: ts.logical, key: input.key, type: 'set', value: input.value }
        : { replica: this.replicaId, seq: this.localSeq, wall: ts.wall, logical: ts.logical, key: input.key, type: 'delete' },
    );
    staged?.set(op);
    return op;
  }

  /** Picks the new ops of a remote batch, rejecting it whole if any id conflicts. */
  private stageRemote(ops: readonly Op[], staged: OpIdMap | undefined, deferred: { count: number }, horizon?: VersionVector, completeSummary = false): Op[] {
    if (horizon !== undefined) this.checkHeldUnderHorizon(ops, horizon, completeSummary);
    const fresh: Op[] = [];
    // An op above the highest seq this batch already accepted from its replica cannot repeat one of them, so
    // the in-batch index is built only when a batch steps back in seq order (opsSince sends ascending seqs).
    const highest = new Map<string, number>();
    let mine: OpIdMap | undefined;
    for (const op of ops) {
      let known = this.log.get(op.replica, op.seq) ?? staged?.get(op.replica, op.seq);
      if (known === undefined && op.seq <= (highest.get(op.replica) ?? 0)) {
        if (mine === undefined) {
          mine = new OpIdMap();
          for (const accepted of fresh) mine.set(accepted);
        }
        known = mine.get(op.replica, op.seq);
      }
      if (known !== undefined) {
        if (!sameOpContent(known, op, jsonEqual)) {
          const id = opIdString(op);
          throw new OpIdConflictError(`op id ${id} was already used for a different op: replica ${op.replica} reused sequence numbers (restored from a stale backup?)`, { replica: op.replica, seq: op.seq });
        }
        continue;
      }
      if (this.log.has(op.replica, op.seq)) continue; // compacted: already folded into the snapshot
      // Ops under the sender's horizon are its compacted summary: the gap before them closes when the horizon is adopted.
      const summarized = horizon !== undefined && vvCovers(horizon, op.replica, op.seq);
      if (!summarized && op.seq > (this.log.heldRange(op.replica)?.contiguous ?? 0) + SEQ_GAP_MAX) {
        deferred.count += 1;
        continue;
      }
      mine?.set(op);
      if (op.seq > (highest.get(op.replica) ?? 0)) highest.set(op.replica, op.seq);
      fresh.push(op);
    }
    // This batch's ids reach `staged` only once the whole batch is accepted: a rejected batch must not
    // make a later batch of the same group look like a duplicate (or a conflict) of ops never applied.
    if (staged !== undefined) for (const op of fresh) staged.set(op);
    for (const op of fresh) {
      this.hlc.observe(op);
      // Our own ops coming back from a peer means this storage is older than what we wrote (a restored backup): never reuse those seqs.
      if (op.replica === this.replicaId && op.seq > this.localSeq) this.localSeq = op.seq;
    }
    return fresh;
  }

  /**
   * A horizon says the sender folded every op under it into its summary, so each op held here one by one
   * under that horizon must be, or lose to, the sender's winner for its key. One that would beat it is not
   * the op the sender folded under that id: the id was reused (a device re-created under its old id, a raw
   * restore) and the sender compacted the original away, where the per-op id check can no longer see it.
   * Legitimately the sender's winner for a key is the maximum over every op it folded, the held op included,
   * so this never fires for ops that are the same on both sides. A key with no winner in the batch proves
   * something only when the batch is the whole summary (`complete`): `opsSince(vector)` leaves out winners
   * the receiver already holds, the held op itself among them.
   * @throws OpIdConflictError naming the first such op.
   */
  private checkHeldUnderHorizon(ops: readonly Op[], horizon: VersionVector, complete: boolean): void {
    const base = this.log.base();
    let summary: Map<string, Op> | undefined;
    for (const replica of Object.keys(horizon)) {
      const top = Math.min(horizon[replica] as number, this.log.maxSeq(replica));
      for (let seq = (base[replica] ?? 0) + 1; seq <= top; seq++) {
        const held = this.log.get(replica, seq);
        if (held === undefined) continue;
        if (summary === undefined) {
          summary = new Map();
          for (const op of ops) {
            if (!vvCovers(horizon, op.replica, op.seq)) continue;
            const current = summary.get(op.key);
            if (current === undefined || compareOps(op, current) > 0) summary.set(op.key, op);
          }
        }
        const winner = summary.get(held.key);
        if (winner === undefined ? !complete : compareOps(winner, held) >= 0) continue;
        throw new OpIdConflictError(
          `op id ${opIdString(held)} is held here, but the sender's compaction summary, which covers it, has ${winner === undefined ? 'no op for its key' : 'an older winner for its key'}: replica ${replica} reused sequence numbers (restored from a stale backup, or re-created under its old id?)`,
          { replica, seq },
        );
      }
    }
  }

  private publish(intent: Intent, prepared: Op[], deferred: number): unknown {
    // Change records cost an allocation per op: build them only when someone listens.
    const changes = this.listeners.size > 0 ? new Map<string, KeyChange>() : undefined;
    let changed = 0;
    const horizon = intent.kind === 'remote' ? intent.horizon : undefined;
    for (const op of prepared) {
      // Ops under the sender's horizon go straight to the summary (adoptHorizon): holding them op by op
      // would allocate log slots up to a seq the sender chose.
      if (horizon === undefined || !vvCovers(horizon, op.replica, op.seq)) this.log.add(op);
      if (changes === undefined) {
        if (this.state.apply(op)) changed += 1;
        continue;
      }
      const previous = changes.has(op.key) ? (changes.get(op.key) as KeyChange).previous : this.state.get(op.key);
      if (this.state.apply(op)) {
        changed += 1;
        changes.set(op.key, { key: op.key, value: this.state.get(op.key), previous, op });
      }
    }
    if (changes !== undefined && prepared.length > 0) {
      this.emit(this.listeners, { origin: intent.kind === 'remote' ? 'remote' : 'local', ops: prepared, changes: [...changes.values()] });
    }
    if (this.opsListeners.size > 0 && prepared.length > 0) this.emit(this.opsListeners, { origin: intent.kind === 'remote' ? 'remote' : 'local', ops: prepared });
    if (intent.kind === 'local') return prepared[0];
    if (intent.kind === 'batch') return prepared;
    return { applied: prepared.length, duplicates: 'ops' in intent ? intent.ops.length - prepared.length - deferred : 0, deferred, changed } satisfies ApplyResult;
  }

  /**
   * Moves this replica's horizon up to a peer's, after merging the peer's summary of
   * what lies below it: the compacted ops are gone everywhere, so waiting for them
   * would leave the version vectors apart forever.
   */
  private async adoptHorizon(horizon: VersionVector, received: readonly Op[]): Promise<void> {
    if (vvDominates(this.log.base(), horizon)) return;
    const base = vvMerge(this.log.base(), horizon);
    const folded = received.filter((op) => vvCovers(horizon, op.replica, op.seq));
    this.log.forEach((op) => {
      if (vvCovers(base, op.replica, op.seq)) folded.push(op);
    });
    // Snapshot first, like compaction: if it fails, the in-memory horizon still matches storage.
    await this.storage.writeSnapshot(this.horizonSummary.preview(folded, base));
    this.horizonSummary.absorb(folded.concat(this.log.raiseBase(base)));
  }

  private async commitCompaction(retainOps: number): Promise<CompactResult> {
    const candidates: Op[] = [];
    this.log.forEach((op) => {
      const range = this.log.heldRange(op.replica);
      if (range !== undefined && op.seq <= range.contiguous) candidates.push(op);
    });
    const compactCount = candidates.length - retainOps;
    if (compactCount <= 0) return { compactedOps: 0, retainedOps: this.log.size, base: this.log.base() };
    candidates.sort(compareOps);
    // Per replica, seq order is HLC order, so the ops up to the cut form a prefix 1..s of each replica.
    const base: Record<string, number> = { ...this.log.base() };
    for (const op of candidates.slice(0, compactCount)) if (op.seq > (base[op.replica] ?? 0)) base[op.replica] = op.seq;
    const covered = candidates.filter((op) => vvCovers(base, op.replica, op.seq));
    const snapshot = this.horizonSummary.preview(covered, base);
    await this.storage.writeSnapshot(snapshot);
    const dropped = this.log.raiseBase(base);
    this.horizonSummary.absorb(dropped);
    return { compactedOps: dropped.length, retainedOps: this.log.size, base: this.log.base() };
  }

  private emit<E>(listeners: ReadonlySet<(event: E) => void>, event: E): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        // A failing listener must not fail the commit it is told about; surface it instead.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

function allSingles(group: readonly Intent[]): group is readonly SingleIntent[] {
  for (let i = 0; i < group.length; i++) if ((group[i] as Intent).kind !== 'local') return false;
  return true;
}

function validateTimestamp(input: unknown): HlcTimestamp {
  const { wall, logical } = (typeof input === 'object' && input !== null ? input : {}) as Partial<Record<'wall' | 'logical', unknown>>;
  if (typeof wall !== 'number' || typeof logical !== 'number' || !Number.isFinite(wall) || !Number.isFinite(logical)) {
    throw new InvalidArgumentError('timestamp must be { wall, logical } with finite numbers');
  }
  return { wall, logical };
}

function validateReplicaId(id: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) throw new InvalidArgumentError('replicaId must be a string of 1 to 128 characters');
}

function lowerBound(sorted: readonly string[], target: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Ops by id (replica, seq) without building an id string per op: staging runs once per merged op. */
class OpIdMap {
  private readonly byReplica = new Map<string, Map<number, Op>>();

  get(replica: string, seq: number): Op | undefined {
    return this.byReplica.get(replica)?.get(seq);
  }

  set(op: Op): void {
    let seqs = this.byReplica.get(op.replica);
    if (seqs === undefined) {
      seqs = new Map();
      this.byReplica.set(op.replica, seqs);
    }
    seqs.set(op.seq, op);
  }

}
