/**
 * Which todos have a local write that is not durable yet ("saving…"): a tiny external store, read by the list
 * through `useSyncExternalStore`.
 */

/** Counts writes in flight per todo id. */
export class SavingStore {
  private readonly counts = new Map<string, number>();
  private snapshot: ReadonlySet<string> = new Set();
  private readonly listeners = new Set<() => void>();

  /** Ids with a write in flight (a new object after each change). */
  current = (): ReadonlySet<string> => this.snapshot;

  /** Listens to changes; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  /** Tracks one write of `ids` until `write` settles. */
  track<T>(ids: readonly string[], write: Promise<T>): Promise<T> {
    for (const id of ids) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    this.changed();
    const settle = (): void => {
      for (const id of ids) {
        const left = (this.counts.get(id) ?? 1) - 1;
        if (left === 0) this.counts.delete(id);
        else this.counts.set(id, left);
      }
      this.changed();
    };
    return write.finally(settle);
  }

  private changed(): void {
    this.snapshot = new Set(this.counts.keys());
    for (const listener of [...this.listeners]) listener();
  }
}
