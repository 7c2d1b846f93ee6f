/**
 * Reconnect delays for the Redis connections: exponential with full jitter, capped,
 * so N relays that lost the same Redis do not all hammer it at the same instant
 * when it comes back.
 */

/** Backoff limits. */
export interface BackoffLimits {
  /** Delay before the first retry, in ms. */
  readonly delayMsMin: number;
  /** Longest delay between retries, in ms. */
  readonly delayMsMax: number;
}

/** Defaults: 50 ms doubling to 2 s, so a restarted Redis is picked up within about two seconds. */
export const DEFAULT_BACKOFF: BackoffLimits = { delayMsMin: 50, delayMsMax: 2_000 };

/**
 * The delay before retry number `attempt` (1-based): a uniform draw in
 * `[ceiling/2, ceiling]` where the ceiling doubles per attempt up to `delayMsMax`.
 * `random` returns a float in [0, 1).
 */
export function backoffDelayMs(attempt: number, limits: BackoffLimits, random: () => number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(limits.delayMsMax, limits.delayMsMin * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
