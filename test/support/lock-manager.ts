/**
 * An in-memory stand-in for the Web Locks API (`navigator.locks`), which Node 20
 * lacks: exclusive locks granted in request order, held until the callback's
 * promise settles, a waiting request withdrawn when its signal aborts (rejecting
 * with an AbortError), as the spec says. Real Chromium runs the same code in the
 * browser suite.
 */
import type { LockManagerLike } from '../../src/storage/indexeddb/index.js';

interface Waiter {
  readonly grant: () => void;
}

/** Exclusive locks only, which is all `IndexedDbStorage` asks for. */
export class MemoryLockManager implements LockManagerLike {
  /** Name -> the grant holding it (a crash hands the lock on while the dead holder's callback never settles). */
  private readonly held = new Map<string, object>();
  private readonly queues = new Map<string, Waiter[]>();

  /** Names currently held (for assertions). */
  heldNames(): string[] {
    return [...this.held.keys()];
  }

  /** What the browser does when the holder's tab crashes: the lock goes to the next request, whatever the holder does. */
  crash(name: string): void {
    if (this.held.has(name)) this.release(name);
  }

  request(name: string, options: { readonly mode: 'exclusive'; readonly signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const run = (): void => {
        const grant = {};
        this.held.set(name, grant);
        callback({ name, mode: options.mode })
          .then(resolve, reject)
          .finally(() => {
            if (this.held.get(name) === grant) this.release(name);
          });
      };
      if (!this.held.has(name)) {
        run();
        return;
      }
      const waiter: Waiter = { grant: run };
      const queue = this.queues.get(name) ?? [];
      queue.push(waiter);
      this.queues.set(name, queue);
      options.signal?.addEventListener('abort', () => {
        const index = queue.indexOf(waiter);
        if (index === -1) return;
        queue.splice(index, 1);
        reject(Object.assign(new Error('the lock request was aborted'), { name: 'AbortError' }));
      });
    });
  }

  private release(name: string): void {
    this.held.delete(name);
    const next = this.queues.get(name)?.shift();
    next?.grant();
  }
}
