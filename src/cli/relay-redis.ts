/**
 * The `--redis` options of `tidelog relay`: share rooms with the deployment's other
 * relays through one Redis, and keep store-and-forward in Redis so any relay can
 * serve a returning device. Without `--redis` this returns nothing and the relay
 * stays the single-process one (and ioredis is never loaded).
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { RelayLogger } from '../relay/log.js';
import type { RelayServerOptions } from '../relay/server.js';
import type { ParsedArgs } from './args.js';
import { numberFlag, textFlag } from './command.js';

const REDIS_ONLY = ['relay-id', 'redis-prefix', 'redis-store-frames-max', 'redis-store-age-ms-max'];

/**
 * The relay options that `--redis` adds (bus, store, extra metrics and health), or `{}`
 * without it. `--redis-store-frames-max 0` turns store-and-forward off.
 * @throws InvalidArgumentError for a bad URL, a Redis flag without `--redis`, or `--store` together with `--redis`;
 *   MissingPeerDependencyError when ioredis is not installed.
 */
export async function redisRelayOptions(args: ParsedArgs, log: RelayLogger): Promise<Pick<RelayServerOptions, 'bus' | 'store' | 'extraMetrics' | 'extraHealth'>> {
  const url = textFlag(args, 'redis');
  if (url === undefined) {
    const stray = REDIS_ONLY.find((name) => args.flags.has(name));
    if (stray !== undefined) throw new InvalidArgumentError(`--${stray} is an option of --redis: add --redis redis://host:port`);
    return {};
  }
  // A per-relay disk store would only serve devices that come back to the same relay.
  if (args.flags.has('store')) throw new InvalidArgumentError('--store <dir> and --redis exclude each other: with --redis, frames are stored in Redis');
  const relayId = textFlag(args, 'relay-id');
  const keyPrefix = textFlag(args, 'redis-prefix');
  const framesPerRoomMax = numberFlag(args, 'redis-store-frames-max', undefined);
  const ageMsMax = numberFlag(args, 'redis-store-age-ms-max', undefined);
  const { openRedisFanout, validateRedisUrl } = await import('../relay/redis/index.js');
  validateRedisUrl(url);
  const fanout = await openRedisFanout({
    url,
    ...(relayId === undefined ? {} : { relayId }),
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
    ...(framesPerRoomMax === 0 ? {} : { store: { ...(framesPerRoomMax === undefined ? {} : { framesPerRoomMax }), ...(ageMsMax === undefined ? {} : { ageMsMax }) } }),
    log: (event, fields) => log(event === 'redis_error' ? 'warn' : 'info', event, fields),
  });
  log('info', 'redis_fanout', { relayId: fanout.relayId, url: redactUrl(url), store: fanout.store !== undefined });
  return {
    bus: fanout.bus,
    ...(fanout.store === undefined ? {} : { store: fanout.store }),
    extraMetrics: (writer) => fanout.status.writeMetrics(writer),
    extraHealth: () => ({ ...fanout.status.health(), relayId: fanout.relayId }),
  };
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
