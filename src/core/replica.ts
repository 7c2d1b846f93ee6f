/**
 * `Replica`: the database handle. One replica owns one log. Writes go through
 * a single serialized commit path; reads come from the materialized state and
 * never wait for the writer.
 */
import type { ReplicaAlert } from './alerts.js';
import { type Clock, systemClock } from './clock.js';
import {
  type ApplyResult,
  type BatchIntent,
  type ChangeEvent,
  CommitPipeline,
  type CompactResult,
  type OpsEvent,
  type ReplicaData,
  type RotationResult,
  type SingleIntent,
  type ValidInput,
} from './commit-pipeline.js';
import { ClockDriftError, InvalidArgumentError, InvalidKeyError, MalformedOpError, ReplicaClosedError } from './errors.js';
import { type HlcTimestamp, HybridLogicalClock, MAX_DRIFT_MS_DEFAULT, WALL_MAX } from './hlc.js';
import { Horizon } from './horizon.js';
import { type JsonValue, toJsonValue } from './json.js';
import { LiveQuery, LiveValue, type QueryOptions, validateQueryOptions } from './live-query.js';
import { MemoryStorage } from './memory-storage.js';
import { KEY_LENGTH_MAX, type Op, type OpInput, validateOp } from './op.js';
import { OpLog } from './oplog.js';
import { type Random, randomReplicaId, systemRandom } from './random.js';
import { MaterializedState } from './state.js';
import { type StandardSchemaV1, schemaValidator } from './standard-schema.js';
import type { Snapshot, Storage, StoredLog } from './storage.js';
import { historyOf, type StatePoint, stateAt } from './time-travel.js';
import { validateVersionVector, type VersionVector, vvCovers, vvDominates } from './version-vector.js';

export type { ReplicaAlert, RotationReason } from './alerts.js';
export type { ApplyResult, ChangeEvent, CompactResult, OpsEvent, RotationResult } from './commit-pipeline.js';
export { KEY_LENGTH_MAX } from './op.js';
export { SEQ_GAP_MAX } from './remote-staging.js';
export type { StatePoint } from './time-travel.js';
export { LiveQuery, LiveValue, type QueryEntry, type QueryOptions } from './live-query.js';

/** Options of {@link Replica.open}; `V` is the type of the values (JSON by default). */
export interface ReplicaOptions<V extends JsonValue = JsonValue> {
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
  /**
   * Most ops held one by one before the replica compacts by itself (keeping `historyOpsRetained` of them), after
   * a commit or right after open. Default 250,000 (or twice `historyOpsRetained`, if more); `Infinity` turns it off.
   * See docs/core.md, "Automatic compaction".
   */
  readonly heldOpsMax?: number;
  /**
   * How far ahead of this device's clock an op's wall time may be, in ms. Remote ops beyond it are refused
   * (`ClockDriftError`, the batch whole), and so are local writes once this device's clock went back further than
   * this behind times it already used. Default 300,000 (5 minutes).
   */
  readonly maxDriftMs?: number;
  /**
   * A Standard Schema (zod, valibot, arktype, ...) every value this replica writes must match: `set` and
   * `batch` reject a value it refuses with `SchemaValidationError` (code `INVALID_VALUE`) and write nothing.
   * The value type `V` is inferred from it. Values merged from peers are not checked: dropping them would
   * make this replica diverge from its peers. Synchronous schemas only (writes keep their call order).
   */
  readonly schema?: StandardSchemaV1<unknown, V>;
}

/** The default of {@link ReplicaOptions.heldOpsMax}. */
export const HELD_OPS_MAX_DEFAULT = 250_000;

/** Collects the writes of an atomic batch. */
export interface BatchWriter<V extends JsonValue = JsonValue> {
  /** Adds a set to the batch. */
  set(key: string, value: V): void;
  /** Adds a delete to the batch. */
  delete(key: string): void;
}

/** Checks a key: a non-empty string of at most {@link KEY_LENGTH_MAX} code units. */
export function validateKey(key: unknown): string {
  if (typeof key !== 'string') throw new InvalidKeyError(`key must be a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError('key must not be empty');
  if (key.length > KEY_LENGTH_MAX) throw new InvalidKeyError(`key is ${key.length} characters; the limit is ${KEY_LENGTH_MAX}`);
  return key;
}

/** Turns a value handed to `set` into the stored JSON value: the schema's check (if any), then the copy. */
type ValueCheck = (key: string, value: unknown) => JsonValue;

const plainJson: ValueCheck = (_key, value) => toJsonValue(value);

function validateInput(input: unknown, index: number, toValue: ValueCheck): ValidInput {
  if (typeof input !== 'object' || input === null) throw new InvalidArgumentError(`batch entry ${index} is not an object`, { index });
  const entry = input as Partial<OpInput>;
  const key = validateKey(entry.key);
  if (entry.type === 'delete') return { type: 'delete', key };
  if (entry.type === 'set') return { type: 'set', key, value: toValue(key, (entry as { value: unknown }).value) };
  throw new InvalidArgumentError(`batch entry ${index} has type ${String(entry.type)}; expected 'set' or 'delete'`, { index });
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return value;
}

/**
 * A local-first key-value replica over an append-only op log. `V` is the type of its values: any JSON value
 * by default, or what `Replica.open<V>()` or the `schema` option says.
 */
export class Replica<V extends JsonValue = JsonValue> {
  private readonly data: ReplicaData;
  private toValue: ValueCheck = plainJson;
  private readonly pipeline: CommitPipeline;
  private rotatedFrom: string | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    replicaId: string,
    private readonly storage: Storage,
    clock: Clock,
    random: Random,
    private readonly historyOpsRetained: number,
    limits: { pendingOpsMax: number; groupOpsMax: number; maxDriftMs: number },
    heldOpsMax: number,
  ) {
    this.data = { replicaId, log: new OpLog(), state: new MaterializedState(), summary: new Horizon(), hlc: new HybridLogicalClock(clock, undefined, limits.maxDriftMs) };
    this.pipeline = new CommitPipeline(this.data, storage, limits, random, { heldOpsMax, retainOps: historyOpsRetained });
  }

  /**
   * The id this replica writes under. It changes only when the replica finds that someone else wrote, or claims,
   * ops under it (see {@link subscribeAlerts}: an `identity-rotated` alert) or on {@link rotateIdentity}.
   */
  get replicaId(): string {
    return this.data.replicaId;
  }

  /**
   * Opens a replica on `storage` (memory by default), recovering whatever it holds.
   * @example
   * const replica = await Replica.open();
   * await replica.set('greeting', 'hello');
   */
  static async open<V extends JsonValue = JsonValue>(options: ReplicaOptions<V> = {}): Promise<Replica<V>> {
    // A bad schema fails before the storage is touched.
    const check = options.schema === undefined ? undefined : schemaValidator(options.schema);
    const storage = options.storage ?? new MemoryStorage();
    const stored = await storage.load();
    try {
      const replica = (await Replica.restore(storage, stored, options)) as Replica<V>;
      if (check !== undefined) replica.toValue = (key, value) => toJsonValue(check(key, value));
      return replica;
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
    const historyOpsRetained = positiveInt(options.historyOpsRetained, 10_000, 'historyOpsRetained');
    const heldOpsMax =
      options.heldOpsMax === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : positiveInt(options.heldOpsMax, Math.max(HELD_OPS_MAX_DEFAULT, 2 * historyOpsRetained), 'heldOpsMax');
    if (heldOpsMax <= historyOpsRetained) throw new InvalidArgumentError(`heldOpsMax (${heldOpsMax}) must be above historyOpsRetained (${historyOpsRetained})`);
    const maxDriftMs = options.maxDriftMs ?? MAX_DRIFT_MS_DEFAULT;
    if (!Number.isSafeInteger(maxDriftMs) || maxDriftMs < 0 || maxDriftMs > WALL_MAX) throw new InvalidArgumentError(`maxDriftMs must be an integer from 0 to ${WALL_MAX}`);
    const replica = new Replica(
      replicaId,
      storage,
      options.clock ?? systemClock,
      random,
      historyOpsRetained,
      { pendingOpsMax: positiveInt(options.pendingOpsMax, 65_536, 'pendingOpsMax'), groupOpsMax: positiveInt(options.groupOpsMax, 16_384, 'groupOpsMax'), maxDriftMs },
      heldOpsMax,
    );
    if (rotate) replica.rotatedFrom = stored.meta?.replicaId;
    if (stored.meta === undefined || rotate) await storage.writeMeta({ replicaId });
    if (stored.snapshot !== undefined) replica.restoreSnapshot(stored.snapshot);
    // `for await` over an array costs a promise per batch; memory and simulated storage hand over arrays.
    if (Array.isArray(stored.batches)) for (const batch of stored.batches as readonly (readonly Op[])[]) replica.restoreBatch(batch);
    else for await (const batch of stored.batches) replica.restoreBatch(batch);
    replica.pipeline.localSeq = replica.data.log.maxSeq(replicaId);
    // A log recovered past the policy's bound is compacted now, in the background (writes queue behind it),
    // so the next open reads a snapshot instead of replaying every op.
    replica.pipeline.autoCompactIfDue();
    return replica;
  }

  private restoreSnapshot(snapshot: Snapshot): void {
    const { log, state, summary, hlc } = this.data;
    summary.load(snapshot);
    log.raiseBase(snapshot.base);
    for (const op of snapshot.winners) state.apply(op);
    hlc.observe(snapshot.clock);
  }

  private restoreBatch(batch: readonly Op[]): void {
    const { log, state, hlc } = this.data;
    for (const op of batch) {
      if (log.has(op.replica, op.seq)) continue;
      log.add(op);
      state.apply(op);
      hlc.observe(op);
    }
  }

  // ---- writes -------------------------------------------------------------

  /** Sets `key` to a JSON `value`. Resolves with the op once it is durable. */
  set(key: string, value: V): Promise<Op> {
    try {
      this.assertOpen();
      const valid = validateKey(key);
      return this.submitLocal<Op>({ kind: 'local', type: 'set', key: valid, value: this.toValue(valid, value) }, 1);
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
  async batch(writes: readonly OpInput<V>[] | ((batch: BatchWriter<V>) => void | Promise<void>)): Promise<Op[]> {
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
          set: (key, value) => {
            const valid = validateKey(key);
            add({ type: 'set', key: valid, value: this.toValue(valid, value) });
          },
          delete: (key) => add({ type: 'delete', key: validateKey(key) }),
        });
        if (pending !== undefined) await pending;
      } finally {
        sealed = true;
      }
    } else {
      if (!Array.isArray(writes)) throw new InvalidArgumentError('batch takes an array of writes or a function');
      inputs = writes.map((input, index) => validateInput(input, index, this.toValue));
    }
    if (inputs.length === 0) return [];
    return this.submitLocal<Op[]>({ kind: 'batch', inputs }, inputs.length);
  }

  private submitLocal<R>(intent: SingleIntent | BatchIntent, opCount: number): Promise<R> {
    this.assertOpen();
    return this.pipeline.submit<R>(intent, opCount);
  }

  // ---- reads --------------------------------------------------------------

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    this.assertOpen();
    return this.data.state.get(key) as V | undefined;
  }

  /** True when `key` has a value. */
  has(key: string): boolean {
    this.assertOpen();
    return this.data.state.has(key);
  }

  /** Number of keys with a value. */
  get size(): number {
    this.assertOpen();
    return this.data.state.size;
  }

  /**
   * Keys with a value, in key order: all of them, or a range (`prefix`, `start` inclusive, `end` exclusive),
   * at most `limit`. Served from the sorted index: the cost is the keys returned, not the keys held.
   */
  keys(options: QueryOptions = {}): string[] {
    this.assertOpen();
    const { limit } = validateQueryOptions(options);
    return this.data.state.keys(options, limit);
  }

  /** `[key, value]` pairs in key order, of all keys or a range (see {@link Replica.keys}). */
  entries(options: QueryOptions = {}): [string, V][] {
    this.assertOpen();
    const { limit } = validateQueryOptions(options);
    const { state } = this.data;
    const out: [string, V][] = [];
    state.forEachKey(options, limit ?? Number.POSITIVE_INFINITY, (key) => void out.push([key, state.get(key) as V]));
    return out;
  }

  /**
   * A live range query: `current` is the result now (the same object until it changes), and `subscribe`
   * delivers it at once and then each change to it; a commit that changes nothing in it sends nothing.
   * @example
   * const todos = replica.query({ prefix: 'todo/', limit: 50 });
   * const stop = todos.subscribe((entries) => render(entries));
   */
  query(options: QueryOptions = {}): LiveQuery {
    this.assertOpen();
    return new LiveQuery(this, options);
  }

  /**
   * One key, live: `current` is its value (undefined while it has none), and `subscribe` delivers it at
   * once and then each change of it.
   * @example
   * replica.watch('settings/theme').subscribe((theme) => applyTheme(theme));
   */
  watch(key: string): LiveValue {
    this.assertOpen();
    return new LiveValue(this, validateKey(key));
  }

  /** Listens to every commit, local and remote. Returns the unsubscribe function. */
  subscribe(listener: (event: ChangeEvent) => void): () => void {
    this.assertOpen();
    this.pipeline.listeners.add(listener);
    return () => void this.pipeline.listeners.delete(listener);
  }

  /**
   * Listens to the ops of every commit, local and remote, without the per-key change records that
   * {@link subscribe} needs (two state lookups and a record per op): what sync and progress counters use.
   * Returns the unsubscribe function.
   */
  subscribeOps(listener: (event: OpsEvent) => void): () => void {
    this.assertOpen();
    this.pipeline.opsListeners.add(listener);
    return () => void this.pipeline.opsListeners.delete(listener);
  }

  /**
   * Listens to alerts: ops refused for a lying clock, a forged or reused op id, ops too far past a gap, and a move
   * to a fresh replica id. Each carries its typed error. Returns the unsubscribe function.
   * @example
   * replica.subscribeAlerts((alert) => { if (alert.type === 'clock-drift') showClockWarning(alert.error.message); });
   */
  subscribeAlerts(listener: (alert: ReplicaAlert) => void): () => void {
    this.assertOpen();
    this.pipeline.alertListeners.add(listener);
    return () => void this.pipeline.alertListeners.delete(listener);
  }

  /**
   * Moves this replica to a fresh random id, if it still writes under `expectedId` (its current id by default):
   * what a sync session does when a peer proves that someone else wrote, or claims, ops under this id. The winning
   * writes under the old id from `reissueFromSeq` on are written again under the new one, so they reach peers that
   * hold a forged op under one of those ids. Ops under the old id stay in the log, as ops of another replica.
   */
  rotateIdentity(options: { readonly expectedId?: string; readonly reissueFromSeq?: number; readonly reason?: 'forged-own-op' | 'own-id-conflict' | 'requested' } = {}): Promise<RotationResult> {
    try {
      this.assertOpen();
      const reissueFromSeq = options.reissueFromSeq ?? Number.POSITIVE_INFINITY;
      if (!(reissueFromSeq >= 1)) throw new InvalidArgumentError('reissueFromSeq must be a sequence number');
      return this.pipeline.submit<RotationResult>({ kind: 'rotate', expectedId: options.expectedId ?? this.data.replicaId, reason: options.reason ?? 'requested', reissueFromSeq }, 1, true);
    } catch (error) {
      return Promise.reject(error);
    }
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
      return this.pipeline.ready();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Ops waiting for the writer (for sync status displays). */
  get pendingOps(): number {
    return this.pipeline.backlog;
  }

  // ---- sync ---------------------------------------------------------------

  /** Replica id -> highest contiguous sequence number this replica holds. */
  versionVector(): VersionVector {
    this.assertOpen();
    return this.data.log.versionVector();
  }

  /** The compaction horizon: ops at or below it are held only as their keys' winners. */
  horizon(): VersionVector {
    this.assertOpen();
    return this.data.log.base();
  }

  /**
   * The ops the holder of `vv` lacks. When `vv` is behind this replica's horizon,
   * the compacted part comes as the winning op of each key; pass `horizon()` along
   * to `applyRemote` so the receiver can close its gaps.
   */
  opsSince(vv: VersionVector): Op[] {
    this.assertOpen();
    // The log's own vector (a session asking what lies past it) is frozen and valid: no need to copy it.
    const peer = vv === this.data.log.versionVector() ? vv : validateVersionVector(vv);
    const tail = this.data.log.opsSince(peer);
    if (vvDominates(peer, this.data.log.base())) return tail;
    const summary = this.data.summary.winnerOps().filter((op) => !vvCovers(peer, op.replica, op.seq));
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
    // One clock reading per batch, one comparison per op: nothing stamped beyond it is merged.
    const limitWall = this.data.hlc.driftLimit();
    const valid: Op[] = new Array(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op = validateOp(ops[i], i);
      if (op.wall > limitWall) throw this.driftRefusal(op, limitWall);
      valid[i] = op;
    }
    const horizon = options.horizon === undefined ? undefined : validateVersionVector(options.horizon);
    return this.pipeline.submit<ApplyResult>({ kind: 'remote', ops: valid, horizon, completeSummary: options.completeSummary === true }, valid.length);
  }

  /** The typed refusal of a remote op stamped past `limitWall`, told to alert listeners. */
  private driftRefusal(op: Op, limitWall: number): ClockDriftError {
    const { maxDriftMs } = this.data.hlc;
    const nowMs = limitWall - maxDriftMs;
    const error = new ClockDriftError(
      `op ${op.replica}:${op.seq} is stamped ${op.wall} ms, ${op.wall - nowMs} ms ahead of this device's clock (${nowMs} ms); the bound is ${maxDriftMs} ms: the batch is refused (it becomes acceptable in ${op.wall - limitWall} ms)`,
      { origin: 'remote', replica: op.replica, seq: op.seq, wall: op.wall, nowMs, maxDriftMs, limitWall, waitMs: op.wall - limitWall },
    );
    this.pipeline.alert({ type: 'clock-drift', origin: 'remote', error });
    return error;
  }

  // ---- history ------------------------------------------------------------

  /** Every op on `key` still held, in merge order (the oldest may be the compacted winner). */
  history(key: string): Op[] {
    this.assertOpen();
    return historyOf(this.data, validateKey(key));
  }

  /**
   * The whole visible state as of a point: a version vector (ops it covers) or an
   * HLC timestamp (ops at or before it). Sorted by key.
   * @throws HistoryTruncatedError when the point is older than the retained history.
   */
  stateAt(point: StatePoint): Map<string, V> {
    this.assertOpen();
    return stateAt(this.data, point) as Map<string, V>;
  }

  /** True when this replica holds (or compacted) ops of `replica`: sync sessions budget the ids peers introduce. */
  knowsReplica(replica: string): boolean {
    this.assertOpen();
    return this.data.log.knows(replica);
  }

  /** The op with id (replica, seq) if it is held individually (not compacted away), for sync consistency checks. */
  opById(replica: string, seq: number): Op | undefined {
    this.assertOpen();
    return this.data.log.get(replica, seq);
  }

  /** The earliest point `stateAt` accepts: the compaction horizon and its latest timestamp. */
  historyHorizon(): { readonly base: VersionVector; readonly clock: HlcTimestamp } {
    this.assertOpen();
    return { base: this.data.log.base(), clock: this.data.summary.clock };
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
    return this.pipeline.submit<CompactResult>({ kind: 'compact', retainOps }, 1, true);
  }

  /** Waits for queued writes, then releases the storage. Later calls throw `ReplicaClosedError`. */
  close(): Promise<void> {
    // Every caller gets the same promise, so a second close also waits for the storage to be released.
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = (async () => {
        await this.pipeline.idle();
        this.pipeline.listeners.clear();
        this.pipeline.opsListeners.clear();
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
}

function validateReplicaId(id: string): void {
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) throw new InvalidArgumentError('replicaId must be a string of 1 to 128 characters');
}
