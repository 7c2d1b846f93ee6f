/**
 * Group commit at the file level: every append waits for an fdatasync that
 * started after its bytes were written, and all appends that arrive while one
 * sync runs share the next. One sync in flight at a time, so N concurrent
 * writers cost about two syncs, not N.
 */

/** Coalesces sync requests onto as few `sync()` calls as correctness allows. */
export class GroupSync {
  private inFlight: Promise<void> | undefined;
  private next: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** Syncs performed (for stats and benchmarks). */
  syncCount = 0;

  constructor(private readonly sync: () => Promise<void>) {}

  /** Resolves once an fdatasync that began after this call has completed. */
  request(): Promise<void> {
    if (this.inFlight === undefined) return this.start();
    // A sync already running may have started before our write reached the file: wait for the next one.
    if (this.next === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.next = { promise, resolve, reject };
    }
    return this.next.promise;
  }

  /** True while a sync runs (one may be queued behind it). */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Resolves when no sync is running or queued. */
  async idle(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight.catch(() => undefined);
  }

  private start(): Promise<void> {
    this.syncCount += 1;
    const run = this.sync().finally(() => {
      this.inFlight = undefined;
      const waiting = this.next;
      this.next = undefined;
      if (waiting !== undefined) this.start().then(waiting.resolve, waiting.reject);
    });
    this.inFlight = run;
    return run;
  }
}
