/** `tidelog relay --redis ...` option handling: typed errors for bad input, nothing changes without --redis. */
import { describe, expect, it } from 'vitest';
import { parseFor } from '../../src/cli/cli.js';
import { relayOptionsFromArgs } from '../../src/cli/relay.js';
import { redisRelayOptions } from '../../src/cli/relay-redis.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/relay/log.js';
import { PrometheusWriter } from '../../src/relay/prometheus.js';
import { RedisRoomBus } from '../../src/relay/redis/index.js';

const options = (...args: string[]) => parseFor('relay', args);

describe('relay --redis options', () => {
  it('adds nothing without --redis', async () => {
    expect(await redisRelayOptions(options('--port', '8080'), silentLogger)).toEqual({});
    const relay = await relayOptionsFromArgs(options('--port', '0'));
    expect(relay.bus).toBeUndefined();
    expect(relay.extraMetrics).toBeUndefined();
  });

  it('rejects bad URLs and values with InvalidArgumentError', async () => {
    expect(() => options('--redis')).toThrow(InvalidArgumentError);
    for (const args of [
      ['--redis', 'http://127.0.0.1:6379'],
      ['--redis', 'nonsense'],
      ['--redis', 'redis://127.0.0.1:1', '--store', '/tmp/x'],
      ['--relay-id', 'a'],
    ]) {
      await expect(redisRelayOptions(options(...args), silentLogger), args.join(' ')).rejects.toThrow(InvalidArgumentError);
    }
    for (const args of [
      ['--redis', 'redis://127.0.0.1:1', '--redis-store-frames-max=-1'],
      ['--redis', 'redis://127.0.0.1:1', '--redis-store-age-ms-max', 'soon'],
      ['--redis', 'redis://127.0.0.1:1', '--relay-id'],
    ]) {
      expect(() => options(...args), args.join(' ')).toThrow(InvalidArgumentError);
    }
    await expect(relayOptionsFromArgs(options('--redis', 'redis://127.0.0.1:1', '--store', '/tmp/x'))).rejects.toThrow(InvalidArgumentError);
  });

  it('builds the bus, the Redis store, /metrics lines and a degraded /healthz while Redis is unreachable', async () => {
    // Port 1 on loopback: nothing listens, so the relay must come up degraded, not fail.
    const built = await redisRelayOptions(options('--redis', 'redis://127.0.0.1:1', '--relay-id', 'cli-test'), silentLogger);
    try {
      expect(built.bus).toBeInstanceOf(RedisRoomBus);
      expect(built.store).toBeDefined();
      const writer = new PrometheusWriter();
      built.extraMetrics?.(writer);
      expect(writer.text()).toContain('tidelog_redis_up 0');
      expect(built.extraHealth?.()).toEqual({ status: 'degraded', redis: 'down', relayId: 'cli-test' });
    } finally {
      await built.bus?.close();
    }
    const noStore = await redisRelayOptions(options('--redis', 'redis://127.0.0.1:1', '--redis-store-frames-max', '0'), silentLogger);
    expect(noStore.store).toBeUndefined();
    await noStore.bus?.close();
  });
});
