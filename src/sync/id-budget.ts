/**
 * The budget of new replica ids: how many ids this replica has never seen a peer may introduce, per peer and in
 * all, per time. Every id costs every peer a version-vector entry in every hello, forever, so a room member that
 * writes under thousands of made-up ids (5,000 made each hello 1.35 MB, over the relay's 1 MiB frame limit) must not
 * be able to do it at once. Token buckets: a burst, refilled per minute. Ops under ids over the budget are refused
 * for now and come again with a later answer, once the bucket has refilled.
 */

/** The budget's limits. */
export interface ReplicaIdBudgetLimits {
  /** New ids one peer may introduce at once. */
  readonly perPeerBurst: number;
  /** New ids one peer may introduce per minute after its burst. */
  readonly perPeerPerMinute: number;
  /** New ids all peers together may introduce at once (peer ids themselves cost nothing to invent). */
  readonly totalBurst: number;
  /** New ids all peers together may introduce per minute after the burst. */
  readonly totalPerMinute: number;
}

/** The defaults: a device joining a room of 1,024 replica ids from one peer catches up at once; an attacker adds 256 a minute. */
export const REPLICA_ID_BUDGET_DEFAULTS: ReplicaIdBudgetLimits = { perPeerBurst: 1_024, perPeerPerMinute: 256, totalBurst: 4_096, totalPerMinute: 1_024 };

/** Most peers whose buckets are remembered (a full bucket needs no entry: forgetting one only refills it early). */
const BUCKETS_MAX = 1_024;

class Bucket {
  constructor(
    private tokens: number,
    private atMs: number,
  ) {}

  /** Tokens available at `nowMs` (refilled at `perMinute`, up to `burst`). */
  available(nowMs: number, burst: number, perMinute: number): number {
    this.tokens = Math.min(burst, this.tokens + (Math.max(0, nowMs - this.atMs) * perMinute) / 60_000);
    this.atMs = nowMs;
    return Math.floor(this.tokens);
  }

  take(count: number): void {
    this.tokens -= count;
  }

  /** Ms until one more token is available at `perMinute`. */
  waitMs(perMinute: number): number {
    return Math.ceil(((1 - (this.tokens - Math.floor(this.tokens))) * 60_000) / perMinute);
  }
}

/** Per-peer and total buckets of new replica ids. */
export class ReplicaIdBudget {
  private readonly peers = new Map<string, Bucket>();
  private readonly total: Bucket;

  constructor(
    private readonly limits: ReplicaIdBudgetLimits,
    nowMs: number,
  ) {
    this.total = new Bucket(limits.totalBurst, nowMs);
  }

  /**
   * Grants up to `wanted` new ids to `peer` at `nowMs` and takes them from its bucket and the total.
   * Returns how many were granted, and (when fewer than wanted) how long until the next one would be.
   */
  take(peer: string, wanted: number, nowMs: number): { granted: number; retryInMs: number } {
    const { perPeerBurst, perPeerPerMinute, totalBurst, totalPerMinute } = this.limits;
    let bucket = this.peers.get(peer);
    if (bucket === undefined) {
      if (this.peers.size >= BUCKETS_MAX) this.peers.delete(this.peers.keys().next().value as string);
      bucket = new Bucket(perPeerBurst, nowMs);
      this.peers.set(peer, bucket);
    }
    const granted = Math.min(wanted, bucket.available(nowMs, perPeerBurst, perPeerPerMinute), this.total.available(nowMs, totalBurst, totalPerMinute));
    bucket.take(granted);
    this.total.take(granted);
    if (granted === wanted) return { granted, retryInMs: 0 };
    return { granted, retryInMs: Math.max(bucket.waitMs(perPeerPerMinute), this.total.waitMs(totalPerMinute)) };
  }
}
