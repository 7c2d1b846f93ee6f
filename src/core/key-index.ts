/**
 * The sorted index of live keys behind range reads and live queries: a B+ tree (`sorted-btree`) of the keys
 * that have a visible value. The write path only records which keys changed liveness (a push onto an array);
 * the tree takes them in, sorted, on the next read (or once the record grows as large as the tree), so a write
 * never waits for a tree insertion. Until the first read there is no tree and no record at all: a replica nobody
 * range-reads pays nothing for the index.
 */
import btreeModule from 'sorted-btree';

// sorted-btree is CommonJS with `exports.default`: Node's ESM loader hands over the exports object, bundlers the
// class itself. Take the class either way.
const BTree: typeof btreeModule.default = (btreeModule as unknown as { default?: typeof btreeModule.default }).default ?? (btreeModule as unknown as typeof btreeModule.default);
type Tree = InstanceType<typeof BTree<string, undefined>>;

/** Keys recorded before the tree takes them in, at least (the bound grows with the tree). */
const PENDING_KEYS_MIN = 65_536;

/** A key range: keys starting with `prefix`, from `start` (inclusive) up to `end` (exclusive). All optional. */
export interface KeyRange {
  /** Only keys that start with this. */
  readonly prefix?: string;
  /** Only keys at or after this one (code-unit order). */
  readonly start?: string;
  /** Only keys before this one (code-unit order). */
  readonly end?: string;
}

/** Code-unit order, the same on every platform (localeCompare is not). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when `key` lies in `range`. */
export function inKeyRange(key: string, range: KeyRange): boolean {
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.start !== undefined && key < range.start) return false;
  if (range.end !== undefined && key >= range.end) return false;
  return true;
}

/** The ordered set of live keys, fed lazily by the state that owns it. */
export class KeyIndex {
  private readonly tree: Tree = new BTree<string, undefined>(undefined, compareKeys);
  private pending: string[] = [];
  /** False until the first read: no tree, nothing recorded (the owner's map is the record). */
  private built = false;

  /**
   * @param isLive tells whether a key has a visible value now (the owner's map is the truth).
   * @param liveKeys lists every live key, in any order: the tree's contents at the first read.
   */
  constructor(
    private readonly isLive: (key: string) => boolean,
    private readonly liveKeys: () => Iterable<string>,
  ) {}

  /** Records that `key` gained or lost its visible value. O(1): the tree takes it in later. */
  touch(key: string): void {
    if (!this.built) return;
    const pending = this.pending;
    pending.push(key);
    if (pending.length >= PENDING_KEYS_MIN && pending.length >= this.tree.size) this.fold();
  }

  /** Calls `visit` with each live key in `range`, in order, until it returns false or `limit` keys were visited. */
  forEach(range: KeyRange, limit: number, visit: (key: string) => boolean | undefined): void {
    if (limit <= 0) return;
    this.fold();
    const { prefix, end } = range;
    const low = prefix !== undefined && (range.start === undefined || prefix > range.start) ? prefix : range.start;
    let count = 0;
    for (const key of this.tree.keys(low)) {
      if (prefix !== undefined && !key.startsWith(prefix)) break;
      if (end !== undefined && key >= end) break;
      if (visit(key) === false || ++count >= limit) break;
    }
  }

  /** Live keys in `range`, in order, at most `limit` of them. */
  keys(range: KeyRange = {}, limit = Number.POSITIVE_INFINITY): string[] {
    const out: string[] = [];
    this.forEach(range, limit, (key) => void out.push(key));
    return out;
  }

  /** Takes the recorded keys into the tree, in key order (neighbouring inserts share their leaf). */
  private fold(): void {
    if (!this.built) {
      // The first read: the tree starts as every live key, sorted once (what a sorted-keys cache cost before).
      this.built = true;
      const keys = [...this.liveKeys()].sort(compareKeys);
      for (const key of keys) this.tree.set(key, undefined);
      return;
    }
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    if (pending.length > 1) pending.sort(compareKeys);
    const tree = this.tree;
    for (let i = 0; i < pending.length; i++) {
      const key = pending[i] as string;
      if (i > 0 && key === pending[i - 1]) continue;
      if (this.isLive(key)) tree.set(key, undefined);
      else tree.delete(key);
    }
  }
}
