/**
 * The single writer: one queue, drained by one loop, so two commits never
 * interleave. Items that arrive while a commit is in flight are committed
 * together (group commit), and the queue is bounded (backpressure).
 */

/** The outcome of an item that failed on its own (the others of its group may have succeeded). */
export class ItemFailure {
  constructor(
    /** What its submitter's promise rejects with. */
    readonly error: unknown,
  ) {}
}

/**
 * Commits a group of items; per item its value (what its submitter's promise resolves with) or an
 * {@link ItemFailure}, or a throw that fails them all. A plain value per item, not a wrapper: the hot path
 * commits thousands of writes per group, and a wrapper each was one more object per write to collect.
 */
export type CommitGroup<T> = (group: readonly T[]) => Promise<readonly unknown[]>;

/** Limits of a {@link CommitQueue}. */
export interface CommitQueueLimits {
  /** Ops that may wait in the queue before writers are made to wait. */
  readonly pendingOpsMax: number;
  /** Ops per group (one storage append); an item larger than this still goes alone. */
  readonly groupOpsMax: number;
}

interface Entry<T> {
  readonly item: T;
  readonly opCount: number;
  /** An exclusive item (a snapshot) is committed in a group of its own. */
  readonly exclusive: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

let capturedResolve: ((value: never) => void) | undefined;
let capturedReject: ((error: unknown) => void) | undefined;

/** The executor of every submit's promise: runs synchronously inside `new Promise`, so the slots are read right after. */
function captureResolvers(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** A bounded FIFO of commit items drained by a single owner. */
export class CommitQueue<T> {
  private pending: Entry<T>[] = [];
  /** Writers waiting for room, oldest first; `blockedHead` avoids O(n) shifts on long waits. */
  private blocked: Entry<T>[] = [];
  private blockedHead = 0;
  private blockedOps = 0;
  private pendingOps = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];

  constructor(
    private readonly commit: CommitGroup<T>,
    private readonly limits: CommitQueueLimits,
  ) {}

  /** Ops waiting or blocked (for status displays). */
  get backlog(): number {
    return this.pendingOps + this.blockedOps;
  }

  /** Queues an item; resolves with its outcome once its group is committed. */
  submit<R>(item: T, opCount: number, exclusive = false): Promise<R> {
    // One shared executor instead of a closure per write: it hands over the resolvers through two module slots.
    const promise = new Promise<R>(captureResolvers);
    const entry: Entry<T> = { item, opCount, exclusive, resolve: capturedResolve as (value: unknown) => void, reject: capturedReject as (error: unknown) => void };
    // Blocked writers keep their order: nobody overtakes a writer already waiting.
    if (this.blockedHead < this.blocked.length || (this.pendingOps > 0 && this.pendingOps + opCount > this.limits.pendingOpsMax)) {
      this.blocked.push(entry);
      this.blockedOps += opCount;
    } else {
      this.admit(entry);
    }
    this.kick();
    return promise;
  }

  /**
   * Resolves once the backlog is under `pendingOpsMax`. A producer that does not await each
   * write awaits this before each one instead, so its memory stays bounded while commits pipeline.
   */
  ready(): Promise<void> {
    if (this.backlog < this.limits.pendingOpsMax) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves once nothing is queued or being committed. */
  idle(): Promise<void> {
    if (!this.running && this.pending.length === 0 && this.blockedHead === this.blocked.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private admit(entry: Entry<T>): void {
    this.pending.push(entry);
    this.pendingOps += entry.opCount;
  }

  private wakeProducers(): void {
    if (this.roomWaiters.length === 0 || this.backlog >= this.limits.pendingOpsMax) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private releaseBlocked(): void {
    while (this.blockedHead < this.blocked.length) {
      const next = this.blocked[this.blockedHead] as Entry<T>;
      if (this.pendingOps > 0 && this.pendingOps + next.opCount > this.limits.pendingOpsMax) break;
      this.blockedHead += 1;
      this.blockedOps -= next.opCount;
      this.admit(next);
    }
    if (this.blockedHead === this.blocked.length) {
      this.blocked = [];
      this.blockedHead = 0;
    } else if (this.blockedHead > 4096 && this.blockedHead * 2 > this.blocked.length) {
      this.blocked = this.blocked.slice(this.blockedHead);
      this.blockedHead = 0;
    }
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  private takeGroup(): Entry<T>[] {
    const first = this.pending[0] as Entry<T>;
    let count = 1;
    let ops = first.opCount;
    if (!first.exclusive) {
      while (count < this.pending.length) {
        const next = this.pending[count] as Entry<T>;
        if (next.exclusive || ops + next.opCount > this.limits.groupOpsMax) break;
        ops += next.opCount;
        count += 1;
      }
    }
    this.pendingOps -= ops;
    if (count === this.pending.length) {
      const group = this.pending;
      this.pending = [];
      return group;
    }
    return this.pending.splice(0, count);
  }

  private async run(): Promise<void> {
    // Yield once so writers issued in the same tick join the first group.
    await null;
    while (this.pending.length > 0) {
      const group = this.takeGroup();
      this.releaseBlocked();
      this.wakeProducers();
      let outcomes: readonly unknown[];
      try {
        outcomes = await this.commit(group.map((entry) => entry.item));
      } catch (error) {
        outcomes = group.map(() => new ItemFailure(error));
      }
      for (let i = 0; i < group.length; i++) {
        const entry = group[i] as Entry<T>;
        const outcome = outcomes[i];
        if (outcome instanceof ItemFailure) entry.reject(outcome.error);
        else entry.resolve(outcome);
      }
      this.releaseBlocked();
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
