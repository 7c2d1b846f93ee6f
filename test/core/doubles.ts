/** Storage test doubles: one whose appends wait for the test to release them, one that fails on demand. */
import { MemoryStorage, type Op, StorageFailedError } from '../../src/core/index.js';

/** A MemoryStorage whose `append` resolves only when the test calls `releaseOne`/`releaseAll`. */
export class GatedStorage extends MemoryStorage {
  /** Every batch passed to append, in order (released or not). */
  readonly appended: (readonly Op[])[] = [];
  private gates: (() => void)[] = [];

  override async append(batch: readonly Op[]): Promise<void> {
    this.appended.push(batch);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    await super.append(batch);
  }

  /** Appends waiting for release. */
  get waiting(): number {
    return this.gates.length;
  }

  /** Lets the oldest waiting append complete. */
  releaseOne(): void {
    this.gates.shift()?.();
  }

  /** Lets every waiting append complete. */
  releaseAll(): void {
    const gates = this.gates;
    this.gates = [];
    for (const gate of gates) gate();
  }
}

/** A MemoryStorage whose next `failNext` appends throw (a plain Error, as an I/O layer would). */
export class FlakyStorage extends MemoryStorage {
  failNext = 0;
  failSnapshot = false;
  appendCalls = 0;

  override async append(batch: readonly Op[]): Promise<void> {
    this.appendCalls += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('disk full (simulated)');
    }
    await super.append(batch);
  }

  override async writeSnapshot(snapshot: Parameters<MemoryStorage['writeSnapshot']>[0]): Promise<void> {
    if (this.failSnapshot) throw new StorageFailedError('snapshot write failed (simulated)');
    await super.writeSnapshot(snapshot);
  }
}

/** Lets queued microtasks and promise chains run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await null;
}

/** Captures what a rejected promise or throwing call produced, for code checks. */
export async function errorOf(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

/** Everything observable about a replica's state, to check that a rejected call changed nothing. */
export function observe(replica: {
  entries(): [string, unknown][];
  versionVector(): unknown;
  horizon(): unknown;
  size: number;
}): string {
  return JSON.stringify({ entries: replica.entries(), vv: replica.versionVector(), horizon: replica.horizon(), size: replica.size });
}
