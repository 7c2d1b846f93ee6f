/**
 * The Redis fan-out against a real redis-server: frames cross between two relay
 * handles, are binary-safe, are not re-delivered to their own relay, survive a Redis
 * crash-restart (counted, reported, resumed), and are kept bounded in the room stream.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, InvalidArgumentError, MissingPeerDependencyError } from '../../src/core/errors.js';
import {
  backoffDelayMs,
  decodeBusEnvelope,
  encodeBusEnvelope,
  IOREDIS_INSTALL,
  loadRedisConstructor,
  openRedisFanout,
  type RedisFanout,
  RedisFrameStore,
  RedisStatus,
} from '../../src/relay/redis/index.js';
import { collectReplay } from '../../src/relay/frame-store.js';
import { freePort, RedisServer } from './redis-server.js';

const fastBackoff = { delayMsMin: 20, delayMsMax: 200 };

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Redis reconnect backoff', () => {
  it('doubles from delayMsMin, stays within [ceiling/2, ceiling], and is capped at delayMsMax', () => {
    const limits = { delayMsMin: 50, delayMsMax: 2_000 };
    for (const random of [() => 0, () => 0.5, () => 0.999]) {
      for (let attempt = 1; attempt <= 40; attempt++) {
        const ceiling = Math.min(2_000, 50 * 2 ** (attempt - 1));
        const delay = backoffDelayMs(attempt, limits, random);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(backoffDelayMs(100, limits, () => 0.999)).toBeLessThanOrEqual(2_000);
  });
});

describe('bus envelope', () => {
  it('round-trips ids and arbitrary bytes, one frame or many', () => {
    const frame = new Uint8Array(256).map((_, i) => i);
    const one = { relayId: 'relay-a', frames: [{ originId: 'c7', frame }] };
    expect(decodeBusEnvelope(encodeBusEnvelope(one))).toEqual(one);
    const many = {
      relayId: 'é',
      frames: [
        { originId: 'a', frame: new Uint8Array(0) },
        { originId: 'b'.repeat(255), frame },
        { originId: 'c', frame: new Uint8Array([0]) },
      ],
    };
    expect(decodeBusEnvelope(encodeBusEnvelope(many))).toEqual(many);
  });

  it('rejects malformed envelopes with DecodeError and bad ids with InvalidArgumentError', () => {
    const bytes = encodeBusEnvelope({ relayId: 'relay-a', frames: [{ originId: 'c7', frame: new Uint8Array([1, 2, 3]) }] });
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([2, 1, 65]), // unknown version
      new Uint8Array([1, 0]), // empty relay id
      new Uint8Array([1, 1, 65]), // no frame
      new Uint8Array([1, 1, 0xff, 1, 65, 0, 0, 0, 0]), // relay id not UTF-8
      new Uint8Array([1, 1, 65, 0, 0, 0, 0, 0]), // empty origin id
    ];
    for (let cut = 1; cut < bytes.length; cut++) bad.push(bytes.subarray(0, cut));
    for (const b of bad) expect(() => decodeBusEnvelope(b), `input ${Array.from(b).join(',')}`).toThrow(DecodeError);
    expect(() => encodeBusEnvelope({ relayId: '', frames: [{ originId: 'x', frame: bytes }] })).toThrow(InvalidArgumentError);
    expect(() => encodeBusEnvelope({ relayId: 'r'.repeat(256), frames: [{ originId: 'x', frame: bytes }] })).toThrow(InvalidArgumentError);
    expect(() => encodeBusEnvelope({ relayId: 'r', frames: [] })).toThrow(InvalidArgumentError);
  });

  it('names the package to install when ioredis is missing, and loads it when present', async () => {
    const error = await loadRedisConstructor('ioredis-not-installed-here').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPeerDependencyError);
    expect((error as MissingPeerDependencyError).code).toBe('PEER_DEPENDENCY_MISSING');
    expect((error as Error).message).toContain(IOREDIS_INSTALL);
    expect(typeof (await loadRedisConstructor())).toBe('function');
  });

  it('rejects a URL that is not redis://', async () => {
    await expect(openRedisFanout({ url: 'http://127.0.0.1:1' })).rejects.toThrow(InvalidArgumentError);
    await expect(openRedisFanout({ url: 'not a url' })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('Redis fan-out when Redis is not there yet', () => {
  it('starts degraded, serves locally, counts failures, and comes up when Redis does', async () => {
    const port = await freePort();
    const fanout = await openRedisFanout({ url: `redis://127.0.0.1:${port}`, relayId: 'early', backoff: fastBackoff, store: {} });
    let redis: RedisServer | undefined;
    try {
      expect(await fanout.ready(300)).toBe(false);
      expect(fanout.status.health()).toEqual({ status: 'degraded', redis: 'down' });
      const local: Uint8Array[] = [];
      const off = fanout.bus.subscribe('room', (f) => local.push(f));
      fanout.bus.publish('room', new Uint8Array([1]), 'c1');
      expect(local).toHaveLength(1);
      expect(fanout.status.counters.publishFailures).toBe(1);
      expect(await collectReplay(fanout.store!, 'room')).toEqual([]);
      redis = await RedisServer.startOn(port);
      expect(await fanout.ready(10_000)).toBe(true);
      expect(fanout.status.health().status).toBe('ok');
      off();
    } finally {
      await fanout.close();
      await redis?.kill();
    }
  });
});

describe('Redis fan-out when Redis hangs', () => {
  it('times publishes out, reports degraded, keeps local delivery, and recovers when Redis resumes', async () => {
    const redis = await RedisServer.start();
    const fanout = await openRedisFanout({ url: redis.url, relayId: 'hung', backoff: fastBackoff, commandTimeoutMs: 200 });
    try {
      expect(await fanout.ready(5_000)).toBe(true);
      const local: Uint8Array[] = [];
      const off = fanout.bus.subscribe('room', (f) => local.push(f));
      redis.pause();
      for (let i = 0; i < 5; i++) fanout.bus.publish('room', new Uint8Array([i]), 'c1');
      expect(local).toHaveLength(5);
      await until('timeouts', () => fanout.status.counters.publishFailures >= 5);
      expect(fanout.status.publishesInFlight).toBe(0);
      expect(fanout.status.health()).toEqual({ status: 'degraded', redis: 'failing' });
      redis.resume();
      const published = fanout.status.counters.framesPublished;
      await until('publishing again', () => {
        fanout.bus.publish('room', new Uint8Array([9]), 'c1');
        return fanout.status.counters.framesPublished > published;
      });
      off();
    } finally {
      redis.resume();
      await fanout.close();
      await redis.kill();
    }
  });
});

describe('Redis fan-out with a real redis-server', () => {
  let redis: RedisServer;
  let a: RedisFanout;
  let b: RedisFanout;
  const keyPrefix = `t${process.pid}:`;

  beforeAll(async () => {
    redis = await RedisServer.start();
    a = await openRedisFanout({ url: redis.url, relayId: 'A', keyPrefix, backoff: fastBackoff, store: { framesPerRoomMax: 50 } });
    b = await openRedisFanout({ url: redis.url, relayId: 'B', keyPrefix, backoff: fastBackoff, store: { framesPerRoomMax: 50 } });
    expect(await a.ready(5_000)).toBe(true);
    expect(await b.ready(5_000)).toBe(true);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.kill();
  });

  it('delivers across relays, binary-safe, without echo to the publishing relay', async () => {
    const atA: [Uint8Array, string][] = [];
    const atB: [Uint8Array, string][] = [];
    const offA = a.bus.subscribe('room1', (f, o) => atA.push([f.slice(), o]));
    const offB = b.bus.subscribe('room1', (f, o) => atB.push([f.slice(), o]));
    await until('subscriptions', async () => (await subscribers(redis.url, 'room1')) === 2);
    const frame = new Uint8Array([0, 255, 13, 10, 0, 128, 1]);
    a.bus.publish('room1', frame, 'conn-1');
    await until('remote delivery', () => atB.length === 1);
    expect(atB[0]?.[0]).toEqual(frame);
    expect(atB[0]?.[1]).toBe('A/conn-1');
    // Local delivery happened once, synchronously; the Redis echo was skipped.
    await until('echo skipped', () => a.status.counters.ownFramesSkipped >= 1);
    expect(atA).toHaveLength(1);
    expect(atA[0]?.[1]).toBe('conn-1');
    offA();
    offB();
  });

  it('counts and skips foreign or malformed messages on a room channel', async () => {
    const delivered: number[] = [];
    const off = b.bus.subscribe('room-junk', (f) => delivered.push(f[0] as number));
    await until('subscription', async () => (await subscribers(redis.url, 'room-junk')) === 1);
    const malformed = b.status.counters.malformedMessages;
    const probe = new Redis(redis.url);
    try {
      for (const junk of [Buffer.from('hello'), Buffer.from([1, 200, 1]), Buffer.alloc(0), Buffer.from([1, 1, 65, 1, 66, 0, 0, 0, 9, 1])]) {
        await probe.publish(`${keyPrefix}room:room-junk`, junk);
      }
    } finally {
      probe.disconnect();
    }
    await until('malformed counted', () => b.status.counters.malformedMessages === malformed + 4);
    a.bus.publish('room-junk', new Uint8Array([5]), 'c');
    await until('real frames still flow', () => delivered.includes(5));
    expect(delivered).toEqual([5]);
    off();
  });

  it('survives a handler that throws on a remote frame, counting it', async () => {
    const delivered: number[] = [];
    const offB1 = b.bus.subscribe('room-throw', () => {
      throw new Error('handler bug');
    });
    const offB2 = b.bus.subscribe('room-throw', (f) => delivered.push(f[0] as number));
    await until('subscription', async () => (await subscribers(redis.url, 'room-throw')) === 1);
    const errors = b.status.counters.deliveryErrors;
    a.bus.publish('room-throw', new Uint8Array([1]), 'c');
    a.bus.publish('room-throw', new Uint8Array([2]), 'c');
    await until('delivery errors counted', () => b.status.counters.deliveryErrors === errors + 2);
    // The other member of the room still got both frames.
    await until('the other handler served', () => delivered.length === 2);
    expect(delivered).toEqual([1, 2]);
    expect(b.status.metricsText()).toContain(`tidelog_redis_delivery_errors_total ${errors + 2}`);
    offB1();
    a.bus.publish('room-throw', new Uint8Array([3]), 'c');
    await until('later frames still flow', () => delivered.includes(3));
    offB2();
  });

  it('batches the frames of one turn into few messages, in order, and splits batches at batchBytesMax', async () => {
    const atB: number[] = [];
    const offB = b.bus.subscribe('room-batch', (f) => atB.push(new DataView(f.buffer, f.byteOffset).getUint32(0)));
    await until('subscription', async () => (await subscribers(redis.url, 'room-batch')) === 1);
    const published = a.status.counters.framesPublished;
    const publishCallsBefore = await publishCalls(redis.url);
    // 2,000 frames of 1 KiB in one turn: about 8 messages of 256 KiB.
    for (let i = 0; i < 2_000; i++) {
      const frame = new Uint8Array(1024);
      new DataView(frame.buffer).setUint32(0, i);
      a.bus.publish('room-batch', frame, `c${i % 3}`);
    }
    await until('every frame', () => atB.length === 2_000);
    expect(atB).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    expect(a.status.counters.framesPublished - published).toBe(2_000);
    const messages = (await publishCalls(redis.url)) - publishCallsBefore;
    expect(messages).toBeGreaterThanOrEqual(8);
    expect(messages).toBeLessThanOrEqual(12);
    offB();
  });

  it('keeps a bounded, binary-safe stream per room that any relay reads', async () => {
    const store = a.store!;
    const positions: number[] = [];
    for (let i = 0; i < 300; i++) positions.push((await store.append('room2', new Uint8Array([i & 255, 0, 255]))) as number);
    // Positions are consecutive from Redis' time in ms x 1024, whichever relay appends.
    expect(positions[0]).toBeGreaterThan(Date.now() * 1024 - 60_000 * 1024);
    expect(positions).toEqual(positions.map((_, i) => (positions[0] as number) + i));
    expect(await b.store!.append('room2', new Uint8Array([44]))).toBe((positions[299] as number) + 1);
    const stored = await collectReplay(b.store!, 'room2');
    const frames = stored.map((s) => s.frame);
    // MAXLEN ~ 50 trims whole nodes: at least 50 and far fewer than 300 remain, newest last.
    expect(frames.length).toBeGreaterThanOrEqual(50);
    expect(frames.length).toBeLessThan(300);
    expect(frames.at(-2)).toEqual(new Uint8Array([299 & 255, 0, 255]));
    expect(stored.at(-1)?.position).toBe((positions[299] as number) + 1);
    // From a position, and the newest few: one XRANGE each.
    expect((await collectReplay(b.store!, 'room2', { afterPosition: positions[295] as number })).map((s) => s.position)).toEqual([296, 297, 298, 299, 300].map((i) => (positions[0] as number) + i));
    expect((await collectReplay(b.store!, 'room2', { framesMax: 3 })).map((s) => s.frame[0])).toEqual([298 & 255, 299 & 255, 44]);
  });

  it('streams a replay a page of about 256 KiB per XRANGE, and stops reading when the consumer stops', async () => {
    const client = new Redis(redis.url);
    const status = new RedisStatus();
    status.commandUp = true;
    const store = new RedisFrameStore({ client, status, keyPrefix, framesPerRoomMax: 10_000 });
    const xranges = async () => Number(/cmdstat_xrange:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);
    try {
      const frame = new Uint8Array(4096);
      for (let i = 0; i < 1_000; i++) await store.append('room-paged', frame.fill(i & 0xff));
      const before = await xranges();
      const sizes: number[] = [];
      for await (const page of store.replay('room-paged')) sizes.push(page.reduce((n, s) => n + s.frame.length, 0));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(1_000 * 4096);
      // The first page is 16 frames; later ones are sized to ~256 KiB from the frames seen.
      expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024);
      expect(sizes.length).toBeLessThan(1_000 / 16);
      const full = (await xranges()) - before;
      expect(full).toBe(sizes.length);
      for await (const page of store.replay('room-paged')) {
        expect(page.length).toBe(16);
        break;
      }
      expect((await xranges()) - before - full).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('deletes entries older than the age cap on Redis when later frames are appended', async () => {
    const client = new Redis(redis.url);
    const status = new RedisStatus();
    status.commandUp = true;
    const store = new RedisFrameStore({ client, status, keyPrefix, ageMsMax: 1_000 });
    const key = `${keyPrefix}frames:room-trimmed`;
    try {
      for (let i = 0; i < 5; i++) await store.append('room-trimmed', new Uint8Array([i]));
      await new Promise((r) => setTimeout(r, 600));
      await store.append('room-trimmed', new Uint8Array([5]));
      await new Promise((r) => setTimeout(r, 500));
      await store.append('room-trimmed', new Uint8Array([6]));
      expect(await client.xlen(key)).toBe(2);
    } finally {
      client.disconnect();
    }
  });

  it('drops stored frames older than the age cap', async () => {
    const client = new Redis(redis.url);
    const status = new RedisStatus();
    status.commandUp = true;
    let skewMs = 0;
    const store = new RedisFrameStore({ client, status, keyPrefix, ageMsMax: 60_000, nowMs: () => Date.now() + skewMs });
    try {
      expect(await store.append('room-aged', new Uint8Array([7]))).toBeTypeOf('number');
      expect((await collectReplay(store, 'room-aged')).map((s) => s.frame)).toEqual([new Uint8Array([7])]);
      skewMs = 61_000;
      expect(await collectReplay(store, 'room-aged')).toEqual([]);
      // The key carries the age cap as its TTL, so an idle room's stream disappears.
      const ttlMs = await client.pttl(`${keyPrefix}frames:room-aged`);
      expect(ttlMs).toBeGreaterThan(0);
      expect(ttlMs).toBeLessThanOrEqual(60_000);
    } finally {
      client.disconnect();
    }
  });

  it('serves locally through a Redis crash, reports it, reconnects and resumes', async () => {
    const atB: Uint8Array[] = [];
    const atALocal: Uint8Array[] = [];
    const offB = b.bus.subscribe('room3', (f) => atB.push(f.slice()));
    const offA = a.bus.subscribe('room3', (f) => atALocal.push(f.slice()));
    await until('subscriptions', async () => (await subscribers(redis.url, 'room3')) === 2);
    const offLeft = b.bus.subscribe('room-left-while-down', () => undefined);
    await until('subscribed before the outage', async () => (await subscribers(redis.url, 'room-left-while-down')) === 1);
    const reconnectsBefore = a.status.counters.reconnects;
    await redis.kill();
    await until('down reported', () => !a.status.up && !b.status.up);
    expect(a.status.health()).toEqual({ status: 'degraded', redis: 'down' });
    expect(a.status.metricsText()).toContain('tidelog_redis_up 0');
    const failuresBefore = a.status.counters.publishFailures;
    a.bus.publish('room3', new Uint8Array([1]), 'c');
    expect(atALocal).toHaveLength(1);
    expect(a.status.counters.publishFailures).toBe(failuresBefore + 1);
    expect(await a.store!.append('room3', new Uint8Array([1]))).toBeUndefined();
    // Membership changes during the outage: B gains a room and loses one; both must hold after Redis is back.
    const joinedWhileDown: Uint8Array[] = [];
    const offJoined = b.bus.subscribe('room-joined-while-down', (f) => joinedWhileDown.push(f.slice()));
    offLeft();
    expect(await collectReplay(a.store!, 'room3')).toEqual([]);

    await redis.restart();
    await until('reconnected', () => a.status.up && b.status.up);
    expect(a.status.counters.reconnects).toBeGreaterThan(reconnectsBefore);
    expect(a.status.health().status).toBe('ok');
    // Subscriptions were restored: frames cross again.
    await until('resubscribed', async () => (await subscribers(redis.url, 'room3')) === 2);
    a.bus.publish('room3', new Uint8Array([2]), 'c');
    await until('delivery after restart', () => atB.some((f) => f[0] === 2));
    expect(atB.some((f) => f[0] === 1)).toBe(false);
    expect(await subscribers(redis.url, 'room-joined-while-down')).toBe(1);
    expect(await subscribers(redis.url, 'room-left-while-down')).toBe(0);
    a.bus.publish('room-joined-while-down', new Uint8Array([3]), 'c');
    await until('delivery in a room joined during the outage', () => joinedWhileDown.length === 1);
    offJoined();
    expect(a.status.metricsText()).toMatch(/tidelog_redis_reconnects_total [1-9]/);
    offA();
    offB();
  });
});

/** PUBLISH commands Redis has run so far (INFO commandstats). */
async function publishCalls(url: string): Promise<number> {
  const probe = new Redis(url);
  try {
    const info = await probe.info('commandstats');
    return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    probe.disconnect();
  }
}

/** How many connections subscribe to a room's channel (PUBSUB NUMSUB), 0 while Redis is down. */
async function subscribers(url: string, roomId: string): Promise<number> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    const reply = (await probe.call('PUBSUB', 'NUMSUB', `t${process.pid}:room:${roomId}`)) as [string, number];
    return Number(reply[1]);
  } catch {
    return 0;
  } finally {
    probe.disconnect();
  }
}
