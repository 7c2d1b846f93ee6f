/**
 * What the Redis fan-out reports about itself: a connection state for `/healthz`
 * and counters for `/metrics` (written through the relay's one Prometheus writer). One object
 * shared by the bus and the frame store, so both count into the same place.
 */
import { PrometheusWriter } from '../prometheus.js';

/** Counters of the Redis fan-out; every field only grows. */
export interface RedisCounters {
  /** Times a Redis connection came back after it was lost. */
  reconnects: number;
  /** Frames published to Redis. */
  framesPublished: number;
  /** Frames that could not be published (Redis down, too many in flight, an error reply). */
  publishFailures: number;
  /** Frames from other relays delivered to local members. */
  framesReceived: number;
  /** Our own frames echoed back by Redis and skipped (already delivered locally). */
  ownFramesSkipped: number;
  /** Channel messages that did not decode as a bus envelope. */
  malformedMessages: number;
  /** Frames from other relays whose local delivery threw (a relay bug; counted, never crashes). */
  deliveryErrors: number;
  /** Frames appended to the room streams (store-and-forward). */
  framesStored: number;
  /** Store appends or reads that failed (Redis down or an error reply). */
  storeFailures: number;
}

/** The live state of the fan-out: two connections (commands, subscriptions) and the counters. */
export class RedisStatus {
  /** Counters, mutated in place by the bus and the store. */
  readonly counters: RedisCounters = {
    reconnects: 0,
    framesPublished: 0,
    publishFailures: 0,
    framesReceived: 0,
    ownFramesSkipped: 0,
    malformedMessages: 0,
    deliveryErrors: 0,
    framesStored: 0,
    storeFailures: 0,
  };
  /** Whether the command connection (publish, streams) is ready. */
  commandUp = false;
  /** Whether the subscriber connection is ready (subscriptions restored). */
  subscriberUp = false;
  /** Published messages (each a batch of frames) not yet answered. */
  publishesInFlight = 0;
  #lastPublishFailureMs = Number.NEGATIVE_INFINITY;
  readonly #nowMs: () => number;
  readonly #failureWindowMs: number;

  /**
   * @param options.failureWindowMs - how long after a failed publish on an "up" connection (a timeout, an
   *   error reply, too many in flight) `/healthz` still says degraded. Default 10 s.
   */
  constructor(options: { readonly nowMs?: () => number; readonly failureWindowMs?: number } = {}) {
    this.#nowMs = options.nowMs ?? Date.now;
    this.#failureWindowMs = options.failureWindowMs ?? 10_000;
  }

  /** Counts frames that could not cross to the other relays. */
  publishFailed(frames = 1): void {
    this.counters.publishFailures += frames;
    // While down, `health` already says so; a failure on a ready connection means a hung or failing Redis.
    if (this.up) this.#lastPublishFailureMs = this.#nowMs();
  }

  /** Both connections are ready: frames cross relays. */
  get up(): boolean {
    return this.commandUp && this.subscriberUp;
  }

  /**
   * The `/healthz` view: `degraded` while Redis is unreachable, or answers with failures
   * (hung, overloaded) — local members are still served either way.
   */
  health(): { readonly status: 'ok' | 'degraded'; readonly redis: 'up' | 'down' | 'failing' } {
    if (!this.up) return { status: 'degraded', redis: 'down' };
    if (this.#nowMs() - this.#lastPublishFailureMs < this.#failureWindowMs) return { status: 'degraded', redis: 'failing' };
    return { status: 'ok', redis: 'up' };
  }

  /** Adds the fan-out's families to the relay's `/metrics` writer. */
  writeMetrics(writer: PrometheusWriter): void {
    const c = this.counters;
    writer
      .gauge('tidelog_redis_up', 'Whether both Redis connections are ready (1) or not (0).', this.up ? 1 : 0)
      .gauge('tidelog_redis_publishes_in_flight', 'Messages (batches of frames) published to Redis and not yet acknowledged.', this.publishesInFlight)
      .counter('tidelog_redis_reconnects_total', 'Redis connections re-established after a loss.', c.reconnects)
      .counter('tidelog_redis_frames_published_total', 'Frames published to Redis.', c.framesPublished)
      .counter('tidelog_redis_publish_failures_total', 'Frames that could not be published to Redis.', c.publishFailures)
      .counter('tidelog_redis_frames_received_total', 'Frames from other relays delivered to local members.', c.framesReceived)
      .counter('tidelog_redis_own_frames_skipped_total', 'Own frames echoed by Redis and skipped.', c.ownFramesSkipped)
      .counter('tidelog_redis_malformed_messages_total', 'Channel messages that did not decode.', c.malformedMessages)
      .counter('tidelog_redis_delivery_errors_total', 'Frames from other relays whose local delivery threw.', c.deliveryErrors)
      .counter('tidelog_redis_frames_stored_total', 'Frames appended to Redis room streams.', c.framesStored)
      .counter('tidelog_redis_store_failures_total', 'Failed Redis stream appends or reads.', c.storeFailures);
  }

  /** The fan-out's families alone, as text (tests, tools). */
  metricsText(): string {
    const writer = new PrometheusWriter();
    this.writeMetrics(writer);
    return writer.text();
  }
}
