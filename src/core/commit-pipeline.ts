/**
 * The commit pipeline: the one writer of a replica. Every change (local writes, remote batches, compaction)
 * is an intent on one {@link CommitQueue}; a group of intents is staged (ids and timestamps given, remote
 * batches checked), appended to storage once, and only then published to the log, the state and listeners,
 * so reads only ever see durable state.
 */
import { type ReplicaAlert, type RotationReason, tellAlert } from './alerts.js';
import { CommitQueue, type CommitQueueLimits, ItemFailure } from './commit-queue.js';
import { ClockDriftError, ForgedOwnOpError, OpIdConflictError, SeqGapError, StorageFailedError, TidelogError } from './errors.js';
import type { HybridLogicalClock } from './hlc.js';
import type { Horizon } from './horizon.js';
import type { JsonValue } from './json.js';
import { compareOps, type Op } from './op.js';
import type { OpLog } from './oplog.js';
import { type Random, randomReplicaId } from './random.js';
import { OpIdMap, type RemoteBatch, SEQ_GAP_MAX, stageRemote } from './remote-staging.js';
import type { KeyChange, MaterializedState } from './state.js';
import type { Storage } from './storage.js';
import { type VersionVector, vvCovers, vvDominates, vvMerge } from './version-vector.js';

/** A change notification: one per commit, local or remote. */
export interface ChangeEvent {
  /** Whether the ops were written here or merged from a peer. */
  readonly origin: 'local' | 'remote';
  /** The ops newly added to the log by this commit. */
  readonly ops: readonly Op[];
  /** Keys whose visible winner changed. */
  readonly changes: readonly KeyChange[];
}

/** The ops of one commit, without per-key change records: what `Replica.subscribeOps` listeners get. */
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

/** A local write, checked: a key and, for a set, a JSON value. */
export type ValidInput = { readonly type: 'set'; readonly key: string; readonly value: JsonValue } | { readonly type: 'delete'; readonly key: string };
/**
 * A single write is its own intent (one object per queued write: with many writes in flight, the queue's memory
 * is what the garbage collector pays for).
 */
export type SingleIntent = ValidInput & { readonly kind: 'local' };
/** An atomic batch of local writes. */
export type BatchIntent = { readonly kind: 'batch'; readonly inputs: readonly ValidInput[] };
/** A move to a fresh replica id, if the replica still writes under `expectedId` (see `Replica.rotateIdentity`). */
export type RotateIntent = { readonly kind: 'rotate'; readonly expectedId: string; readonly reason: RotationReason; readonly reissueFromSeq: number; readonly error?: ForgedOwnOpError | OpIdConflictError };
/** What a rotation did. */
export interface RotationResult {
  /** The id written under before, and the one from now on (equal when the rotation was not needed any more). */
  readonly from: string;
  readonly to: string;
  /** Winning writes made again under the new id. */
  readonly reissued: number;
}
/** Everything the pipeline commits. */
export type Intent = SingleIntent | BatchIntent | (RemoteBatch & { readonly kind: 'remote' }) | { readonly kind: 'compact'; readonly retainOps: number } | RotateIntent;

/** What a replica holds in memory. The handle reads it; only the commit pipeline changes it. */
export interface ReplicaData {
  /** The id this replica writes under (changed only by a rotation, in the commit loop). */
  replicaId: string;
  /** Every op held individually, by id. */
  readonly log: OpLog;
  /** The visible winner of every key. */
  readonly state: MaterializedState;
  /** The compaction summary: the winners of ops folded below the horizon. */
  readonly summary: Horizon;
  /** The replica's hybrid logical clock. */
  readonly hlc: HybridLogicalClock;
}

/**
 * When the pipeline compacts by itself: once more than `heldOpsMax` ops are held one by one, it queues a
 * compaction keeping `retainOps` of them (what `compact()` does by default).
 */
export interface AutoCompaction {
  /** Most ops held individually before a compaction is queued; `Infinity` never compacts by itself. */
  readonly heldOpsMax: number;
  /** Ops of history each automatic compaction keeps. */
  readonly retainOps: number;
}

/** The single serialized writer of one replica. */
export class CommitPipeline {
  /** Listeners of {@link ChangeEvent}s. */
  readonly listeners = new Set<(event: ChangeEvent) => void>();
  /** Listeners of {@link OpsEvent}s. */
  readonly opsListeners = new Set<(event: OpsEvent) => void>();
  /** Listeners of {@link ReplicaAlert}s. */
  readonly alertListeners = new Set<(alert: ReplicaAlert) => void>();
  /** The highest sequence number issued under this replica's id. */
  localSeq = 0;
  private readonly queue: CommitQueue<Intent>;
  /** Storage lets the commit path prepare while an append waits on its device (see `Storage.appendWaitsOnDevice`). */
  private readonly warmDuringAppend: boolean;
  /** Held ops at which the next automatic compaction is queued (Infinity: none; raised after each). */
  private autoCompactAt: number;
  /** Automatic compactions queued so far. */
  autoCompactions = 0;
  /** Automatic compactions that failed (the storage refused the snapshot); the next one is tried later. */
  autoCompactFailures = 0;

  constructor(
    private readonly data: ReplicaData,
    private readonly storage: Storage,
    limits: CommitQueueLimits,
    /** Randomness for a fresh replica id. */
    private readonly random: Random,
    private readonly autoCompaction: AutoCompaction = { heldOpsMax: Number.POSITIVE_INFINITY, retainOps: 0 },
  ) {
    this.warmDuringAppend = storage.appendWaitsOnDevice === true;
    this.queue = new CommitQueue((group) => this.commitGroup(group), limits);
    this.autoCompactAt = autoCompaction.heldOpsMax;
  }

  /**
   * Queues a compaction when more ops are held one by one than the policy allows: called after every commit
   * (one comparison) and once after open. The next one is due only after as many new ops again, so ops the
   * compaction cannot fold (above a gap) never make it run on every commit.
   */
  autoCompactIfDue(): void {
    const held = this.data.log.size;
    if (held <= this.autoCompactAt) return;
    const { heldOpsMax, retainOps } = this.autoCompaction;
    this.autoCompactAt = Number.POSITIVE_INFINITY; // one queued at a time
    this.autoCompactions += 1;
    this.queue.submit<CompactResult>({ kind: 'compact', retainOps }, 1, true).then(
      () => {
        this.autoCompactAt = this.data.log.size + Math.max(heldOpsMax - retainOps, Math.ceil(heldOpsMax / 2));
      },
      () => {
        // The snapshot could not be written (a read-only or failing medium): nothing changed; try again later.
        this.autoCompactFailures += 1;
        this.autoCompactAt = this.data.log.size + Math.ceil(heldOpsMax / 2);
      },
    );
  }

  /** Queues an intent; resolves with its outcome once committed. `exclusive` intents commit in a group of their own. */
  submit<R>(intent: Intent, opCount: number, exclusive = false): Promise<R> {
    return this.queue.submit<R>(intent, opCount, exclusive);
  }

  /** Tells every alert listener. */
  alert(alert: ReplicaAlert): void {
    if (this.alertListeners.size > 0) tellAlert(this.alertListeners, alert);
  }

  /** Refuses local writes stamped too far ahead of this device's clock, telling the application. @throws ClockDriftError */
  private assertLocalDrift(): void {
    try {
      this.data.hlc.assertWithinDrift();
    } catch (error) {
      if (error instanceof ClockDriftError) this.alert({ type: 'clock-drift', origin: 'local', error });
      throw error;
    }
  }

  /** Resolves once the queue has room (backpressure for pipelined writers). */
  ready(): Promise<void> {
    return this.queue.ready();
  }

  /** Ops waiting for the writer. */
  get backlog(): number {
    return this.queue.backlog;
  }

  /** Resolves once every queued intent is committed. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  // Not async: handing back the inner promise directly saves the microtask hops an async wrapper adds per commit.
  private commitGroup(group: readonly Intent[]): Promise<unknown[]> {
    const first = group[0] as Intent;
    if (first.kind === 'compact') return this.settle(() => this.commitCompaction(first.retainOps)).then((outcome) => [outcome]);
    if (first.kind === 'rotate') return this.settle(() => this.rotate(first)).then((outcome) => [outcome]);
    if (group.length === 1 && (first.kind === 'local' || first.kind === 'batch')) return this.commitLocal(first);
    if (allSingles(group)) return this.commitSingles(group);
    return this.commitMixed(group);
  }

  /**
   * The hot path under many writers that each await their write: a group of single writes only. The same
   * steps as commitMixed, in one staging loop and one publish loop, with no per-write closures or staging.
   */
  private async commitSingles(group: readonly SingleIntent[]): Promise<unknown[]> {
    this.assertLocalDrift();
    const savedSeq = this.localSeq;
    const ops: Op[] = new Array(group.length);
    for (let i = 0; i < group.length; i++) ops[i] = this.stageOne(group[i] as SingleIntent, undefined);
    try {
      // Nobody else holds `ops` (each writer gets its own op back): storage may keep it.
      await this.appendWarm(ops);
    } catch (error) {
      this.localSeq = savedSeq;
      throw appendFailure(error);
    }
    if (this.listeners.size > 0 || this.opsListeners.size > 0) {
      const outcomes: unknown[] = new Array(group.length);
      for (let i = 0; i < group.length; i++) outcomes[i] = this.publish(group[i] as SingleIntent, [ops[i] as Op], 0);
      this.autoCompactIfDue();
      return outcomes;
    }
    // Nobody listens: publishing is adding each op to the log and the state.
    const { log, state } = this.data;
    for (let i = 0; i < group.length; i++) {
      const op = ops[i] as Op;
      log.add(op);
      state.apply(op);
    }
    this.autoCompactIfDue();
    // Each writer's promise resolves with its own op: the staged array is the outcome list.
    return ops;
  }

  private async commitMixed(group: readonly Intent[]): Promise<unknown[]> {
    const savedSeq = this.localSeq;
    // Ids staged in this group, so a remote op can be checked against ops of earlier intents not yet in the log
    // (a group of one intent has none).
    const staged = group.length > 1 && group.some((intent) => intent.kind === 'remote') ? new OpIdMap() : undefined;
    // Deferral counters for remote intents only: a group of 16K local writes needs none.
    const deferrals: ({ count: number } | undefined)[] = new Array(group.length);
    const prepared: (Op[] | TidelogError)[] = group.map((intent, i) => {
      try {
        if (intent.kind === 'local' || intent.kind === 'batch') this.assertLocalDrift();
        if (intent.kind === 'local') return [this.stageOne(intent, staged)];
        if (intent.kind === 'batch') return this.stageLocal(intent.inputs, staged);
        if (intent.kind === 'remote') {
          const deferred = { count: 0 };
          deferrals[i] = deferred;
          return this.observeRemote(stageRemote(this.data.log, this.data.summary, intent, staged, deferred, { id: this.data.replicaId, seq: this.localSeq }));
        }
        throw new Error('a compaction or rotation never shares a commit group');
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
        throw appendFailure(error);
      }
    }
    const outcomes: unknown[] = [];
    const refusals: TidelogError[] = [];
    for (let i = 0; i < group.length; i++) {
      const intent = group[i] as Intent;
      const ops = prepared[i] as Op[] | TidelogError;
      if (ops instanceof TidelogError) {
        if (intent.kind === 'remote') refusals.push(ops);
        outcomes.push(new ItemFailure(ops));
        continue;
      }
      const deferred = deferrals[i]?.count ?? 0;
      if (deferred > 0) this.alertSeqGap(intent, deferred);
      // Only a remote batch that moves the horizon needs to await storage again; keep the rest synchronous.
      if (intent.kind === 'remote' && intent.horizon !== undefined) {
        const horizon = intent.horizon;
        outcomes.push(
          await this.settle(async () => {
            const result = this.publish(intent, ops, deferred);
            await this.adoptHorizon(horizon, ops);
            return result;
          }),
        );
      } else {
        outcomes.push(this.publish(intent, ops, deferred));
      }
    }
    // After the whole group is published, so a rotation's re-issue sees every write of it.
    for (const refusal of refusals) await this.answerRefusal(refusal);
    this.autoCompactIfDue();
    return outcomes;
  }

  /** The hot path: one local write alone in its group (a writer that awaits each write). Same steps, no staging maps. */
  private async commitLocal(intent: SingleIntent | BatchIntent): Promise<unknown[]> {
    this.assertLocalDrift();
    const savedSeq = this.localSeq;
    const ops = intent.kind === 'local' ? [this.stageOne(intent, undefined)] : this.stageLocal(intent.inputs, undefined);
    try {
      // A batch's ops are returned to the caller: give storage its own array.
      await this.appendWarm(intent.kind === 'local' ? ops : ops.slice());
    } catch (error) {
      this.localSeq = savedSeq;
      throw appendFailure(error);
    }
    const value = this.publish(intent, ops, 0);
    this.autoCompactIfDue();
    return [value];
  }

  /**
   * Appends, and while the append waits on its device (an fsync on another thread), looks up the
   * state entries the publish will touch: read-only, so reads still see only durable state.
   */
  private appendWarm(ops: readonly Op[]): Promise<void> {
    const appended = this.storage.append(ops);
    if (this.warmDuringAppend) this.data.state.warm(ops);
    return appended;
  }

  private async settle(work: () => unknown): Promise<unknown> {
    try {
      return await work();
    } catch (error) {
      return new ItemFailure(error);
    }
  }

  private stageLocal(inputs: readonly ValidInput[], staged: OpIdMap | undefined): Op[] {
    const ops: Op[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) ops[i] = this.stageOne(inputs[i] as ValidInput, staged);
    return ops;
  }

  /** Gives one write its id and timestamp. */
  private stageOne(input: ValidInput, staged: OpIdMap | undefined): Op {
    const ts = this.data.hlc.tick();
    this.localSeq += 1;
    const replica = this.data.replicaId;
    // Frozen: the same object sits in the log, the state, storage and the caller's hands.
    const op: Op = Object.freeze(
      input.type === 'set'
        ? { replica, seq: this.localSeq, wall: ts.wall, logical: ts.logical, key: input.key, type: 'set', value: input.value }
        : { replica, seq: this.localSeq, wall: ts.wall, logical: ts.logical, key: input.key, type: 'delete' },
    );
    staged?.set(op);
    return op;
  }

  /** Lets the clock move past the staged ops of an accepted remote batch (their stamps were checked against the drift bound). */
  private observeRemote(fresh: Op[]): Op[] {
    const hlc = this.data.hlc;
    for (const op of fresh) hlc.observe(op);
    return fresh;
  }

  /**
   * A refused remote batch: tell the application, and when it proves that someone else wrote (or claims) ops under
   * our id, move to a fresh id before anything else commits, so none of our next writes collides with them.
   */
  private async answerRefusal(error: TidelogError): Promise<void> {
    if (error instanceof OpIdConflictError) this.alert({ type: 'op-id-conflict', error });
    const own = error.details.replica === this.data.replicaId && (error instanceof ForgedOwnOpError || (error instanceof OpIdConflictError && error.details.own === true));
    if (!own) return;
    const seq = error.details.seq as number;
    await this.rotate({ kind: 'rotate', expectedId: this.data.replicaId, reason: error instanceof ForgedOwnOpError ? 'forged-own-op' : 'own-id-conflict', reissueFromSeq: seq, error: error as ForgedOwnOpError | OpIdConflictError }).catch(
      // The rotation's own failure (storage) leaves the old id in place; the next forged op will try again.
      () => undefined,
    );
  }

  private alertSeqGap(intent: Intent, deferred: number): void {
    if (intent.kind !== 'remote' || this.alertListeners.size === 0) return;
    const vv = this.data.log.versionVector();
    const far = intent.ops.find((op) => op.seq > (vv[op.replica] ?? 0) + SEQ_GAP_MAX && !this.data.log.has(op.replica, op.seq));
    const details = far === undefined ? { deferred } : { deferred, replica: far.replica, seq: far.seq, heldSeq: vv[far.replica] ?? 0 };
    this.alert({ type: 'seq-gap', error: new SeqGapError(`${deferred} op(s) lie more than ${SEQ_GAP_MAX} seqs past what this replica holds of their writer${far === undefined ? '' : ` (e.g. ${far.replica}:${far.seq}, holding ${details.heldSeq})`}; not stored`, details) });
  }

  /**
   * Moves to a fresh replica id (the old one was forged or reused by someone else), unless that already happened.
   * The winning writes made under the old id from `reissueFromSeq` on are written again under the new id: peers
   * holding a forged op under one of those ids refuse ours, and this way what we wrote still reaches them.
   */
  private async rotate(intent: RotateIntent): Promise<RotationResult> {
    const from = this.data.replicaId;
    if (from !== intent.expectedId) return { from, to: from, reissued: 0 };
    const to = randomReplicaId(this.random);
    await this.storage.writeMeta({ replicaId: to });
    const { log, state } = this.data;
    const inputs: ValidInput[] = [];
    const top = log.maxSeq(from);
    for (let seq = Math.max(1, intent.reissueFromSeq); seq <= top; seq++) {
      const op = log.get(from, seq);
      if (op === undefined || state.winner(op.key) !== op) continue;
      inputs.push(op.type === 'set' ? { type: 'set', key: op.key, value: op.value as JsonValue } : { type: 'delete', key: op.key });
    }
    this.data.replicaId = to;
    this.localSeq = 0;
    let reissued: Op[] = [];
    if (inputs.length > 0) {
      reissued = this.stageLocal(inputs, undefined);
      try {
        await this.appendWarm(reissued.slice());
        this.publish({ kind: 'batch', inputs }, reissued, 0);
      } catch {
        // Nothing was written again; the id moved anyway (the old one is not safe to write under).
        this.localSeq = 0;
        reissued = [];
      }
    }
    this.alert({ type: 'identity-rotated', from, to, reason: intent.reason, reissued: reissued.length, ...(intent.error === undefined ? {} : { error: intent.error }) });
    return { from, to, reissued: reissued.length };
  }

  private publish(intent: Intent, prepared: Op[], deferred: number): unknown {
    const { log, state } = this.data;
    // Change records cost an allocation per op: build them only when someone listens.
    const changes = this.listeners.size > 0 ? new Map<string, KeyChange>() : undefined;
    let changed = 0;
    const horizon = intent.kind === 'remote' ? intent.horizon : undefined;
    for (const op of prepared) {
      // Ops under the sender's horizon go straight to the summary (adoptHorizon): holding them op by op
      // would allocate log slots up to a seq the sender chose.
      if (horizon === undefined || !vvCovers(horizon, op.replica, op.seq)) log.add(op);
      if (changes === undefined) {
        if (state.apply(op)) changed += 1;
        continue;
      }
      const previous = changes.has(op.key) ? (changes.get(op.key) as KeyChange).previous : state.get(op.key);
      if (state.apply(op)) {
        changed += 1;
        changes.set(op.key, { key: op.key, value: state.get(op.key), previous, op });
      }
    }
    const origin = intent.kind === 'remote' ? 'remote' : 'local';
    if (changes !== undefined && prepared.length > 0) this.emit(this.listeners, { origin, ops: prepared, changes: [...changes.values()] });
    if (this.opsListeners.size > 0 && prepared.length > 0) this.emit(this.opsListeners, { origin, ops: prepared });
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
    const { log, summary } = this.data;
    if (vvDominates(log.base(), horizon)) return;
    const base = vvMerge(log.base(), horizon);
    const folded = received.filter((op) => vvCovers(horizon, op.replica, op.seq));
    log.forEach((op) => {
      if (vvCovers(base, op.replica, op.seq)) folded.push(op);
    });
    // Snapshot first, like compaction: if it fails, the in-memory horizon still matches storage.
    await this.storage.writeSnapshot(summary.preview(folded, base));
    summary.absorb(folded.concat(log.raiseBase(base)));
  }

  private async commitCompaction(retainOps: number): Promise<CompactResult> {
    const { log, summary } = this.data;
    const candidates: Op[] = [];
    log.forEach((op) => {
      const range = log.heldRange(op.replica);
      if (range !== undefined && op.seq <= range.contiguous) candidates.push(op);
    });
    const compactCount = candidates.length - retainOps;
    if (compactCount <= 0) return { compactedOps: 0, retainedOps: log.size, base: log.base() };
    candidates.sort(compareOps);
    // Per replica, seq order is HLC order, so the ops up to the cut form a prefix 1..s of each replica.
    const base: Record<string, number> = { ...log.base() };
    for (const op of candidates.slice(0, compactCount)) if (op.seq > (base[op.replica] ?? 0)) base[op.replica] = op.seq;
    const covered = candidates.filter((op) => vvCovers(base, op.replica, op.seq));
    await this.storage.writeSnapshot(summary.preview(covered, base));
    const dropped = log.raiseBase(base);
    summary.absorb(dropped);
    return { compactedOps: dropped.length, retainedOps: log.size, base: log.base() };
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

/** A failed append as the typed error every caller of the group gets: nothing of the group was committed. */
function appendFailure(error: unknown): TidelogError {
  return error instanceof TidelogError ? error : new StorageFailedError('storage append failed; nothing was committed', {}, { cause: error });
}
