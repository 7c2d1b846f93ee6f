/**
 * The single event queue of a simulation: a binary min-heap ordered by
 * (virtual time, insertion number), so same-time events run in the order they
 * were scheduled and every run pops them identically.
 */

/** One scheduled event. */
export interface SimEvent {
  readonly atMs: number;
  readonly order: number;
  readonly run: () => void;
}

/** A min-heap of events. */
export class EventQueue {
  private heap: SimEvent[] = [];
  private nextOrder = 0;

  /** Number of events waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** Schedules `run` at virtual time `atMs`. */
  push(atMs: number, run: () => void): void {
    const event: SimEvent = { atMs, order: this.nextOrder++, run };
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!before(event, heap[parent] as SimEvent)) break;
      heap[i] = heap[parent] as SimEvent;
      i = parent;
    }
    heap[i] = event;
  }

  /** Time of the next event, or Infinity. */
  peekTimeMs(): number {
    return this.heap.length === 0 ? Number.POSITIVE_INFINITY : (this.heap[0] as SimEvent).atMs;
  }

  /** Removes and returns the earliest event. */
  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as SimEvent, heap[left] as SimEvent) ? right : left;
      if (!before(heap[child] as SimEvent, last)) break;
      heap[i] = heap[child] as SimEvent;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}
