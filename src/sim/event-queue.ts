/**
 * The single event queue of a simulation: a binary min-heap ordered by
 * (virtual time, insertion number), so same-time events run in the order they
 * were scheduled and every run pops them identically.
 *
 * The heap lives in three parallel arrays (time, insertion number, callback)
 * rather than one object per event: a run schedules about one event per frame
 * copy, and an object each was a measurable share of its allocations.
 */

/** One scheduled event. */
export interface SimEvent {
  readonly atMs: number;
  readonly order: number;
  readonly run: () => void;
}

/** A min-heap of events. */
export class EventQueue {
  private readonly times: number[] = [];
  private readonly orders: number[] = [];
  private readonly runs: (() => void)[] = [];
  private nextOrder = 0;
  /** Virtual time of the event {@link popRun} returned last. */
  lastAtMs = 0;

  /** Number of events waiting. */
  get size(): number {
    return this.runs.length;
  }

  /** Schedules `run` at virtual time `atMs`. */
  push(atMs: number, run: () => void): void {
    const { times, orders, runs } = this;
    const order = this.nextOrder++;
    let i = runs.length;
    times.push(atMs);
    orders.push(order);
    runs.push(run);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const parentAtMs = times[parent] as number;
      // Insertion numbers only grow, so an equal time means the parent was scheduled first.
      if (parentAtMs <= atMs) break;
      times[i] = parentAtMs;
      orders[i] = orders[parent] as number;
      runs[i] = runs[parent] as () => void;
      i = parent;
    }
    times[i] = atMs;
    orders[i] = order;
    runs[i] = run;
  }

  /** Time of the next event, or Infinity. */
  peekTimeMs(): number {
    return this.runs.length === 0 ? Number.POSITIVE_INFINITY : (this.times[0] as number);
  }

  /** Removes and returns the earliest event. */
  pop(): SimEvent | undefined {
    if (this.runs.length === 0) return undefined;
    const order = this.orders[0] as number;
    const run = this.popRun() as () => void;
    return { atMs: this.lastAtMs, order, run };
  }

  /** Removes the earliest event and returns its callback (its time goes to {@link lastAtMs}); no allocation. */
  popRun(): (() => void) | undefined {
    const { times, orders, runs } = this;
    const n = runs.length;
    if (n === 0) return undefined;
    const top = runs[0] as () => void;
    this.lastAtMs = times[0] as number;
    const lastAtMs = times.pop() as number;
    const lastOrder = orders.pop() as number;
    const lastRun = runs.pop() as () => void;
    const size = n - 1;
    if (size === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && before(times[right] as number, orders[right] as number, times[left] as number, orders[left] as number) ? right : left;
      if (!before(times[child] as number, orders[child] as number, lastAtMs, lastOrder)) break;
      times[i] = times[child] as number;
      orders[i] = orders[child] as number;
      runs[i] = runs[child] as () => void;
      i = child;
    }
    times[i] = lastAtMs;
    orders[i] = lastOrder;
    runs[i] = lastRun;
    return top;
  }
}

function before(aAtMs: number, aOrder: number, bAtMs: number, bOrder: number): boolean {
  return aAtMs < bAtMs || (aAtMs === bAtMs && aOrder < bOrder);
}
