/**
 * The peers a sync session knows: what each said it holds, what was sent to it, and the timers and transfers
 * in progress with it. Bounded: when full, the peer heard from least recently makes room for a new one, so a
 * room that churns through ids (every reincarnation of a device adds one) never stops tracking live peers.
 */
import type { VersionVector } from '../core/version-vector.js';
import type { PendingHello } from './hello-parts.js';
import type { PendingTransfer } from './snapshot-transfer.js';
import type { CancelTimer } from './scheduler.js';

/** What a session keeps about one peer. */
export interface PeerState {
  lastHelloSentMs: number;
  /** When a frame of this peer was last handled (the eviction order). */
  lastHeardMs: number;
  transfer: PendingTransfer | undefined;
  /** The parts of a split hello received so far. */
  hello: PendingHello | undefined;
  /** What the peer said it holds in its latest hello. */
  versionVector: VersionVector | undefined;
  /** The snapshot transfer last sent to this peer, and when. */
  snapshotSent: { transferId: number; atMs: number } | undefined;
  /**
   * What we answered this peer with lately: per replica, the seq up to which it should now hold ops (`vv`);
   * what the peer held when the record was last confirmed alive (`acked`), and when (`atMs`).
   */
  sent: { vv: Record<string, number>; acked: VersionVector; atMs: number } | undefined;
  /** A hello asking this peer for the rest of an answer, waiting for the hello backoff. */
  askTimer: CancelTimer | undefined;
  /**
   * Our own seq when this peer was first heard from (or when the transport last came up): only pushes above it
   * went out while the peer was in the room, so only those can be on their way to it.
   */
  pushFloor: number;
  /** The highest entry for our replica that the peer's hellos have shown so far. */
  pushSeen: number;
  /** The highest of our own seqs this peer showed with our content (its tip matched, or it was below our tip). */
  ownConfirmed: number;
}

/** Peers by replica id, in first-heard order, at most `peersMax` of them. */
export class PeerTable {
  private readonly peers = new Map<string, PeerState>();
  /** Peers dropped to make room, since the session started. */
  evicted = 0;

  constructor(private readonly peersMax: number) {}

  /** Number of peers tracked. */
  get size(): number {
    return this.peers.size;
  }

  /** The peer `id`, if tracked. */
  get(id: string): PeerState | undefined {
    return this.peers.get(id);
  }

  /**
   * The peer `id`, tracked from now on if it was not (`pushFloor` tells our own seq then), marked as heard at `nowMs`.
   * When the table is full, the peer heard from least recently is dropped first.
   */
  touch(id: string, nowMs: number, pushFloor: () => number): PeerState {
    let peer = this.peers.get(id);
    if (peer === undefined) {
      if (this.peers.size >= this.peersMax) this.evictStalest();
      peer = {
        lastHelloSentMs: Number.NEGATIVE_INFINITY,
        lastHeardMs: nowMs,
        transfer: undefined,
        hello: undefined,
        versionVector: undefined,
        sent: undefined,
        snapshotSent: undefined,
        askTimer: undefined,
        pushFloor: pushFloor(),
        pushSeen: 0,
        ownConfirmed: 0,
      };
      this.peers.set(id, peer);
    }
    peer.lastHeardMs = nowMs;
    return peer;
  }

  /** Peer ids in first-heard order. */
  ids(): string[] {
    return [...this.peers.keys()];
  }

  /** Every tracked peer. */
  values(): IterableIterator<PeerState> {
    return this.peers.values();
  }

  /** `[id, peer]` pairs in first-heard order. */
  entries(): IterableIterator<[string, PeerState]> {
    return this.peers.entries();
  }

  private evictStalest(): void {
    let stalest: [string, PeerState] | undefined;
    for (const entry of this.peers) if (stalest === undefined || entry[1].lastHeardMs < stalest[1].lastHeardMs) stalest = entry;
    if (stalest === undefined) return;
    stalest[1].askTimer?.();
    this.peers.delete(stalest[0]);
    this.evicted += 1;
  }
}
