/**
 * Opens the ioredis connections of one relay and keeps {@link RedisStatus} in step
 * with them. Both connections reconnect forever with jittered backoff; commands
 * issued while a connection is down fail at once (no offline queue), so a relay
 * never piles frames up in memory waiting for Redis.
 */
import { InvalidArgumentError } from '../../core/errors.js';
import { type BackoffLimits, backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';
import type { RedisClient, RedisConstructor } from './client.js';
import type { RedisStatus } from './status.js';

/** Which of the relay's two connections (a subscribed connection can't run other commands). */
export type RedisRole = 'command' | 'subscriber';

/** Options for {@link openRedisConnection}. */
export interface RedisConnectionOptions {
  /** `redis://[user:pass@]host:port[/db]` (or `rediss://`). */
  readonly url: string;
  /** Which connection this is; decides which status flag it drives. */
  readonly role: RedisRole;
  /** Where up/down and reconnects are recorded. */
  readonly status: RedisStatus;
  /** Reconnect delays. */
  readonly backoff?: BackoffLimits;
  /** A command not answered within this fails (a hung Redis must not hold publishes). Default 5,000 ms; command connection only. */
  readonly commandTimeoutMs?: number;
  /** Connection name shown by `CLIENT LIST`. */
  readonly connectionName?: string;
  /** Called with each connection error (already counted); for structured logs. */
  readonly onError?: (error: Error) => void;
  /** Called after a lost connection is ready again (subscriptions restored, for the subscriber). */
  readonly onReconnected?: () => void;
}

/** Checks that `url` is a Redis URL; throws {@link InvalidArgumentError} otherwise. */
export function validateRedisUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`not a Redis URL: '${url}'`, { url });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidArgumentError(`a Redis URL starts with redis:// or rediss://, got '${parsed.protocol}'`, { url });
  }
  return parsed;
}

/** Opens one connection with ioredis' `Redis` (it connects in the background and retries until closed). */
export function openRedisConnection(Redis: RedisConstructor, options: RedisConnectionOptions): RedisClient {
  validateRedisUrl(options.url);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const client = new Redis(options.url, {
    retryStrategy: (attempt: number) => backoffDelayMs(attempt, backoff, Math.random),
    // Fail commands at once while disconnected: the relay counts the failure and moves on.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // The bus re-subscribes its rooms itself on every 'ready': ioredis only remembers channels
    // whose SUBSCRIBE was answered, so a room joined while Redis was down would be forgotten.
    autoResubscribe: false,
    connectTimeout: 2_000,
    // A half-open TCP connection to a dead Redis must not hang publishes for minutes.
    keepAlive: 5_000,
    // A Redis that hangs (stopped, swapping) must not hold publishes forever: they fail and are counted.
    ...(options.role === 'command' ? { commandTimeout: options.commandTimeoutMs ?? 5_000 } : {}),
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
  });
  let wasReady = false;
  const setUp = (up: boolean) => {
    if (options.role === 'command') options.status.commandUp = up;
    else options.status.subscriberUp = up;
  };
  client.on('ready', () => {
    setUp(true);
    if (wasReady) {
      options.status.counters.reconnects += 1;
      options.onReconnected?.();
    }
    wasReady = true;
  });
  client.on('close', () => setUp(false));
  client.on('end', () => setUp(false));
  // Without a listener ioredis would print every failed connection attempt.
  client.on('error', (error: Error) => options.onError?.(error));
  return client;
}
