import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { RelayServer, type RelayServerOptions } from '../../src/relay/server.js';
import { join, metric, ROOM, type TestMember, until } from './helpers.js';

const open: RelayServer[] = [];
const members: TestMember[] = [];

async function start(options: RelayServerOptions = {}): Promise<{ relay: RelayServer; http: string }> {
  const relay = await RelayServer.start({ port: 0, ...options });
  open.push(relay);
  return { relay, http: `http://127.0.0.1:${relay.port}` };
}

async function member(relay: RelayServer, room = ROOM): Promise<TestMember> {
  const m = await join(relay.url, room);
  members.push(m);
  return m;
}

afterEach(async () => {
  for (const m of members.splice(0)) m.ws.terminate();
  await Promise.all(open.splice(0).map((r) => r.close()));
});

describe('relay', () => {
  it('forwards each binary frame to the other members of the room only', async () => {
    const { relay, http } = await start();
    const [a, b, c] = [await member(relay), await member(relay), await member(relay)];
    const other = await member(relay, 'another-room-0123456789');
    a.ws.send(Buffer.from([1, 2, 3]));
    b.ws.send(Buffer.from([4]));
    await until(() => c.frames.length === 2 && a.frames.length === 1 && b.frames.length === 1);
    expect(a.frames.map((f) => [...f])).toEqual([[4]]);
    expect(b.frames.map((f) => [...f])).toEqual([[1, 2, 3]]);
    expect(c.frames.map((f) => [...f])).toEqual([[1, 2, 3], [4]]);
    expect(other.frames.length).toBe(0);
    expect(await metric(http, 'tidelog_relay_connections')).toBe(4);
    expect(await metric(http, 'tidelog_relay_rooms')).toBe(2);
    expect(await metric(http, 'tidelog_relay_frames_received_total')).toBe(2);
    expect(await metric(http, 'tidelog_relay_frames_relayed_total')).toBe(4);
    expect(await metric(http, 'tidelog_relay_bytes_relayed_total')).toBe(3 * 2 + 1 * 2);
    const health = (await (await fetch(`${http}/healthz`)).json()) as { status: string; connections: number };
    expect(health).toMatchObject({ status: 'ok', connections: 4, rooms: 2 });
    expect((await fetch(`${http}/nope`)).status).toBe(404);
  });

  it('refuses bad paths, bad room ids and full rooms with HTTP errors, and counts them', async () => {
    const { relay, http } = await start({ connectionsPerRoomMax: 2 });
    await expect(join(relay.url, 'short')).rejects.toThrow('HTTP 400');
    await expect(join(relay.url, 'bad%20room%20id%20with%20spaces')).rejects.toThrow('HTTP 400');
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${relay.url}/elsewhere`);
        ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('open', resolve);
      }),
    ).rejects.toThrow('HTTP 404');
    await member(relay);
    await member(relay);
    await expect(join(relay.url)).rejects.toThrow('HTTP 429');
    expect(await metric(http, 'tidelog_relay_rejections_total', '{reason="bad_room"}')).toBe(2);
    expect(await metric(http, 'tidelog_relay_rejections_total', '{reason="bad_path"}')).toBe(1);
    expect(await metric(http, 'tidelog_relay_rejections_total', '{reason="room_full"}')).toBe(1);
    await expect(RelayServer.start({ frameBytesMax: -1 })).rejects.toThrow(InvalidArgumentError);
  });

  it('closes members that send oversized or text frames, and keeps serving the others', async () => {
    const { relay, http } = await start({ frameBytesMax: 1024 });
    const [good, bad, text, reader] = [await member(relay), await member(relay), await member(relay), await member(relay)];
    bad.ws.send(Buffer.alloc(2048));
    expect(await bad.closed).toBe(1009);
    text.ws.send('hello as text');
    expect(await text.closed).toBe(1003);
    good.ws.send(Buffer.alloc(1024, 7));
    await until(() => reader.frames.length === 1);
    expect(reader.frames[0]?.length).toBe(1024);
    expect(await metric(http, 'tidelog_relay_rejections_total', '{reason="oversized"}')).toBe(1);
    expect(await metric(http, 'tidelog_relay_rejections_total', '{reason="text_frame"}')).toBe(1);
    expect(relay.connectionCount).toBe(2);
  });

  it('forwards random bytes untouched: the relay never parses frames', async () => {
    const { relay } = await start();
    const [a, b] = [await member(relay), await member(relay)];
    const frames = Array.from({ length: 50 }, (_, i) => Buffer.from(Array.from({ length: i * 7 + 1 }, (_, j) => (i * 31 + j * 17) & 0xff)));
    for (const f of frames) a.ws.send(f);
    await until(() => b.frames.length === 50);
    expect(b.frames).toEqual(frames);
  });

  it('throttles a member over its rate (reads it no faster, drops nothing) while others keep flowing', async () => {
    const { relay, http } = await start({ framesPerSecondMax: 50, burstSeconds: 1 });
    const [flooder, honest, reader] = [await member(relay), await member(relay), await member(relay)];
    const started = Date.now();
    for (let i = 0; i < 400; i++) flooder.ws.send(Buffer.from([i >> 8, i & 0xff]));
    await until(() => reader.frames.length >= 50, 2_000, 'the burst');
    honest.ws.send(Buffer.from('still here'));
    await until(() => reader.frames.some((f) => f.toString() === 'still here'), 1_000, 'the honest frame, past the flood');
    await new Promise((r) => setTimeout(r, 500));
    const flood = reader.frames.filter((f) => f.length === 2).map((f) => f.readUInt16BE(0));
    const elapsedS = (Date.now() - started) / 1000;
    // In order and without a hole (nothing dropped), and no faster than the burst plus the rate.
    expect(flood).toEqual(flood.map((_, i) => i));
    expect(flood.length).toBeLessThanOrEqual(50 + 50 * elapsedS + 5);
    expect(flood.length).toBeLessThan(400);
    expect(await metric(http, 'tidelog_relay_frames_dropped_total', '{reason="rate_limited"}')).toBe(0);
    expect(await metric(http, 'tidelog_relay_throttles_total', '{scope="connection"}')).toBeGreaterThanOrEqual(1);
    expect(await metric(http, 'tidelog_relay_members_throttled')).toBe(1);
    expect(flooder.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('holds a thousand idle connections and still serves the active pair', async () => {
    const { relay, http } = await start({ connectionsPerRoomMax: 2000 });
    const idle = await Promise.all(Array.from({ length: 1000 }, (_, i) => join(relay.url, `idle-room-${String(i % 10).padStart(8, '0')}`)));
    members.push(...idle);
    const [a, b] = [await member(relay, 'active-room-00000000'), await member(relay, 'active-room-00000000')];
    a.ws.send(Buffer.from('ping'));
    await until(() => b.frames.length === 1);
    expect(await metric(http, 'tidelog_relay_connections')).toBe(1002);
    expect(await metric(http, 'tidelog_relay_rooms')).toBe(11);
  });

  it('drops half-open peers that stop answering pings', async () => {
    const { relay, http } = await start({ heartbeatMs: 100 });
    const honest = await member(relay);
    // A raw TCP client that completes the upgrade and then goes silent (never answers a ping).
    const socket = connect(relay.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `GET /rooms/${ROOM} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await until(() => relay.connectionCount === 2, 2_000, 'the silent peer to join');
    await until(() => relay.connectionCount === 1, 2_000, 'the silent peer to be dropped');
    socket.destroy();
    expect(honest.ws.readyState).toBe(WebSocket.OPEN);
    expect(await metric(http, 'tidelog_relay_disconnects_total', '{reason="heartbeat"}')).toBe(1);
  });

  it('disconnects a receiver that stops reading instead of buffering without bound', async () => {
    const { relay, http } = await start({ bufferedBytesMax: 256 * 1024, framesPerSecondMax: 1e6, bytesPerSecondMax: 1e9 });
    const [sender, slow] = [await member(relay), await member(relay)];
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 1000 && relay.connectionCount === 2; i++) {
      sender.ws.send(chunk);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => relay.connectionCount === 1, 5_000, 'the slow receiver to be cut off');
    expect(await metric(http, 'tidelog_relay_disconnects_total', '{reason="slow_receiver"}')).toBe(1);
    expect(await metric(http, 'tidelog_relay_frames_dropped_total', '{reason="backpressure"}')).toBeGreaterThanOrEqual(1);
  });

  it('shuts down gracefully: members get 1001 and new joins are refused', async () => {
    const { relay } = await start();
    const a = await member(relay);
    const closing = relay.close();
    expect(await a.closed).toBe(1001);
    await closing;
    await expect(join(relay.url)).rejects.toThrow();
  });
});
