/** A token bucket: `ratePerSecond` tokens refill continuously up to `burst`. One per connection (or room) and resource. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly nowMs: () => number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs();
  }

  /**
   * Takes `cost` tokens if there are enough; returns whether it did. A cost above the burst is charged
   * as the burst (it goes through once the bucket is full), so no single item can be refused forever.
   */
  take(cost = 1): boolean {
    if (!this.has(cost)) return false;
    this.tokens -= Math.min(cost, this.burst);
    return true;
  }

  /** Whether `cost` tokens could be taken now (refills first; takes nothing). */
  has(cost = 1): boolean {
    this.refill();
    return this.tokens >= Math.min(cost, this.burst);
  }

  /** Milliseconds until `cost` tokens will be there (0 if they are now). */
  msUntil(cost = 1): number {
    this.refill();
    const missing = Math.min(cost, this.burst) - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }

  private refill(): void {
    const now = this.nowMs();
    const elapsedMs = Math.max(0, now - this.lastMs);
    this.lastMs = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
  }
}
