import { describe, expect, it } from 'vitest';
import { parseFor } from '../../src/cli/cli.js';
import { relayOptionsFromArgs } from '../../src/cli/relay.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { DiskFrameStore } from '../../src/relay/disk-frame-store.js';
import { RelayMetrics } from '../../src/relay/metrics.js';
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
});

describe('relay command line', () => {
  it('parses limits and the store, and rejects bad values', async () => {
    const options = await relayOptionsFromArgs(parseFor('relay', ['--port', '0', '--frame-bytes-max', '4096', '--store', '/tmp/tidelog-never-created', '--log-level', 'warn']));
    expect(options.port).toBe(0);
    expect(options.frameBytesMax).toBe(4096);
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
    metrics.drop('rate_limited');
    const text = metrics.render(3);
    expect(text).toContain('tidelog_relay_rooms 3\n');
    expect(text).toContain('tidelog_relay_rejections_total{reason="oversized"} 2\n');
    expect(text).toContain('tidelog_relay_frames_dropped_total{reason="rate_limited"} 1\n');
    expect(text).toContain('tidelog_relay_disconnects_total 0\n');
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{reason="\w+"\})? \d+)$/);
  });
});
