/** The relay's options, every bound with its default, and their check. */
import { InvalidArgumentError } from '../core/errors.js';
import { defaultSocketsMax } from './admission.js';
import type { FrameStore } from './frame-store.js';
import type { RelayLogger } from './log.js';
import type { PrometheusWriter } from './prometheus.js';
import type { RoomBus } from './room-bus.js';

/** Options of `RelayServer.start`. Every bound has a default (docs/relay.md lists them with their flags). */
export interface RelayServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Largest frame accepted, in bytes (larger ones close the connection with 1009). Default 1 MiB. */
  readonly frameBytesMax?: number;
  /** Sustained frames per second per connection; above it the relay stops reading the connection until it refills. Default 1,000. */
  readonly framesPerSecondMax?: number;
  /** Sustained bytes per second per connection. Default 32 MiB. */
  readonly bytesPerSecondMax?: number;
  /** Sustained deliveries per second per room (a frame to nine members is nine); above it the room's senders wait. Default 20,000. */
  readonly roomDeliveriesPerSecondMax?: number;
  /** Sustained bytes delivered per second per room. Default 64 MiB. */
  readonly roomBytesPerSecondMax?: number;
  /** Bucket size of each member's rates, in seconds of them. Default 2. */
  readonly burstSeconds?: number;
  /**
   * Bucket size of each room's rates, in seconds of them. Default 0.25: a room's burst is what the relay
   * may spend on it in one go while every other room waits (5,000 deliveries, ~25-50 ms of this machine).
   */
  readonly roomBurstSeconds?: number;
  /** Members per room. Default 256. */
  readonly connectionsPerRoomMax?: number;
  /** Members in total (also bounded by `socketsMax` less its reserve). Default 50,000. */
  readonly connectionsMax?: number;
  /** Accepted TCP sockets of any kind. Default: 90% of the open-file limit less 32 (Linux), else `connectionsMax` + 1,024. */
  readonly socketsMax?: number;
  /** Sockets members may not take, kept for `/healthz` and joins. Default max(16, socketsMax / 32). */
  readonly socketsReserve?: number;
  /** A socket that has not upgraded this long after its accept (or its last answered request) is closed. Default 10 s. */
  readonly upgradeTimeoutMs?: number;
  /** Ping interval; a member that has not answered the previous ping by the next one is dropped. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Bytes buffered towards one receiver before it is disconnected as too slow. Default 16 MiB. */
  readonly bufferedBytesMax?: number;
  /**
   * Frames buffered towards one receiver before it is disconnected as too slow. Default 4,096. Small frames
   * cost the relay per frame (memory, collection), so a flood of 1 KiB frames is bounded by count long
   * before 16 MiB: 16K queued frames per receiver made the collector stall every room for 200-400 ms.
   */
  readonly bufferedFramesMax?: number;
  /** How long `close` waits for members to acknowledge the close before terminating them. Default 2 s. */
  readonly drainMs?: number;
  /** The fan-out; in-process by default. */
  readonly bus?: RoomBus;
  /** Store-and-forward; off by default. */
  readonly store?: FrameStore;
  /** Stored frames replayed to a joining member (the newest). Default 100,000. */
  readonly replayFramesMax?: number;
  /** Replayed bytes waiting in the relay for one member's socket; the replay reads on only as that drains. Default 1 MiB. */
  readonly replayBufferedBytesMax?: number;
  /** Structured log sink. Silent by default (the CLI logs JSON to stderr). */
  readonly log?: RelayLogger;
  /** Wall clock in ms (rate limits, timeouts). */
  readonly nowMs?: () => number;
  /** Sees every frame a member sends, before any check (audits: `--capture` proves the relay only ever gets ciphertext). */
  readonly tap?: (roomId: string, frame: Uint8Array) => void;
  /** Adds families to `/metrics` through the relay's writer (for example the Redis fan-out's). */
  readonly extraMetrics?: (writer: PrometheusWriter) => void;
  /** Extra fields for `/healthz`; a `status` other than `ok` is reported as given. */
  readonly extraHealth?: () => Record<string, unknown>;
}

/** The numeric bounds, resolved. */
export type RelayLimits = Required<
  Pick<
    RelayServerOptions,
    | 'frameBytesMax'
    | 'framesPerSecondMax'
    | 'bytesPerSecondMax'
    | 'roomDeliveriesPerSecondMax'
    | 'roomBytesPerSecondMax'
    | 'burstSeconds'
    | 'roomBurstSeconds'
    | 'connectionsPerRoomMax'
    | 'connectionsMax'
    | 'socketsMax'
    | 'socketsReserve'
    | 'upgradeTimeoutMs'
    | 'heartbeatMs'
    | 'bufferedBytesMax'
    | 'bufferedFramesMax'
    | 'drainMs'
    | 'replayFramesMax'
    | 'replayBufferedBytesMax'
  >
>;

function bound(value: number | undefined, fallback: number, name: string, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}`, { [name]: value });
  return v;
}

/** Resolves every bound. @throws InvalidArgumentError for a bound that is not a number in range. */
export function resolveLimits(options: RelayServerOptions): RelayLimits {
  const connectionsMax = bound(options.connectionsMax, 50_000, 'connectionsMax');
  const socketsMax = bound(options.socketsMax, defaultSocketsMax(connectionsMax), 'socketsMax', 2);
  const socketsReserve = bound(options.socketsReserve, Math.max(16, Math.floor(socketsMax / 32)), 'socketsReserve', 1);
  if (socketsReserve >= socketsMax) throw new InvalidArgumentError('socketsReserve must be below socketsMax', { socketsReserve, socketsMax });
  return {
    frameBytesMax: bound(options.frameBytesMax, 1024 * 1024, 'frameBytesMax'),
    framesPerSecondMax: bound(options.framesPerSecondMax, 1_000, 'framesPerSecondMax'),
    bytesPerSecondMax: bound(options.bytesPerSecondMax, 32 * 1024 * 1024, 'bytesPerSecondMax'),
    roomDeliveriesPerSecondMax: bound(options.roomDeliveriesPerSecondMax, 20_000, 'roomDeliveriesPerSecondMax'),
    roomBytesPerSecondMax: bound(options.roomBytesPerSecondMax, 64 * 1024 * 1024, 'roomBytesPerSecondMax'),
    burstSeconds: bound(options.burstSeconds, 2, 'burstSeconds', 0.001),
    roomBurstSeconds: bound(options.roomBurstSeconds, 0.25, 'roomBurstSeconds', 0.001),
    connectionsPerRoomMax: bound(options.connectionsPerRoomMax, 256, 'connectionsPerRoomMax'),
    connectionsMax,
    socketsMax,
    socketsReserve,
    upgradeTimeoutMs: bound(options.upgradeTimeoutMs, 10_000, 'upgradeTimeoutMs', 10),
    heartbeatMs: bound(options.heartbeatMs, 15_000, 'heartbeatMs', 10),
    bufferedBytesMax: bound(options.bufferedBytesMax, 16 * 1024 * 1024, 'bufferedBytesMax'),
    bufferedFramesMax: bound(options.bufferedFramesMax, 4_096, 'bufferedFramesMax'),
    drainMs: bound(options.drainMs, 2_000, 'drainMs', 0),
    replayFramesMax: bound(options.replayFramesMax, 100_000, 'replayFramesMax', 0),
    replayBufferedBytesMax: bound(options.replayBufferedBytesMax, 1024 * 1024, 'replayBufferedBytesMax'),
  };
}
