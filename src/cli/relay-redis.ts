/**
 * The `--redis` options of `tidelog relay`: share rooms with the deployment's other
 * relays through one Redis, and keep store-and-forward in Redis so any relay can
 * serve a returning device. Without `--redis` this returns nothing and the relay
 * stays the single-process one.
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { RelayLogger } from '../relay/log.js';
import { openRedisFanout } from '../relay/redis/index.js';
import type { RelayServerOptions } from '../relay/server.js';

/** Usage text of the Redis options, appended to the relay's usage line. */
export const REDIS_RELAY_USAGE = '[--redis redis://host:port [--relay-id <id>] [--redis-prefix <p>] [--redis-store-frames-max N] [--redis-store-age-ms-max ms]]';

function positiveOption(options: ReadonlyMap<string, string | true>, name: string): number | undefined {
  const raw = options.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === true || !Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(`--${name} takes a non-negative integer`);
  return value;
}

function stringOption(options: ReadonlyMap<string, string | true>, name: string): string | undefined {
  const raw = options.get(name);
  if (raw === true) throw new InvalidArgumentError(`--${name} takes a value`);
  return raw;
}

/**
 * The relay options that `--redis` adds (bus, store, extra metrics and health), or `{}`
 * without it. `--redis-store-frames-max 0` turns store-and-forward off.
 * @throws InvalidArgumentError for a bad URL or option, or `--store` together with `--redis`;
 *   MissingPeerDependencyError when ioredis is not installed.
 */
export async function redisRelayOptions(
  options: ReadonlyMap<string, string | true>,
  log: RelayLogger,
): Promise<Pick<RelayServerOptions, 'bus' | 'store' | 'extraMetrics' | 'extraHealth'>> {
  const url = stringOption(options, 'redis');
  if (url === undefined) return {};
  // A per-relay disk store would only serve devices that come back to the same relay.
  if (options.has('store')) throw new InvalidArgumentError('--store <dir> and --redis exclude each other: with --redis, frames are stored in Redis');
  const relayId = stringOption(options, 'relay-id');
  const keyPrefix = stringOption(options, 'redis-prefix');
  const framesPerRoomMax = positiveOption(options, 'redis-store-frames-max');
  const ageMsMax = positiveOption(options, 'redis-store-age-ms-max');
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
    extraMetrics: () => fanout.status.metricsText(),
    extraHealth: () => ({ ...fanout.status.health(), relayId: fanout.relayId }),
  };
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
