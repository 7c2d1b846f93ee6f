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
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Waiter[]>();

  /** Names currently held (for assertions). */
  heldNames(): string[] {
    return [...this.held];
  }

  request(name: string, options: { readonly mode: 'exclusive'; readonly signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const run = (): void => {
        this.held.add(name);
        callback({ name, mode: options.mode }).then(resolve, reject).finally(() => this.release(name));
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
