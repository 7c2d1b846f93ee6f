import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { DiskFrameStore } from '../../src/relay/disk-frame-store.js';
import { collectReplay, REPLAY_PAGE_BYTES_MAX } from '../../src/relay/frame-store.js';
import { RelayServer } from '../../src/relay/server.js';
import { useTempDirs } from '../support/temp-dirs.js';
import { join, metric, until } from './helpers.js';

const tempDir = useTempDirs('tidelog-store-');
const ROOM = 'stored-room-abcdefgh';
const firsts = async (store: DiskFrameStore, room = ROOM, range = {}) => (await collectReplay(store, room, range)).map((s) => s.frame[0]);
const openFiles = () => readdirSync('/proc/self/fd').length;

/** A version-1 file (before positions): records with no header. */
function legacyRecord(frame: Uint8Array, atMs: number): Buffer {
  const record = Buffer.alloc(12 + frame.length);
  record.writeUInt32BE(frame.length, 0);
  record.writeDoubleBE(atMs, 4);
  record.set(frame, 12);
  return record;
}

describe('DiskFrameStore', () => {
  it('keeps frames in order with consecutive positions, bounded by bytes per room', async () => {
    const dir = tempDir();
    const store = new DiskFrameStore({ dir, bytesPerRoomMax: 1000, totalBytesMax: 10_000 });
    const positions: number[] = [];
    for (let i = 0; i < 100; i++) positions.push((await store.append(ROOM, new Uint8Array(100).fill(i))) as number);
    expect(positions[0]).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) * 1000 * 1024 - 60_000 * 1024);
    expect(positions).toEqual(positions.map((_, i) => (positions[0] as number) + i));
    const kept = await collectReplay(store, ROOM);
    // 112-byte records: the newest 8 fit in 1,000 bytes; the file is cut back once it passes 1,500.
    expect(kept.map((s) => s.frame[0])).toEqual(kept.map((_, i) => 100 - kept.length + i));
    expect(kept.length).toBeGreaterThanOrEqual(8);
    expect(kept.map((s) => s.position)).toEqual(positions.slice(100 - kept.length));
    const size = (await stat(joinPath(dir, `${ROOM}.frames`))).size;
    expect(size).toBeLessThanOrEqual(16 + 1.5 * 1000 + 112);
    expect(await firsts(store, ROOM, { framesMax: 3 })).toEqual([97, 98, 99]);
    expect(await firsts(store, ROOM, { afterPosition: positions[97] })).toEqual([98, 99]);
    expect(await collectReplay(store, 'never-written-room')).toEqual([]);
    expect(store.stats()).toMatchObject({ rooms: 1, bytes: size, roomsEvicted: 0 });
    expect(store.stats().bytesTrimmed).toBeGreaterThan(0);
  });

  it('continues positions across a restart, and a room written again after it was deleted starts above them', async () => {
    const dir = tempDir();
    let nowMs = 1_700_000_000_000;
    const first = new DiskFrameStore({ dir, ageMsMax: 60_000, nowMs: () => nowMs });
    const a = (await first.append(ROOM, new Uint8Array([1]))) as number;
    await first.close();
    const second = new DiskFrameStore({ dir, ageMsMax: 60_000, nowMs: () => nowMs });
    expect(await second.append(ROOM, new Uint8Array([2]))).toBe(a + 1);
    expect((await collectReplay(second, ROOM)).map((s) => [s.position, s.frame[0]])).toEqual([
      [a, 1],
      [a + 1, 2],
    ]);
    nowMs += 120_000;
    expect(await second.sweep()).toBe(1);
    expect(await readdir(dir)).toEqual([]);
    const again = (await second.append(ROOM, new Uint8Array([3]))) as number;
    expect(again).toBeGreaterThan(a + 1);
  });

  it('replays from any position, a page of at most 256 KiB at a time, and lets go of the file when a replay stops early', async () => {
    const store = new DiskFrameStore({ dir: tempDir() });
    const frame = new Uint8Array(1000);
    const positions: number[] = [];
    for (let i = 0; i < 1_200; i++) positions.push((await store.append(ROOM, frame.fill(i & 0xff))) as number);
    for (const after of [0, 1, 255, 256, 257, 700, 1_198]) {
      const got = await collectReplay(store, ROOM, { afterPosition: positions[after] as number });
      expect(got.map((s) => s.position), `after #${after}`).toEqual(positions.slice(after + 1));
      expect(got.every((s, i) => s.frame[0] === ((after + 1 + i) & 0xff))).toBe(true);
    }
    let pages = 0;
    for await (const page of store.replay(ROOM)) {
      pages += 1;
      expect(page.reduce((n, s) => n + 12 + s.frame.length, 0)).toBeLessThanOrEqual(REPLAY_PAGE_BYTES_MAX);
    }
    expect(pages).toBeGreaterThanOrEqual(Math.ceil((1_200 * 1_012) / REPLAY_PAGE_BYTES_MAX));
    const before = openFiles();
    for await (const page of store.replay(ROOM)) {
      expect(openFiles()).toBe(before + 1);
      expect(page.length).toBeGreaterThan(0);
      break;
    }
    expect(openFiles()).toBe(before);
  });

  it('expires frames by age and sweeps dead rooms', async () => {
    let nowMs = 1_000_000;
    const dir = tempDir();
    const store = new DiskFrameStore({ dir, ageMsMax: 10_000, nowMs: () => nowMs });
    await store.append(ROOM, new Uint8Array([1]));
    nowMs += 6_000;
    await store.append(ROOM, new Uint8Array([2]));
    nowMs += 6_000;
    expect(await firsts(store)).toEqual([2]);
    nowMs += 60_000;
    expect(await store.sweep()).toBe(1);
    expect(await readdir(dir)).toEqual([]);
    expect(store.stats()).toMatchObject({ rooms: 0, bytes: 0 });
  });

  it('ignores a torn last record after a crash mid-append, and cuts it so that the next append reads back', async () => {
    const dir = tempDir();
    const store = new DiskFrameStore({ dir });
    await store.append(ROOM, new Uint8Array([5, 6, 7]));
    await appendFile(joinPath(dir, `${ROOM}.frames`), Buffer.from([0, 0, 1, 0, 1, 2]));
    const reopened = new DiskFrameStore({ dir });
    expect((await collectReplay(reopened, ROOM)).map((s) => [...s.frame])).toEqual([[5, 6, 7]]);
    await reopened.append(ROOM, new Uint8Array([8]));
    expect((await collectReplay(new DiskFrameStore({ dir }), ROOM)).map((s) => [...s.frame])).toEqual([[5, 6, 7], [8]]);
  });

  it('reads a version-1 file (no header), numbering its frames from 1, and gives it a header before appending', async () => {
    const dir = tempDir();
    const now = Date.now();
    await writeFile(joinPath(dir, `${ROOM}.frames`), Buffer.concat([legacyRecord(new Uint8Array([1]), now), legacyRecord(new Uint8Array([2]), now)]));
    const store = new DiskFrameStore({ dir });
    expect((await collectReplay(store, ROOM)).map((s) => [s.position, s.frame[0]])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(await store.append(ROOM, new Uint8Array([3]))).toBe(3);
    const bytes = await readFile(joinPath(dir, `${ROOM}.frames`));
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('TRF2');
    expect(await firsts(new DiskFrameStore({ dir }))).toEqual([1, 2, 3]);
  });

  it('keeps the total under its bound by deleting the rooms written longest ago, also at start', async () => {
    const dir = tempDir();
    const store = new DiskFrameStore({ dir, bytesPerRoomMax: 2_000, totalBytesMax: 5_000 });
    const rooms = Array.from({ length: 6 }, (_, i) => `room-total-${String(i).padStart(8, '0')}`);
    for (const room of rooms) for (let i = 0; i < 10; i++) await store.append(room, new Uint8Array(100).fill(i));
    await store.close();
    const onDisk = async () => {
      let n = 0;
      for (const name of await readdir(dir)) n += (await stat(joinPath(dir, name))).size;
      return n;
    };
    expect(await onDisk()).toBeLessThanOrEqual(5_000);
    expect(store.stats().bytes).toBe(await onDisk());
    expect(store.stats().roomsEvicted).toBe(2);
    expect(await collectReplay(store, rooms[0] as string)).toEqual([]);
    expect((await firsts(store, rooms[5] as string)).length).toBe(10);
    // Writing an old room makes it the newest: the next eviction takes another one.
    await store.append(rooms[2] as string, new Uint8Array([1]));
    for (let i = 0; i < 10; i++) await store.append('room-total-late0001', new Uint8Array(100));
    await store.close();
    expect((await firsts(store, rooms[2] as string)).length).toBe(11);
    expect(await collectReplay(store, rooms[3] as string)).toEqual([]);
    // A smaller bound at start evicts at once.
    const smaller = new DiskFrameStore({ dir, bytesPerRoomMax: 1_000, totalBytesMax: 2_500 });
    await collectReplay(smaller, rooms[5] as string);
    await smaller.close();
    expect(await onDisk()).toBeLessThanOrEqual(2_500);
    expect(() => new DiskFrameStore({ dir, bytesPerRoomMax: 4_000, totalBytesMax: 5_000 })).toThrow(InvalidArgumentError);
  });
});

describe('relay store-and-forward', () => {
  it('replays stored frames to a member who joins later, across a relay restart', async () => {
    const dir = tempDir();
    let relay = await RelayServer.start({ port: 0, store: new DiskFrameStore({ dir }) });
    const early = await join(relay.url, ROOM);
    for (let i = 0; i < 20; i++) early.ws.send(Buffer.from([i]));
    await until(async () => (await metric(`http://127.0.0.1:${relay.port}`, 'tidelog_relay_frames_stored_total')) === 20);
    early.ws.close();
    await relay.close();
    relay = await RelayServer.start({ port: 0, store: new DiskFrameStore({ dir }) });
    const late = await join(relay.url, ROOM);
    await until(() => late.frames.length === 20);
    expect(late.frames.map((f) => f[0])).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const http = `http://127.0.0.1:${relay.port}`;
    expect(await metric(http, 'tidelog_relay_frames_replayed_total')).toBe(20);
    expect(await metric(http, 'tidelog_relay_store_rooms')).toBe(1);
    await until(async () => (await metric(http, 'tidelog_relay_replays_active')) === 0);
    late.ws.close();
    await relay.close();
  });
});
