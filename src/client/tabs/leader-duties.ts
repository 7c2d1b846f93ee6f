/**
 * What the leader tab does for the others: answers their hellos with what they lack, commits their writes (each
 * tab writes under an id of its own, so a write resent after a leader crash is recognised by its op ids and
 * applied once), and tells every tab about each commit and each change of the sync state.
 */
import { InvalidArgumentError, TidelogError } from '../../core/errors.js';
import type { Op } from '../../core/op.js';
import type { Replica } from '../../core/replica.js';
import type { SyncState } from '../../sync/sync-state.js';
import type { TabMessage } from './protocol.js';

/** The separator between the database's replica id and a tab's writer suffix: `<dbReplicaId>~<random>`. */
export const TAB_WRITER_SEPARATOR = '~';

/** True when `writerId` names a writer tab of the database `dbReplicaId`. */
export function isTabWriterOf(dbReplicaId: string, writerId: string): boolean {
  return writerId.length > dbReplicaId.length + 1 && writerId.startsWith(dbReplicaId + TAB_WRITER_SEPARATOR);
}

/** How a write's outcome goes back to its tab. */
type Reply = (writeId: number, error?: { code: string; message: string }) => void;

interface WriterQueue {
  readonly waiting: { readonly writeId: number; readonly ops: readonly Op[]; readonly reply: Reply }[];
  running: boolean;
  /** The lowest seq of a write that failed: later writes of this writer are refused, so its ids never skip one. */
  failedFrom: number | undefined;
}

/** The leader's side of the tab protocol, over the database replica it holds. */
export class LeaderDuties {
  private readonly writers = new Map<string, WriterQueue>();
  private readonly followers = new Set<string>();
  private unsent: Op[] = [];
  private flushQueued = false;
  private readonly stopOps: () => void;

  constructor(
    private readonly db: Replica,
    private readonly tabId: string,
    private readonly post: (message: TabMessage) => void,
    private readonly syncState: () => SyncState,
  ) {
    this.stopOps = db.subscribeOps((event) => this.onCommit(event.ops));
  }

  /** Tells every tab that this one leads now. */
  announce(): void {
    this.post({ type: 'leader', from: this.tabId, dbReplicaId: this.db.replicaId });
  }

  /** Handles a message from another tab. */
  handle(message: TabMessage): void {
    if (message.type === 'hello') {
      this.followers.add(message.from);
      this.flush();
      const versionVector = message.versionVector ?? {};
      this.post({
        type: 'state',
        from: this.tabId,
        to: message.from,
        dbReplicaId: this.db.replicaId,
        ops: this.db.opsSince(versionVector),
        horizon: this.db.horizon(),
        completeSummary: Object.keys(versionVector).length === 0,
        sync: this.syncState(),
      });
    } else if (message.type === 'write') {
      this.followers.add(message.from);
      this.commit(message.ops, message.writeId, (writeId, error) => {
        this.post({ type: 'ack', from: this.tabId, to: message.from, writeId, ...(error === undefined ? {} : { error }) });
      });
    } else if (message.type === 'bye') {
      this.followers.delete(message.from);
    }
  }

  /** Tells every tab the new sync state. */
  syncChanged(state: SyncState): void {
    if (this.followers.size > 0) this.post({ type: 'sync', from: this.tabId, state });
  }

  /**
   * Commits a tab's write (also the leader's own, left over from when it was a follower) and replies once it is
   * durable. One writer's writes commit in order, those that arrived meanwhile together.
   */
  commit(ops: readonly Op[], writeId: number, reply: Reply): void {
    const writer = ops[0]?.replica;
    if (writer === undefined || !ops.every((op) => op?.replica === writer) || !isTabWriterOf(this.db.replicaId, writer)) {
      reply(writeId, { code: 'INVALID_ARGUMENT', message: `a tab's write must be ops under one writer id of this database (${this.db.replicaId}${TAB_WRITER_SEPARATOR}...)` });
      return;
    }
    let queue = this.writers.get(writer);
    if (queue === undefined) {
      queue = { waiting: [], running: false, failedFrom: undefined };
      this.writers.set(writer, queue);
    }
    queue.waiting.push({ writeId, ops, reply });
    if (!queue.running) void this.drain(queue);
  }

  private async drain(queue: WriterQueue): Promise<void> {
    queue.running = true;
    while (queue.waiting.length > 0) {
      const items = queue.waiting.splice(0);
      const failedFrom = queue.failedFrom;
      const refused = failedFrom === undefined ? [] : items.filter((item) => item.ops.some((op) => op.seq >= failedFrom));
      const taken = items.filter((item) => !refused.includes(item));
      let error: { code: string; message: string } | undefined;
      if (taken.length > 0) {
        const ops = taken.flatMap((item) => item.ops);
        try {
          const result = await this.db.applyRemote(ops);
          if (result.deferred > 0) throw new InvalidArgumentError(`${result.deferred} ops of a tab's write lie too far past its earlier ones`);
        } catch (failure) {
          queue.failedFrom = Math.min(queue.failedFrom ?? Number.POSITIVE_INFINITY, ...ops.map((op) => op.seq));
          error = { code: failure instanceof TidelogError ? failure.code : 'INTERNAL', message: (failure as Error)?.message ?? String(failure) };
        }
      }
      // The committed ops go out before the acks, so a tab has them when its write resolves.
      this.flush();
      for (const item of taken) item.reply(item.writeId, error);
      for (const item of refused) item.reply(item.writeId, { code: 'STORAGE_FAILED', message: 'an earlier write of this tab failed, so this one was not committed' });
    }
    queue.running = false;
  }

  private onCommit(ops: readonly Op[]): void {
    if (this.followers.size === 0) return;
    for (const op of ops) this.unsent.push(op);
    if (this.flushQueued) return;
    this.flushQueued = true;
    // One message per turn of the event loop's microtasks: a burst of commits costs one structured clone.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.unsent.length === 0) return;
    const ops = this.unsent;
    this.unsent = [];
    this.post({ type: 'ops', from: this.tabId, ops });
  }

  /** Stops listening to the database (which its owner closes). */
  stop(): void {
    this.flush();
    this.stopOps();
  }
}
