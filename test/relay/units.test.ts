import { describe, expect, it } from 'vitest';
import { parseFor } from '../../src/cli/cli.js';
import { relayOptionsFromArgs } from '../../src/cli/relay.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { DiskFrameStore } from '../../src/relay/disk-frame-store.js';
import { RelayMetrics } from '../../src/relay/metrics.js';
import { PrometheusWriter } from '../../src/relay/prometheus.js';
import { RedisStatus } from '../../src/relay/redis/status.js';
import { TokenBucket } from '../../src/relay/token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    let nowMs = 0;
    const bucket = new TokenBucket(10, 20, () => nowMs);
    let taken = 0;
    while (bucket.take()) taken += 1;
    expect(taken).toBe(20);
    nowMs += 500;
    taken = 0;
    while (bucket.take()) taken += 1;
    expect(taken).toBe(5);
    nowMs += 60_000;
    taken = 0;
    while (bucket.take()) taken += 1;
    expect(taken).toBe(20);
    expect(bucket.take(0)).toBe(true);
    nowMs -= 1_000; // a clock step backwards refills nothing and breaks nothing
    expect(bucket.take()).toBe(false);
  });

  it('says how long until a cost fits, and charges a cost above the burst as the burst', () => {
    let nowMs = 0;
    const bucket = new TokenBucket(100, 10, () => nowMs);
    expect(bucket.msUntil(5)).toBe(0);
    expect(bucket.take(10)).toBe(true);
    expect(bucket.has(1)).toBe(false);
    expect(bucket.msUntil(5)).toBe(50);
    nowMs += 50;
    expect(bucket.take(5)).toBe(true);
    // 1,000 tokens never fit in a bucket of 10: charged as 10 once it is full, never refused forever.
    expect(bucket.msUntil(1_000)).toBe(100);
    nowMs += 100;
    expect(bucket.take(1_000)).toBe(true);
    expect(bucket.has(1)).toBe(false);
  });
});

describe('relay command line', () => {
  it('parses limits and the store, and rejects bad values', async () => {
    const options = await relayOptionsFromArgs(
      parseFor('relay', [
        '--port',
        '0',
        '--frame-bytes-max',
        '4096',
        '--store',
        '/tmp/tidelog-never-created',
        '--store-total-bytes-max',
        String(1 << 30),
        '--log-level',
        'warn',
        '--sockets-max',
        '900',
        '--upgrade-timeout-ms',
        '2500',
        '--room-deliveries-per-second-max',
        '5000',
      ]),
    );
    expect(options.port).toBe(0);
    expect(options.frameBytesMax).toBe(4096);
    expect(options).toMatchObject({ socketsMax: 900, upgradeTimeoutMs: 2500, roomDeliveriesPerSecondMax: 5000 });
    expect(options.store).toBeInstanceOf(DiskFrameStore);
    expect(() => parseFor('relay', ['--port', 'eighty'])).toThrow(InvalidArgumentError);
    expect(() => parseFor('relay', ['--heartbeat-ms', '-5'])).toThrow(InvalidArgumentError);
    expect(() => parseFor('relay', ['--store'])).toThrow(InvalidArgumentError);
    expect(() => parseFor('relay', ['--log-level', 'loud'])).toThrow(InvalidArgumentError);
  });
});

describe('RelayMetrics', () => {
  it('renders valid Prometheus text with labelled counters', () => {
    const metrics = new RelayMetrics();
    metrics.reject('oversized');
    metrics.reject('oversized');
    metrics.drop('backpressure');
    const text = metrics.render({ rooms: 3, sockets: 5, socketsPending: 1, replaysActive: 0, replayBytesInFlight: 0, throttled: 0 });
    expect(text).toContain('tidelog_relay_rooms 3\n');
    expect(text).toContain('tidelog_relay_rejections_total{reason="oversized"} 2\n');
    expect(text).toContain('tidelog_relay_frames_dropped_total{reason="backpressure"} 1\n');
    expect(text).toContain('tidelog_relay_disconnects_total 0\n');
    expect(text).toContain('tidelog_relay_sockets 5\n');
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{reason="\w+"\})? \d+)$/);
  });
});

describe('PrometheusWriter', () => {
  it('writes families once each, escapes label values, and refuses bad names and duplicates', () => {
    const writer = new PrometheusWriter();
    writer.gauge('a_gauge', 'A gauge.', 1.5).family('a_total', 'counter', 'Line one\nline two', [[{ path: 'a"b\\c\nd' }, 2]]);
    writer.family('empty_total', 'counter', 'Never moved.', []);
    expect(writer.text()).toBe(
      '# HELP a_gauge A gauge.\n# TYPE a_gauge gauge\na_gauge 1.5\n' +
        '# HELP a_total Line one\\nline two\n# TYPE a_total counter\na_total{path="a\\"b\\\\c\\nd"} 2\n' +
        '# HELP empty_total Never moved.\n# TYPE empty_total counter\nempty_total 0\n',
    );
    expect(() => writer.gauge('a_gauge', 'again', 1)).toThrow(InvalidArgumentError);
    expect(() => writer.gauge('bad-name', 'x', 1)).toThrow(InvalidArgumentError);
    expect(() => writer.family('ok_name', 'gauge', 'x', [[{ 'bad-label': 'v' }, 1]])).toThrow(InvalidArgumentError);
    expect(new PrometheusWriter().gauge('x', 'x', Number.NaN).text()).toContain('x NaN\n');
  });

  it('is the one writer of the relay and the Redis status: a family written by both is refused', () => {
    const writer = new PrometheusWriter();
    new RelayMetrics().write(writer, { rooms: 0, sockets: 0, socketsPending: 0, replaysActive: 0, replayBytesInFlight: 0, throttled: 0 });
    new RedisStatus().writeMetrics(writer);
    const text = writer.text();
    expect(text).toContain('tidelog_relay_connections 0\n');
    expect(text).toContain('tidelog_redis_up 0\n');
    expect(() => new RedisStatus().writeMetrics(writer)).toThrow(InvalidArgumentError);
  });
});
