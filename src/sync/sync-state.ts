/**
 * Sync state as a value and as events: is the transport up, how many ops written here no peer has confirmed
 * holding yet, and the version vector the peer heard from last reported. What an app needs to say "all changes
 * saved" or "3 changes waiting" honestly. Peers confirm in their hellos (on connect, in answers, and in the
 * periodic anti-entropy hello); the relay keeps no state of its own, so only a peer can confirm.
 */
import type { OpsEvent } from '../core/commit-pipeline.js';
import type { VersionVector } from '../core/version-vector.js';

/** What a sync session tells about its progress. */
export interface SyncState {
  /** Whether the transport is up (frames sent now are likely to go out). */
  readonly connected: boolean;
  /** Ops written here (under this replica's own ids) that no peer has confirmed holding. */
  readonly pendingOps: number;
  /** The peer heard from last (in a hello) and the version vector it reported; undefined until one was. */
  readonly lastPeer: { readonly id: string; readonly versionVector: VersionVector } | undefined;
}

/** What the tracker reads: the replica's own vector. */
interface VectorSource {
  versionVector(): VersionVector;
}

/**
 * Keeps a {@link SyncState} current from what a session sees. `isOwn` says which replica ids count as written
 * here (a replica's own id; a browser's tab leader adds the ids its tabs write under).
 */
export class SyncStateTracker {
  private readonly listeners = new Set<(state: SyncState) => void>();
  /** Per own id, the highest seq any peer has reported holding. */
  private readonly confirmed = new Map<string, number>();
  private state: SyncState = { connected: false, pendingOps: 0, lastPeer: undefined };

  constructor(
    private readonly replica: VectorSource,
    readonly isOwn: (replicaId: string) => boolean,
  ) {}

  /** The state now: the same object until something in it changes. */
  current(): SyncState {
    return this.state;
  }

  /** Calls `listener` on every change of the state (not at once). Returns the unsubscribe function. */
  subscribe(listener: (state: SyncState) => void): () => void {
    const entry = (state: SyncState): void => listener(state);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  /** The transport went up or down. */
  connection(connected: boolean): void {
    if (connected !== this.state.connected) this.update({ ...this.state, connected });
  }

  /** A peer's hello said what it holds. */
  peerReported(id: string, versionVector: VersionVector): void {
    for (const replica in versionVector) {
      if (!this.isOwn(replica)) continue;
      const seq = versionVector[replica] as number;
      if (seq > (this.confirmed.get(replica) ?? 0)) this.confirmed.set(replica, seq);
    }
    this.update({ ...this.state, pendingOps: this.pending(), lastPeer: { id, versionVector } });
  }

  /** A commit happened; only one with ops under our own ids can change the count. */
  committed(event: OpsEvent): void {
    const { ops } = event;
    let own = event.origin === 'local';
    for (let i = 0; !own && i < ops.length; i++) own = this.isOwn(ops[i]?.replica as string);
    if (!own) return;
    this.recount();
  }

  /** Counts the pending ops afresh (for commits nobody told the tracker about: before the session started). */
  recount(): void {
    let pendingOps: number;
    try {
      pendingOps = this.pending();
    } catch {
      return; // the replica is closed: the last count stands
    }
    if (pendingOps !== this.state.pendingOps) this.update({ ...this.state, pendingOps });
  }

  private pending(): number {
    const mine = this.replica.versionVector();
    let count = 0;
    for (const replica in mine) if (this.isOwn(replica)) count += Math.max(0, (mine[replica] as number) - (this.confirmed.get(replica) ?? 0));
    return count;
  }

  private update(next: SyncState): void {
    const prev = this.state;
    if (prev.connected === next.connected && prev.pendingOps === next.pendingOps && prev.lastPeer?.id === next.lastPeer?.id && prev.lastPeer?.versionVector === next.lastPeer?.versionVector) return;
    this.state = Object.freeze(next);
    for (const listener of [...this.listeners]) {
      try {
        listener(this.state);
      } catch (error) {
        // A failing listener must not break the session's frame handling.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
