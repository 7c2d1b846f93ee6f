/**
 * `--redis`: the pieces a relay needs to share its rooms with other relay processes
 * through one Redis — a room fan-out over pub/sub, store-and-forward in capped
 * streams, and the status behind `/metrics` and `/healthz`.
 */
import { randomBytes } from 'node:crypto';
import type { BackoffLimits } from './backoff.js';
import { loadRedisConstructor, type RedisClient } from './client.js';
import { openRedisConnection, validateRedisUrl } from './connection.js';
import { RedisFrameStore } from './redis-frame-store.js';
import { RedisRoomBus } from './redis-bus.js';
import { RedisStatus } from './status.js';

export { type BackoffLimits, backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
export { IOREDIS_INSTALL, loadRedisConstructor, type RedisClient, type RedisConstructor, type RedisPipeline } from './client.js';
export { validateRedisUrl } from './connection.js';
export { BUS_ENVELOPE_VERSION, BUS_ID_BYTES_MAX, type BusEnvelope, type BusFrame, decodeBusEnvelope, encodeBusEnvelope } from './envelope.js';
export { DEFAULT_STORED_FRAME_AGE_MS_MAX, DEFAULT_STORED_FRAMES_PER_ROOM_MAX, RedisFrameStore, type RedisFrameStoreOptions } from './redis-frame-store.js';
export { DEFAULT_KEY_PREFIX, RedisRoomBus, type RedisRoomBusOptions } from './redis-bus.js';
export { type RedisCounters, RedisStatus } from './status.js';

/** Options for {@link openRedisFanout}. */
export interface RedisFanoutOptions {
  /** `redis://host:port`. */
  readonly url: string;
  /** This relay's id in the deployment; random when absent. */
  readonly relayId?: string;
  /** Prefix of every channel and key, so deployments can share one Redis. */
  readonly keyPrefix?: string;
  /** Reconnect delays. */
  readonly backoff?: BackoffLimits;
  /** Publishes and stream commands not answered within this fail and are counted. Default 5,000 ms. */
  readonly commandTimeoutMs?: number;
  /** Store-and-forward bounds; omit `store` to not keep frames in Redis. */
  readonly store?: { readonly framesPerRoomMax?: number; readonly ageMsMax?: number };
  /** Structured log sink for connection events. */
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

/** A relay's handle on Redis. */
export interface RedisFanout {
  /** This relay's id. */
  readonly relayId: string;
  /** The room fan-out. */
  readonly bus: RedisRoomBus;
  /** Store-and-forward, when requested. */
  readonly store: RedisFrameStore | undefined;
  /** Connection state and counters for `/healthz` and `/metrics`. */
  readonly status: RedisStatus;
  /** Resolves once both connections are ready, or `false` after `timeoutMs` (the relay serves locally meanwhile). */
  ready(timeoutMs: number): Promise<boolean>;
  /** Closes both connections (the same as `bus.close()`, which the relay calls on shutdown). */
  close(): Promise<void>;
}

/**
 * Opens the two Redis connections of a relay and builds its fan-out. Loads ioredis
 * (an optional peer dependency) on first use.
 * @throws InvalidArgumentError for a bad URL; MissingPeerDependencyError when ioredis is not installed.
 */
export async function openRedisFanout(options: RedisFanoutOptions): Promise<RedisFanout> {
  validateRedisUrl(options.url);
  const Redis = await loadRedisConstructor();
  const relayId = options.relayId ?? `relay-${process.pid}-${randomBytes(4).toString('hex')}`;
  const status = new RedisStatus();
  const log = options.log ?? (() => undefined);
  const common = {
    url: options.url,
    status,
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
  };
  let lastError = '';
  const onError = (role: string) => (error: Error) => {
    // One line per distinct error, not one per retry.
    if (error.message === lastError) return;
    lastError = error.message;
    log('redis_error', { role, message: error.message });
  };
  const publisher = openRedisConnection(Redis, {
    ...common,
    role: 'command',
    connectionName: `${relayId}-cmd`,
    onError: onError('command'),
    onReconnected: () => log('redis_reconnected', { role: 'command' }),
  });
  const subscriber = openRedisConnection(Redis, {
    ...common,
    role: 'subscriber',
    connectionName: `${relayId}-sub`,
    onError: onError('subscriber'),
    onReconnected: () => log('redis_reconnected', { role: 'subscriber' }),
  });
  const keyPrefix = options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix };
  const bus = new RedisRoomBus({ relayId, publisher, subscriber, status, ownsConnections: true, ...keyPrefix });
  const store = options.store === undefined ? undefined : new RedisFrameStore({ client: publisher, status, ...keyPrefix, ...options.store });
  return {
    relayId,
    bus,
    store,
    status,
    ready: (timeoutMs) => waitReady([publisher, subscriber], timeoutMs),
    close: () => bus.close(),
  };
}

function waitReady(clients: readonly RedisClient[], timeoutMs: number): Promise<boolean> {
  const one = (client: RedisClient) => (client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve())));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    Promise.all(clients.map(one)).then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
