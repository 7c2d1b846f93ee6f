/**
 * What a session buffers for peers across frames, bounded in all: snapshot transfers and split hellos in progress.
 * Each peer may hold one of each, but peer ids cost nothing to invent (160 made-up senders of snapshot parts took a
 * receiver's heap from 8 to 144 MB, never freed), so the total number of buffers and their bytes are bounded too;
 * past either bound the buffer added to least recently is dropped (its sender sends it again, or it was noise).
 */

/** One buffer's bookkeeping. */
interface Slot {
  bytes: number;
  touchedMs: number;
  readonly release: () => void;
}

/** Bounded registry of buffers in progress, keyed by an owner object (a peer's transfer or hello buffer). */
export class TransferSlots {
  private readonly slots = new Map<object, Slot>();
  private bytes = 0;
  /** Buffers dropped to stay within the bounds, since the session started. */
  evicted = 0;

  constructor(
    private readonly slotsMax: number,
    private readonly bytesMax: number,
  ) {}

  /** Buffers held now. */
  get size(): number {
    return this.slots.size;
  }

  /** Bytes held now. */
  get bytesHeld(): number {
    return this.bytes;
  }

  /**
   * Counts `addedBytes` more for `owner`'s buffer (registering it, with the `release` that clears it, if new), then
   * drops the buffers touched least recently, never `owner`'s, while over a bound.
   */
  hold(owner: object, addedBytes: number, nowMs: number, release: () => void): void {
    let slot = this.slots.get(owner);
    if (slot === undefined) {
      slot = { bytes: 0, touchedMs: nowMs, release };
      this.slots.set(owner, slot);
    }
    slot.bytes += addedBytes;
    slot.touchedMs = nowMs;
    this.bytes += addedBytes;
    while ((this.slots.size > this.slotsMax || this.bytes > this.bytesMax) && this.slots.size > 1) this.evictStalest(owner);
  }

  /** Forgets `owner`'s buffer (it completed, or was replaced). */
  done(owner: object): void {
    const slot = this.slots.get(owner);
    if (slot === undefined) return;
    this.bytes -= slot.bytes;
    this.slots.delete(owner);
  }

  private evictStalest(keep: object): void {
    let stalest: [object, Slot] | undefined;
    for (const entry of this.slots) if (entry[0] !== keep && (stalest === undefined || entry[1].touchedMs < stalest[1].touchedMs)) stalest = entry;
    if (stalest === undefined) return;
    this.done(stalest[0]);
    stalest[1].release();
    this.evicted += 1;
  }
}
