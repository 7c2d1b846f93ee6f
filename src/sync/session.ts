/**
 * `SyncSession`: the anti-entropy protocol between one replica and the other
 * members of a transport's room. Peers swap version vectors (hello), send each
 * other the ops the other lacks in bounded batches, and push new local commits
 * as they happen. A peer behind the sender's compaction horizon gets the
 * horizon summary as a multi-part snapshot transfer that is applied whole.
 */
import { ClockDriftError, ForgedOwnOpError, InvalidArgumentError, OpIdConflictError, ReplicaClosedError, SeqGapError, TidelogError } from '../core/errors.js';
import type { Op } from '../core/op.js';
import type { ApplyResult, OpsEvent, Replica } from '../core/replica.js';
import { type VersionVector, vvCovers, vvDominates, vvMerge } from '../core/version-vector.js';
import { heldRanges, isHeld, opsAhead, streamsAdvanced } from './answer-window.js';
import { ReplicaIdBudgetError } from './errors.js';
import { addHelloPart, helloFrames } from './hello-parts.js';
import { REPLICA_ID_BUDGET_DEFAULTS, ReplicaIdBudget, type ReplicaIdBudgetLimits } from './id-budget.js';
import { decodeMessage, encodeMessage, type HelloMessage, MessageType, type OpsMessage, peekEnvelope, SNAPSHOT_PARTS_MAX, type SnapshotMessage, type SyncMessage } from './messages.js';
import { type PeerState, PeerTable } from './peer-table.js';
import { PushLog } from './push-log.js';
import { mergeRanges, RefusedOps } from './refusals.js';
import { type CancelTimer, type Scheduler, systemScheduler } from './scheduler.js';
import { addSnapshotPart, SnapshotCutter, type SnapshotParts } from './snapshot-transfer.js';
import { TransferSlots } from './transfer-slots.js';
import { type SyncState, SyncStateTracker } from './sync-state.js';
import type { Transport } from './transport.js';

/** Options of a {@link SyncSession}. */
export interface SyncSessionOptions {
  /** Time and timers; the real ones by default. The simulator passes its virtual scheduler. */
  readonly scheduler?: Scheduler;
  /** Most ops in one frame. Default 1,000. */
  readonly batchOpsMax?: number;
  /** Most encoded op bytes in one frame (a single larger op still goes alone). Default 256 KiB. */
  readonly batchBytesMax?: number;
  /** Most frames sent in answer to one hello; the peer asks again for the rest. Default 64. */
  readonly responseFramesMax?: number;
  /** Period of the anti-entropy tick (a hello to one peer, round robin); 0 turns it off. Default 5,000 ms. */
  readonly antiEntropyIntervalMs?: number;
  /** Least time between two unsolicited hellos to the same peer (gap repair, hello-backs). Default 100 ms. */
  readonly helloBackoffMs?: number;
  /**
   * How long ops sent in answer to a peer's hello count as on their way: hellos from that peer within this
   * time get only what was not sent yet, so a slow link (or a peer that asks again before the answer lands)
   * does not get the same ops over and over. After it, everything missing is sent again. Default 1,000 ms.
   */
  readonly resendAfterMs?: number;
  /** Most peers remembered; when full, the one heard from least recently is dropped. Default 1,024. */
  readonly peersMax?: number;
  /**
   * Largest hello frame, in bytes: a larger hello (thousands of replica ids) goes as parts, so it fits a relay's
   * frame limit (1 MiB by default). Default 256 KiB.
   */
  readonly helloBytesMax?: number;
  /** Snapshot transfers and split hellos buffered at once, from all peers together; past it the stalest is dropped. Default 8. */
  readonly transfersMax?: number;
  /** Bytes of frames those buffers may hold together; past it the stalest is dropped. Default 256 MiB. */
  readonly transferBytesMax?: number;
  /** How many replica ids new to this replica peers may introduce, per peer and in all, per minute (see `id-budget.ts`). */
  readonly replicaIdBudget?: Partial<ReplicaIdBudgetLimits>;
  /**
   * Decodes frames; {@link decodeMessage} by default. The simulator passes a memoized one so the
   * receivers of one broadcast frame share a single decode (same bytes, same strict checks).
   */
  readonly decode?: (frame: Uint8Array) => SyncMessage;
  /** Told about every frame or batch that was rejected (never thrown into the transport). */
  readonly onError?: (error: SyncError) => void;
  /**
   * Which replica ids count as written here, besides the replica's own: their ops are pushed to the room when
   * merged, and counted in `syncState().pendingOps`. A browser's tab leader passes the ids its tabs write under.
   */
  readonly isOwnReplica?: (replicaId: string) => boolean;
}

/** A rejected frame or batch, as reported in {@link SyncStatus}. */
export interface SyncError {
  /** The typed error's code (`DECODE_FAILED`, `OP_ID_CONFLICT`, ...), or `INTERNAL`. */
  readonly code: string;
  readonly message: string;
  /** Sender of the rejected frame, when it could be decoded. */
  readonly from?: string;
  /** Scheduler time of the rejection, in ms. */
  readonly atMs: number;
}

/** What a session has done so far. */
export interface SyncStatus {
  /** Whether the transport is up. */
  readonly connected: boolean;
  /** Replica ids heard from, in first-heard order. */
  readonly peersSeen: readonly string[];
  /** Ops sent in ops and snapshot frames (duplicates across peers counted each time). */
  readonly opsSent: number;
  /** Ops received in frames addressed to this replica or to everyone. */
  readonly opsReceived: number;
  /** Received ops that were new here. */
  readonly opsApplied: number;
  readonly framesSent: number;
  readonly bytesSent: number;
  readonly framesReceived: number;
  readonly bytesReceived: number;
  /** Frames that did not decode. */
  readonly framesMalformed: number;
  /** Batches rejected because an op id was reused for different content. */
  readonly opIdConflicts: number;
  /** Every other rejected batch (storage failures and the like). */
  readonly applyFailures: number;
  /** Ops refused for now because they were stamped more than the replica's `maxDriftMs` ahead of its clock. */
  readonly clockDriftRefusals: number;
  /** Ops refused for now because their sender introduced more new replica ids than its budget allows. */
  readonly replicaIdRefusals: number;
  /** Ops not stored because they lay more than `SEQ_GAP_MAX` past what this replica holds of their writer. */
  readonly opsDeferred: number;
  /** Times a peer sent, or claimed to hold, ops under this replica's own id that it never wrote (or with other content). */
  readonly forgedOwnOps: number;
  /**
   * Times this replica moved to a fresh id because its old one was forged or reused (a restore, a re-created
   * device, an attack): it keeps syncing under the new id instead of going silent.
   */
  readonly identityRotations: number;
  /** Snapshot transfers and split hellos dropped to stay within `transfersMax` / `transferBytesMax`. */
  readonly transfersEvicted: number;
  /** The latest rejection. */
  readonly lastError?: SyncError;
}

/** Codes with a counter of their own in {@link SyncStatus} (every other rejection counts as an apply failure). */
const COUNTED_ELSEWHERE = new Set(['DECODE_FAILED', 'CLOCK_DRIFT', 'REPLICA_ID_BUDGET', 'SEQ_GAP', 'FORGED_OWN_OP']);

/** Room for the envelope around the op batch in an ops frame (header, sender and recipient ids). */
const FRAME_OVERHEAD_BYTES = 320;

type Counters = { -readonly [K in keyof Omit<SyncStatus, 'connected' | 'peersSeen' | 'lastError' | 'transfersEvicted'>]: number };

/** Runs the sync protocol for one replica over one transport. */
export class SyncSession {
  private readonly scheduler: Scheduler;
  private readonly batchOpsMax: number;
  private readonly batchBytesMax: number;
  private readonly responseFramesMax: number;
  private readonly antiEntropyIntervalMs: number;
  private readonly helloBackoffMs: number;
  private readonly resendAfterMs: number;
  private readonly peers: PeerTable;
  private readonly inflight = new Set<Promise<unknown>>();
  private merges = 0;
  private readonly counters: Counters = {
    opsSent: 0,
    opsReceived: 0,
    opsApplied: 0,
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    framesMalformed: 0,
    opIdConflicts: 0,
    applyFailures: 0,
    clockDriftRefusals: 0,
    replicaIdRefusals: 0,
    opsDeferred: 0,
    forgedOwnOps: 0,
    identityRotations: 0,
  };
  private lastError: SyncError | undefined;
  private connected = false;
  private running = false;
  private unsubscribe: (() => void) | undefined;
  private cancelTick: CancelTimer | undefined;
  private roundRobin = 0;
  private lastRepairHelloMs = Number.NEGATIVE_INFINITY;
  private pushes: PushLog;
  private readonly snapshots: SnapshotCutter;
  /** The replica id this session's push and peer bookkeeping is about (the replica may move to a fresh one). */
  private identity: string;
  private readonly helloBytesMax: number;
  private nextHelloId = 0;
  private readonly refusals = new RefusedOps();
  private readonly idBudget: ReplicaIdBudget;
  private readonly slots: TransferSlots;
  private readonly tracker: SyncStateTracker;

  constructor(
    private readonly replica: Replica,
    private readonly transport: Transport,
    private readonly options: SyncSessionOptions = {},
  ) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.batchOpsMax = positive(options.batchOpsMax, 1_000, 'batchOpsMax');
    this.batchBytesMax = positive(options.batchBytesMax, 256 * 1024, 'batchBytesMax');
    this.responseFramesMax = positive(options.responseFramesMax, 64, 'responseFramesMax');
    this.antiEntropyIntervalMs = nonNegative(options.antiEntropyIntervalMs, 5_000, 'antiEntropyIntervalMs');
    this.helloBackoffMs = nonNegative(options.helloBackoffMs, 100, 'helloBackoffMs');
    this.peers = new PeerTable(positive(options.peersMax, 1_024, 'peersMax'));
    this.resendAfterMs = nonNegative(options.resendAfterMs, 1_000, 'resendAfterMs');
    this.identity = replica.replicaId;
    this.pushes = new PushLog(this.identity, this.resendAfterMs);
    this.snapshots = new SnapshotCutter(this.batchOpsMax, this.batchBytesMax);
    this.helloBytesMax = positive(options.helloBytesMax, 256 * 1024, 'helloBytesMax');
    this.slots = new TransferSlots(positive(options.transfersMax, 8, 'transfersMax'), positive(options.transferBytesMax, 256 * 1024 * 1024, 'transferBytesMax'));
    const budget = { ...REPLICA_ID_BUDGET_DEFAULTS, ...options.replicaIdBudget };
    for (const [name, value] of Object.entries(budget)) positive(value, 1, `replicaIdBudget.${name}`);
    this.idBudget = new ReplicaIdBudget(budget, this.scheduler.now());
    const isOwn = options.isOwnReplica;
    // Our own id as it is now (the replica may move to a fresh one), plus whatever the owner says is ours too.
    this.tracker = new SyncStateTracker(replica, isOwn === undefined ? (id) => id === replica.replicaId : (id) => id === replica.replicaId || isOwn(id));
  }

  /** Attaches to the transport and the replica; runs anti-entropy whenever the transport comes up. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.replica.subscribeOps((event) => this.onCommit(event));
    this.transport.listen({
      frame: (bytes) => this.onFrame(bytes),
      up: () => this.onUp(),
      down: () => {
        this.connected = false;
        this.tracker.connection(false);
        this.forgetSent();
      },
    });
    this.connected = this.transport.connected;
    this.tracker.recount();
    this.tracker.connection(this.connected);
    this.scheduleTick();
  }

  /** Detaches from the replica, stops the tick and waits for merges in flight. Leaves the transport to its owner. */
  async stop(): Promise<void> {
    this.running = false;
    this.connected = false;
    this.tracker.connection(false);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelTick?.();
    this.cancelTick = undefined;
    for (const peer of this.peers.values()) {
      peer.askTimer?.();
      peer.askTimer = undefined;
    }
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * How many merges this session has handed to its replica. A driver of virtual time (the simulator) reads it
   * around a frame's delivery to tell whether the frame started promise work, instead of copying the checks
   * that decide it.
   */
  get mergesStarted(): number {
    return this.merges;
  }

  /** Counters and the latest error. */
  status(): SyncStatus {
    const base = { connected: this.connected, peersSeen: this.peers.ids(), ...this.counters, transfersEvicted: this.slots.evicted };
    return this.lastError === undefined ? base : { ...base, lastError: this.lastError };
  }

  /**
   * What each peer said it holds in its latest hello (peers not heard from in a hello are absent).
   * Lets a status display count the local ops no peer has confirmed yet.
   */
  peerVersionVectors(): Map<string, VersionVector> {
    const out = new Map<string, VersionVector>();
    for (const [id, peer] of this.peers.entries()) if (peer.versionVector !== undefined) out.set(id, peer.versionVector);
    return out;
  }

  /**
   * Connected or not, ops written here that no peer confirmed holding, and the vector the last peer reported:
   * the same object until one of them changes.
   */
  syncState(): SyncState {
    // Not listening to commits before start or after stop: count afresh then.
    if (!this.running) this.tracker.recount();
    return this.tracker.current();
  }

  /** Calls `listener` whenever {@link SyncSession.syncState} changes. Returns the unsubscribe function. */
  onSyncState(listener: (state: SyncState) => void): () => void {
    return this.tracker.subscribe(listener);
  }

  /** Runs one anti-entropy round now: a hello to every peer (replies wanted). */
  syncNow(): void {
    if (this.running && this.connected) this.sendHello(undefined, true);
  }

  // ---- events -------------------------------------------------------------

  private onUp(): void {
    if (!this.running) return;
    this.connected = true;
    this.tracker.connection(true);
    this.forgetSent();
    this.sendHello(undefined, true);
  }

  private onCommit(event: OpsEvent): void {
    this.tracker.committed(event);
    if (!this.connected) return;
    if (event.origin !== 'local') {
      // Ops merged from this device's other writers (a browser's tabs) go out like our own.
      if (this.options.isOwnReplica !== undefined) this.pushOwn(event.ops);
      return;
    }
    this.followIdentity();
    const pushed: Op[] = [];
    this.sendOps(undefined, event.ops, Number.POSITIVE_INFINITY, pushed);
    const last = pushed[pushed.length - 1];
    if (last !== undefined && last.replica === this.replica.replicaId) this.pushes.record((pushed[0] as Op).seq, last.seq, this.scheduler.now());
  }

  private pushOwn(ops: readonly Op[]): void {
    const own = ops.filter((op) => op.replica !== this.replica.replicaId && this.tracker.isOwn(op.replica));
    if (own.length > 0) this.sendOps(undefined, own, Number.POSITIVE_INFINITY);
  }

  private onFrame(bytes: Uint8Array): void {
    if (!this.running) return;
    // Ops for another replica (answers to its hellos), or our own echoed back: skipped before their ops are
    // decoded, which in a room of N readers is most of what each one receives. Hellos are always read.
    // A custom decoder (the simulator's decodes each frame once for all receivers) makes the peek a second parse.
    const envelope = bytes[1] === MessageType.hello || this.options.decode !== undefined ? undefined : peekEnvelope(bytes);
    if (envelope !== undefined && envelope.type !== 'hello' && (envelope.from === this.replica.replicaId || (envelope.to !== undefined && envelope.to !== this.replica.replicaId))) return;
    let message: SyncMessage;
    try {
      message = (this.options.decode ?? decodeMessage)(bytes);
    } catch (error) {
      this.counters.framesMalformed += 1;
      this.report(error, undefined);
      return;
    }
    // A broadcast room: frames for others, and our own frames echoed or replayed, are not ours to act on.
    if (message.from === this.replica.replicaId) return;
    if (message.to !== undefined && message.to !== this.replica.replicaId) {
      // Overheard hellos still tell what their sender holds: the tick uses it to ask a peer that has something.
      if (message.type === 'hello' && message.part === undefined) {
        const peer = this.peer(message.from);
        if (peer !== undefined) peer.versionVector = message.versionVector;
        this.tracker.peerReported(message.from, message.versionVector);
      }
      return;
    }
    this.counters.framesReceived += 1;
    this.counters.bytesReceived += bytes.length;
    const peer = this.peer(message.from);
    try {
      if (message.type === 'hello') this.onHelloPart(message, peer, bytes.length);
      else if (message.type === 'ops') this.onOps(message, peer);
      else this.onSnapshot(message, peer, bytes.length);
    } catch (error) {
      // The replica was closed under us, or an invariant broke: report, never throw into the transport.
      this.report(error, message.from);
    }
  }

  /** A hello, or a part of a split one: the whole hello is acted on once every part is in. */
  private onHelloPart(message: HelloMessage, peer: PeerState, bytes: number): void {
    if (message.part === undefined) {
      this.onHello(message, peer);
      return;
    }
    const before = peer.hello;
    const whole = addHelloPart(peer, message);
    if (before !== undefined && before !== peer.hello) this.slots.done(before);
    const pending = peer.hello;
    if (pending !== undefined) {
      this.slots.hold(pending, bytes, this.scheduler.now(), () => {
        if (peer.hello === pending) peer.hello = undefined;
      });
    }
    if (whole !== undefined) this.onHello(whole, peer);
  }

  private onHello(message: HelloMessage, peer: PeerState | undefined): void {
    this.followIdentity();
    if (peer !== undefined) peer.versionVector = message.versionVector;
    this.tracker.peerReported(message.from, message.versionVector);
    this.checkTips(message, peer);
    const mine = this.replica.versionVector();
    this.sendMissing(message.from, message.versionVector, message.heldPastGaps);
    const behind = !vvDominates(mine, message.versionVector);
    if (message.replyWanted || (behind && this.helloDue(peer))) this.sendHello(message.from, false);
  }

  private onOps(message: OpsMessage, peer: PeerState | undefined): void {
    this.counters.opsReceived += message.ops.length;
    this.apply(message.from, message.ops, undefined, (applied) => {
      const holes = applied.deferred > 0 || this.hasGap(message.ops);
      // An answer to our hello that left a hole, or whose sender said it holds more: ask for the next window now
      // (or once the hello backoff allows) instead of at the next tick, so a catch-up flows continuously; the
      // sender keeps at most responseFramesMax frames in flight. Pushes with a hole get a plain rate-limited ask.
      if (message.to !== undefined && peer !== undefined && (holes || this.stillBehind(peer))) this.askForMore(message.from, peer);
      else if (holes) this.askForMissing(message.from, peer);
    });
  }

  private onSnapshot(message: SnapshotMessage, peer: PeerState, bytes: number): void {
    this.counters.opsReceived += message.ops.length;
    const before = peer.transfer;
    const whole = addSnapshotPart(peer, message);
    // The buffered parts count against the bound every peer shares (made-up senders must not fill the heap).
    if (before !== undefined && before !== peer.transfer) this.slots.done(before);
    const pending = peer.transfer;
    if (pending !== undefined) {
      this.slots.hold(pending, bytes, this.scheduler.now(), () => {
        if (peer.transfer === pending) peer.transfer = undefined;
      });
    }
    if (whole !== undefined) this.apply(message.from, whole.ops, whole.horizon, () => this.askForMissing(message.from, peer));
  }

  /**
   * Compares the peer's tips with the ops held under the same ids: a mismatch is a reused id. Under our own id, and
   * for a vector claiming more of our ops than we wrote, someone else wrote ops under it (a forgery, or an earlier
   * device under this id): the replica moves to a fresh id (writing again what the peer may lack), rather than
   * writing on into ids the peer refuses.
   */
  private checkTips(message: HelloMessage, peer: PeerState | undefined): void {
    const me = this.replica.replicaId;
    let ownConflict: number | undefined;
    for (const [replica, [wall, logical]] of Object.entries(message.tips)) {
      const seq = message.versionVector[replica] as number;
      const held = this.replica.opById(replica, seq);
      if (held === undefined || (held.wall === wall && held.logical === logical)) continue;
      if (replica === me) ownConflict = seq;
      this.report(
        new OpIdConflictError(
          `op id ${replica}:${seq} is held here and at ${message.from} with different content: replica ${replica} reused sequence numbers (restored from a stale backup?)${replica === me ? '; this replica moves to a fresh id' : ''}`,
          { replica, seq, peer: message.from },
        ),
        message.from,
      );
    }
    const claimed = message.versionVector[me] ?? 0;
    const written = this.replica.versionVector()[me] ?? 0;
    const confirmed = peer?.ownConfirmed ?? 0;
    if (ownConflict !== undefined) {
      this.counters.forgedOwnOps += 1;
      this.rotate('own-id-conflict', Math.min(ownConflict, confirmed + 1));
    } else if (claimed > written) {
      this.counters.forgedOwnOps += 1;
      this.report(new ForgedOwnOpError(`${message.from} claims to hold ops of this replica (${me}) up to seq ${claimed}, but it wrote only ${written}: this replica moves to a fresh id`, { replica: me, seq: written + 1, claimed, peer: message.from }), message.from);
      this.rotate('forged-own-op', confirmed + 1);
    } else if (peer !== undefined && claimed > peer.ownConfirmed) {
      peer.ownConfirmed = claimed;
    }
  }

  /** Asks the replica to move to a fresh id (once per id, however many detections), re-issuing from `reissueFromSeq`. */
  private rotate(reason: 'forged-own-op' | 'own-id-conflict', reissueFromSeq: number): void {
    // Promise work in the replica, like a merge (a driver of virtual time counts on mergesStarted to see it).
    this.merges += 1;
    const work = this.replica.rotateIdentity({ expectedId: this.replica.replicaId, reason, reissueFromSeq }).then(
      () => this.followIdentity(),
      (error: unknown) => this.report(error, undefined),
    );
    this.track(work);
  }

  /**
   * Resets what this session knows about its own pushes when the replica moved to a fresh id: every peer holds
   * nothing under the new id yet. Then says hello, so the room learns the new id at once.
   */
  private followIdentity(): void {
    const id = this.replica.replicaId;
    if (id === this.identity) return;
    this.identity = id;
    this.counters.identityRotations += 1;
    this.pushes = new PushLog(id, this.resendAfterMs);
    for (const peer of this.peers.values()) {
      peer.pushFloor = 0;
      peer.pushSeen = 0;
      peer.ownConfirmed = 0;
      peer.sent = undefined;
    }
    if (this.running && this.connected) this.sendHello(undefined, true);
  }

  // ---- sending ------------------------------------------------------------

  private sendHello(to: string | undefined, replyWanted: boolean): void {
    if (!this.connected) return;
    if (to !== undefined) {
      const peer = this.peers.get(to);
      if (peer !== undefined) peer.lastHelloSentMs = this.scheduler.now();
    }
    const versionVector = this.replica.versionVector();
    const tips: Record<string, readonly [number, number]> = {};
    for (const [replica, seq] of Object.entries(versionVector)) {
      const op = this.replica.opById(replica, seq);
      if (op !== undefined) tips[replica] = [op.wall, op.logical];
    }
    // Ops refused for now (a clock too far ahead, a peer over its id budget) are listed with the ops held past
    // holes: an honest sender leaves both out of its answers until the refusal expires.
    const heldPastGaps = mergeRanges(heldRanges(this.replica.opsSince(versionVector)), this.refusals.pending(this.scheduler.now(), versionVector));
    const hello: HelloMessage = {
      type: 'hello',
      from: this.replica.replicaId,
      ...(to === undefined ? {} : { to }),
      versionVector,
      horizon: this.replica.horizon(),
      tips,
      ...(heldPastGaps === undefined ? {} : { heldPastGaps }),
      replyWanted,
    };
    for (const frame of helloFrames(hello, this.helloBytesMax, this.nextHelloId++)) this.sendFrame(frame, 0);
  }

  /** Sends `to` what its vector says it lacks: a snapshot transfer first if it is behind our horizon. */
  private sendMissing(to: string, theirs: VersionVector, held?: HelloMessage['heldPastGaps']): void {
    const horizon = this.replica.horizon();
    let framesLeft = this.responseFramesMax;
    const peer = this.peers.get(to);
    const nowMs = this.scheduler.now();
    if (!vvDominates(theirs, horizon)) {
      // The summary goes as one stable transfer per horizon (same id, same parts every time), so parts lost on
      // the way are filled in by the next retransmission instead of restarting the transfer from scratch.
      const snapshot = this.snapshots.partsFor(this.replica, horizon);
      if (peer === undefined || peer.snapshotSent?.transferId !== snapshot.transferId || nowMs - peer.snapshotSent.atMs >= this.resendAfterMs) {
        framesLeft -= this.sendSnapshot(to, horizon, snapshot);
        if (peer !== undefined) peer.snapshotSent = { transferId: snapshot.transferId, atMs: nowMs };
      }
      const tail = this.replica.opsSince(theirs).filter((op) => !vvCovers(horizon, op.replica, op.seq));
      if (framesLeft > 0) this.sendOps(to, tail, framesLeft);
      return;
    }
    if (peer?.sent !== undefined) {
      if (streamsAdvanced(peer.sent, theirs)) {
        // Every stream we had in flight to this peer moved: our frames are landing, so what is still on its way
        // is not late. (A lost frame stalls its replica's entry, and the record then expires as before.)
        peer.sent.acked = theirs;
        peer.sent.atMs = nowMs;
      } else if (nowMs - peer.sent.atMs >= this.resendAfterMs) {
        peer.sent = undefined;
      }
    }
    // A window per peer: ops sent and not yet reflected in its vector count against this answer's frames, so
    // a peer that asks again before the last answer landed gets only what keeps responseFramesMax frames in flight.
    if (peer?.sent !== undefined) framesLeft -= Math.ceil(opsAhead(peer.sent.vv, theirs) / this.batchOpsMax);
    if (framesLeft <= 0) return;
    const base = peer?.sent === undefined ? theirs : vvMerge(theirs, peer.sent.vv);
    const mine = this.replica.versionVector();
    const missing = this.missingFrom(base, mine, held, framesLeft * this.batchOpsMax, this.pushes.onTheirWay(peer, theirs, held, nowMs));
    if (missing.length === 0) return;
    const sent: Op[] = [];
    this.sendOps(to, missing, framesLeft, sent);
    if (peer === undefined || sent.length === 0) return;
    // Only a contiguous prefix counts as on its way: ops we hold past a hole of our own say nothing about the hole.
    const record = peer.sent ?? { vv: { ...theirs }, acked: theirs, atMs: nowMs };
    for (const op of sent) if (op.seq <= (mine[op.replica] ?? 0) && op.seq > (record.vv[op.replica] ?? 0)) record.vv[op.replica] = op.seq;
    peer.sent = record;
  }

  /**
   * Up to `opsMax` ops the holder of `base` lacks, leaving out those it listed in `held`. Per replica, the run
   * right after its vector entry goes first: those ops are certainly missing there and each one advances its
   * vector, so a truncated answer always makes progress instead of resending ops stranded past a hole (seed
   * 11033). Ops we hold past holes of our own come last. Reads only what it returns (plus `held` skips), not
   * the whole log: a peer far behind asks many times during a catch-up.
   */
  private missingFrom(base: VersionVector, mine: VersionVector, held: HelloMessage['heldPastGaps'], opsMax: number, onTheirWay?: readonly [number, number]): Op[] {
    const out: Op[] = [];
    for (const [replica, top] of Object.entries(mine)) {
      const ranges = held?.[replica];
      let range = 0;
      const own = onTheirWay !== undefined && replica === this.replica.replicaId;
      for (let seq = (base[replica] ?? 0) + 1; seq <= top && out.length < opsMax; seq++) {
        if (own && seq >= onTheirWay[0] && seq <= onTheirWay[1]) {
          seq = onTheirWay[1];
          continue;
        }
        while (ranges !== undefined && range < ranges.length && (ranges[range] as readonly [number, number])[1] < seq) range += 1;
        const skip = ranges?.[range];
        if (skip !== undefined && skip[0] <= seq) {
          seq = skip[1];
          continue;
        }
        const op = this.replica.opById(replica, seq);
        if (op !== undefined) out.push(op);
      }
    }
    if (out.length >= opsMax) return out;
    for (const op of this.replica.opsSince(mine)) {
      if (op.seq <= (base[op.replica] ?? 0) || isHeld(held, op)) continue;
      out.push(op);
      if (out.length >= opsMax) break;
    }
    return out;
  }

  private forgetSent(): void {
    // Pushes before a reconnect may never have left: none of them counts as on its way any more.
    const ownTop = this.replica.versionVector()[this.replica.replicaId] ?? 0;
    for (const peer of this.peers.values()) {
      peer.pushFloor = ownTop;
      peer.sent = undefined;
      peer.snapshotSent = undefined;
    }
  }

  private sendSnapshot(to: string, horizon: VersionVector, snapshot: SnapshotParts): number {
    const { transferId, chunks } = snapshot;
    if (chunks.length > SNAPSHOT_PARTS_MAX) {
      this.report(new InvalidArgumentError(`compaction summary needs ${chunks.length} parts; the limit is ${SNAPSHOT_PARTS_MAX}`), to);
      return 0;
    }
    chunks.forEach((ops, part) => {
      this.send({ type: 'snapshot', from: this.replica.replicaId, to, transferId, part, parts: chunks.length, horizon, ops }, ops.length);
    });
    return chunks.length;
  }

  private sendOps(to: string | undefined, ops: readonly Op[], framesMax: number, sent?: Op[]): void {
    const budget = { frames: framesMax };
    for (let start = 0; start < ops.length && budget.frames > 0; start += this.batchOpsMax) this.sendBatch(to, ops.slice(start, start + this.batchOpsMax), budget, sent);
  }

  /** Encodes a batch once; only a frame over `batchBytesMax` is split (in halves) and re-encoded. */
  private sendBatch(to: string | undefined, batch: readonly Op[], budget: { frames: number }, sent?: Op[]): void {
    if (budget.frames <= 0) return;
    const message: OpsMessage = to === undefined ? { type: 'ops', from: this.replica.replicaId, ops: batch } : { type: 'ops', from: this.replica.replicaId, to, ops: batch };
    const frame = encodeMessage(message);
    if (batch.length > 1 && frame.length > this.batchBytesMax + FRAME_OVERHEAD_BYTES) {
      const half = batch.length >>> 1;
      this.sendBatch(to, batch.slice(0, half), budget, sent);
      this.sendBatch(to, batch.slice(half), budget, sent);
      return;
    }
    budget.frames -= 1;
    if (this.sendFrame(frame, batch.length)) sent?.push(...batch);
  }

  private send(message: SyncMessage, opCount: number): void {
    if (!this.connected) return;
    this.sendFrame(encodeMessage(message), opCount);
  }

  private sendFrame(frame: Uint8Array, opCount: number): boolean {
    if (!this.connected) return false;
    this.counters.framesSent += 1;
    this.counters.bytesSent += frame.length;
    this.counters.opsSent += opCount;
    this.transport.send(frame);
    return true;
  }

  // ---- merging ------------------------------------------------------------

  /**
   * Merges a batch from `from`. Refusals that concern only some of its ops do not hold the rest back: ops stamped
   * too far ahead, or under new replica ids past the sender's budget, are refused for now (and listed in our hellos
   * until they may pass), and the rest is merged. `retry` is false for the second attempt.
   */
  private apply(from: string, ops: readonly Op[], horizon: VersionVector | undefined, after: (result: ApplyResult) => void, retry = true): void {
    // A summary is merged whole or not at all: the budget applies to ops frames only.
    const batch = horizon === undefined ? this.withinIdBudget(from, ops) : ops;
    if (batch.length === 0 && horizon === undefined) return;
    this.merges += 1;
    // A horizon comes with a snapshot transfer, which carries the sender's whole summary (see snapshotFor).
    const work = this.replica.applyRemote(batch, horizon === undefined ? {} : { horizon, completeSummary: true }).then(
      (result) => {
        this.counters.opsApplied += result.applied;
        if (result.deferred > 0) this.reportDeferred(from, result.deferred);
        if (this.running) after(result);
      },
      (error: unknown) => this.refused(error, from, batch, horizon, after, retry),
    );
    this.track(work);
  }

  private refused(error: unknown, from: string, ops: readonly Op[], horizon: VersionVector | undefined, after: (result: ApplyResult) => void, retry: boolean): void {
    this.report(error, from);
    if (error instanceof ClockDriftError) {
      const limitWall = error.details.limitWall as number;
      const nowMs = this.scheduler.now();
      const acceptable: Op[] = [];
      for (const op of ops) {
        if (op.wall <= limitWall || horizon !== undefined) {
          acceptable.push(op);
          continue;
        }
        // Retried once the op is within the bound: its wall minus the latest wall accepted now, in our time.
        this.refusals.record(op.replica, op.seq, nowMs + op.wall - limitWall);
        this.counters.clockDriftRefusals += 1;
      }
      if (horizon !== undefined) this.counters.clockDriftRefusals += ops.length;
      else if (retry && acceptable.length > 0) this.apply(from, acceptable, undefined, after, false);
      return;
    }
    if (error instanceof ForgedOwnOpError || (error instanceof OpIdConflictError && error.details.own === true)) {
      this.counters.forgedOwnOps += 1;
      this.followIdentity();
      // The replica moved to a fresh id before refusing: the same ops are another replica's now (a forged
      // continuation of our old id, or the ops of an earlier device under it), merged like any.
      if (retry && error instanceof ForgedOwnOpError && this.replica.replicaId !== error.details.replica) this.apply(from, ops, horizon, after, false);
    }
  }

  /** The batch without the ops under new replica ids past `from`'s budget (those are refused for now). */
  private withinIdBudget(from: string, ops: readonly Op[]): readonly Op[] {
    let fresh: Set<string> | undefined;
    let previous: string | undefined;
    // Ops come in runs per replica: one lookup per run.
    for (const op of ops) {
      if (op.replica === previous) continue;
      previous = op.replica;
      if (this.replica.knowsReplica(op.replica)) continue;
      fresh ??= new Set();
      fresh.add(op.replica);
    }
    if (fresh === undefined) return ops;
    const nowMs = this.scheduler.now();
    const { granted, retryInMs } = this.idBudget.take(from, fresh.size, nowMs);
    if (granted === fresh.size) return ops;
    const denied = new Set([...fresh].slice(granted));
    const kept: Op[] = [];
    for (const op of ops) {
      if (!denied.has(op.replica)) kept.push(op);
      else this.refusals.record(op.replica, op.seq, nowMs + retryInMs);
    }
    this.counters.replicaIdRefusals += ops.length - kept.length;
    this.report(
      new ReplicaIdBudgetError(`${from} sent ops under ${fresh.size} replica ids new here; its budget allowed ${granted}: ${ops.length - kept.length} ops refused for ${retryInMs} ms`, {
        peer: from,
        introduced: fresh.size,
        granted,
        retryInMs,
      }),
      from,
    );
    return kept;
  }

  private reportDeferred(from: string, deferred: number): void {
    this.counters.opsDeferred += deferred;
    this.report(new SeqGapError(`${deferred} op(s) from ${from} lie more than SEQ_GAP_MAX seqs past what this replica holds of their writer: not stored`, { peer: from, deferred }), from);
  }

  private track(work: Promise<unknown>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /** True when an op of the batch sits above a hole in our log: something before it was lost. */
  private hasGap(ops: readonly Op[]): boolean {
    if (!this.running) return false;
    const mine = this.replica.versionVector();
    for (const op of ops) if (!vvCovers(mine, op.replica, op.seq)) return true;
    return false;
  }

  private askForMissing(from: string, peer: PeerState | undefined): void {
    if (this.running && this.helloDue(peer)) this.sendHello(from, false);
  }

  /** True when `peer` said (in its latest hello) it holds ops we lack. */
  private stillBehind(peer: PeerState | undefined): boolean {
    return this.running && this.connected && peer?.versionVector !== undefined && !vvDominates(this.replica.versionVector(), peer.versionVector);
  }

  /**
   * Asks `from` for the rest of its answer: now if the hello backoff allows, else once it does (one timer per
   * peer), so the catch-up does not stall when the last frames in flight land inside the backoff.
   */
  private askForMore(from: string, peer: PeerState): void {
    if (peer.askTimer !== undefined) return;
    if (this.helloDue(peer)) {
      this.sendHello(from, false);
      return;
    }
    peer.askTimer = this.scheduler.setTimer(this.helloBackoffMs, () => {
      peer.askTimer = undefined;
      if (this.running && this.connected) this.askForMore(from, peer);
    });
  }

  // ---- bookkeeping --------------------------------------------------------

  /**
   * Unsolicited hellos (gap repair, "you have more than me") are limited to one per `helloBackoffMs` in
   * all: any one peer answers with everything we lack, so asking every peer that shows a gap would make
   * each of them send the same ops (N^2 frames in a large room after a partition heals).
   */
  private helloDue(peer: PeerState | undefined): boolean {
    const nowMs = this.scheduler.now();
    if (nowMs - this.lastRepairHelloMs < this.helloBackoffMs) return false;
    if (peer !== undefined && nowMs - peer.lastHelloSentMs < this.helloBackoffMs) return false;
    this.lastRepairHelloMs = nowMs;
    return true;
  }

  private peer(id: string): PeerState {
    return this.peers.touch(id, this.scheduler.now(), () => this.replica.versionVector()[this.replica.replicaId] ?? 0);
  }

  private scheduleTick(): void {
    if (this.antiEntropyIntervalMs === 0 || !this.running) return;
    this.cancelTick = this.scheduler.setTimer(this.antiEntropyIntervalMs, () => {
      this.cancelTick = undefined;
      this.tick();
      this.scheduleTick();
    });
  }

  /** One anti-entropy round: a hello to a peer known to hold ops we lack, else the next in turn (to everyone until a peer is known). */
  private tick(): void {
    if (!this.running || !this.connected) return;
    const ids = this.peers.ids();
    if (ids.length === 0) {
      this.sendHello(undefined, true);
      return;
    }
    // Prefer the next peer (in turn) known to hold ops we lack; otherwise plain round robin. Either way skip a peer
    // that went silent: asked, and not heard from for two ticks (a dead device's last hello would win every tick).
    const mine = this.replica.versionVector();
    const nowMs = this.scheduler.now();
    let to: string | undefined;
    let lacking: string | undefined;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[(this.roundRobin + i) % ids.length] as string;
      const peer = this.peers.get(id) as PeerState;
      if (peer.lastHelloSentMs > peer.lastHeardMs && nowMs - peer.lastHeardMs > 2 * this.antiEntropyIntervalMs) continue;
      to ??= id;
      if (peer.versionVector !== undefined && !vvDominates(mine, peer.versionVector)) {
        lacking = id;
        break;
      }
    }
    this.roundRobin += 1;
    // Every peer silent: ask the whole room (whoever is still there answers).
    this.sendHello(lacking ?? to, true);
  }

  private report(error: unknown, from: string | undefined): void {
    if (error instanceof ReplicaClosedError) return; // the replica went away (shutdown, simulated crash): nothing to report
    const code = error instanceof TidelogError ? error.code : 'INTERNAL';
    if (code === 'OP_ID_CONFLICT') this.counters.opIdConflicts += 1;
    else if (!COUNTED_ELSEWHERE.has(code)) this.counters.applyFailures += 1;
    const entry: SyncError = { code, message: (error as Error)?.message ?? String(error), atMs: this.scheduler.now(), ...(from === undefined ? {} : { from }) };
    this.lastError = entry;
    try {
      this.options.onError?.(entry);
    } catch {
      // A faulty error callback must not break the transport's callback chain.
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return value;
}
