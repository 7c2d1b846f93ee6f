/**
 * Live queries: a key range (`LiveQuery`) or one key (`LiveValue`) whose current result is a value, and whose
 * subscribers get that result at once and then every change to it, never an event that changes nothing. Both
 * read any {@link LiveSource}: a replica, or a browser tab's handle over whichever replica it reads right now.
 */
import { InvalidArgumentError } from './errors.js';
import { type JsonValue, jsonEqual } from './json.js';
import { inKeyRange, type KeyRange } from './key-index.js';
import type { KeyChange } from './state.js';

/** A range query: keys starting with `prefix`, from `start` (inclusive) to `end` (exclusive), at most `limit`, in key order. */
export interface QueryOptions extends KeyRange {
  /** Most entries in the result (the first ones in key order). Unlimited by default. */
  readonly limit?: number;
}

/** One `[key, value]` pair of a query result. */
export type QueryEntry = readonly [key: string, value: JsonValue];

/** What a live query or value reads: current state in key order, and one event per commit. */
export interface LiveSource {
  /** The visible value of `key`. */
  get(key: string): JsonValue | undefined;
  /** The visible `[key, value]` pairs of a range, in key order. */
  entries(options: QueryOptions): [string, JsonValue][];
  /** Listens to every commit's key changes; returns the unsubscribe function. */
  subscribe(listener: (event: { readonly changes: readonly KeyChange[] }) => void): () => void;
}

/** Checks the options of a range read. @throws InvalidArgumentError */
export function validateQueryOptions(options: unknown): QueryOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('query options must be an object');
  const { prefix, start, end, limit } = options as Record<string, unknown>;
  for (const [name, value] of [
    ['prefix', prefix],
    ['start', start],
    ['end', end],
  ] as const) {
    if (value !== undefined && typeof value !== 'string') throw new InvalidArgumentError(`query option ${name} must be a string, got ${typeof value}`);
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)) throw new InvalidArgumentError('query option limit must be a non-negative integer');
  return options as QueryOptions;
}

abstract class Live<T> {
  private readonly listeners = new Set<(value: T) => void>();
  private detach: (() => void) | undefined;
  /** The last result computed (set by each subclass's constructor); while subscribed, kept current by the source's events. */
  protected value!: T;

  constructor(protected readonly source: LiveSource) {}

  /** Reads the result from the source. */
  protected abstract read(): T;
  /** True when a commit's changes may change the result. */
  protected abstract touches(changes: readonly KeyChange[]): boolean;
  /** True when two results are the same. */
  protected abstract same(a: T, b: T): boolean;

  /**
   * The current result. The same object until the result changes, so it can serve as a snapshot
   * (React's `useSyncExternalStore` compares snapshots by identity).
   */
  get current(): T {
    // Unsubscribed, nothing keeps `value` current: read again, but keep the old object when nothing changed.
    if (this.detach === undefined) this.refresh();
    return this.value;
  }

  /** Calls `listener` with the current result now and with every later one. Returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void {
    if (this.detach === undefined) {
      this.refresh();
      this.detach = this.source.subscribe((event) => {
        if (this.touches(event.changes) && this.advance(event.changes)) this.emit();
      });
    }
    // A second subscription of the same function must have its own unsubscribe.
    const entry = (value: T): void => listener(value);
    this.listeners.add(entry);
    entry(this.value);
    return () => {
      if (!this.listeners.delete(entry) || this.listeners.size > 0) return;
      this.detach?.();
      this.detach = undefined;
    };
  }

  /** Re-reads the result after the source changed under it without an event (a tab's handle switching replicas). */
  resync(): void {
    if (this.refresh()) this.emit();
  }

  /** Brings `value` up to date after a commit's changes; true when it changed. Re-reads by default. */
  protected advance(_changes: readonly KeyChange[]): boolean {
    return this.refresh();
  }

  /** Reads again; true when the result changed. */
  protected refresh(): boolean {
    const next = this.read();
    if (this.same(this.value, next)) return false;
    this.value = next;
    return true;
  }

  private emit(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(this.value);
      } catch (error) {
        // A failing listener must not fail the commit that told us, nor starve the other listeners.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/** The live result of a range query (see `Replica.query`). */
export class LiveQuery extends Live<readonly QueryEntry[]> {
  private readonly options: QueryOptions;

  constructor(source: LiveSource, options: QueryOptions) {
    const checked = validateQueryOptions(options);
    super(source);
    this.options = { ...checked };
    this.value = this.read();
  }

  protected read(): readonly QueryEntry[] {
    if (this.options.limit === 0) return EMPTY;
    return Object.freeze(this.source.entries(this.options));
  }

  protected touches(changes: readonly KeyChange[]): boolean {
    for (const change of changes) if (inKeyRange(change.key, this.options) && !jsonEqual(change.value, change.previous)) return true;
    return false;
  }

  /**
   * Without a limit, a change moves only its own entry: patch the result (a binary search and a copy per
   * changed key) instead of reading the whole range again and comparing it entry by entry.
   */
  protected override advance(changes: readonly KeyChange[]): boolean {
    if (this.options.limit !== undefined) return this.refresh();
    let next: QueryEntry[] | undefined;
    for (const change of changes) {
      if (!inKeyRange(change.key, this.options) || jsonEqual(change.value, change.previous)) continue;
      const entries: QueryEntry[] = next ?? [...this.value];
      next = entries;
      const at = lowerBound(entries, change.key);
      const here = entries[at]?.[0] === change.key;
      if (change.value === undefined) {
        if (here) entries.splice(at, 1);
      } else if (here) {
        entries[at] = Object.freeze([change.key, change.value] as const);
      } else {
        entries.splice(at, 0, Object.freeze([change.key, change.value] as const));
      }
    }
    if (next === undefined) return false;
    this.value = Object.freeze(next);
    return true;
  }

  protected same(a: readonly QueryEntry[], b: readonly QueryEntry[]): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] as QueryEntry;
      const y = b[i] as QueryEntry;
      if (x[0] !== y[0] || !jsonEqual(x[1], y[1])) return false;
    }
    return true;
  }
}

const EMPTY: readonly QueryEntry[] = Object.freeze([]);

function lowerBound(entries: readonly QueryEntry[], key: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] as QueryEntry)[0] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The live value of one key (see `Replica.watch`): undefined while the key has no value. */
export class LiveValue extends Live<JsonValue | undefined> {
  constructor(
    source: LiveSource,
    readonly key: string,
  ) {
    super(source);
    this.value = this.read();
  }

  protected read(): JsonValue | undefined {
    return this.source.get(this.key);
  }

  protected touches(changes: readonly KeyChange[]): boolean {
    for (const change of changes) if (change.key === this.key) return true;
    return false;
  }

  protected same(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
    return jsonEqual(a, b);
  }
}
