import { appendFile, readdir, stat } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskFrameStore } from '../../src/relay/disk-frame-store.js';
import { RelayServer } from '../../src/relay/server.js';
import { useTempDirs } from '../support/temp-dirs.js';
import { join, metric, until } from './helpers.js';

const makeDir = useTempDirs('tidelog-store-');
async function tempDir(): Promise<string> {
  const dir = makeDir();
  return dir;
}

const ROOM = 'stored-room-abcdefgh';

describe('DiskFrameStore', () => {
  it('keeps frames in order, bounded by bytes per room', async () => {
    const store = new DiskFrameStore({ dir: await tempDir(), bytesPerRoomMax: 1000 });
    for (let i = 0; i < 100; i++) await store.append(ROOM, new Uint8Array(100).fill(i));
    const kept = await store.recent(ROOM);
    expect(kept.length).toBe(10);
    expect(kept.map((f) => f[0])).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    // biome-ignore lint/complexity/useLiteralKeys: reads a private field (TypeScript allows it only in bracket form)
    const size = (await stat(joinPath(store['options'].dir, `${ROOM}.frames`))).size;
    expect(size).toBeLessThanOrEqual(1.5 * 1000 + 15 * 112);
    expect((await store.recent(ROOM, 3)).map((f) => f[0])).toEqual([97, 98, 99]);
    expect(await store.recent('never-written-room')).toEqual([]);
  });

  it('expires frames by age and sweeps dead rooms', async () => {
    let nowMs = 1_000_000;
    const dir = await tempDir();
    const store = new DiskFrameStore({ dir, ageMsMax: 10_000, nowMs: () => nowMs });
    await store.append(ROOM, new Uint8Array([1]));
    nowMs += 6_000;
    await store.append(ROOM, new Uint8Array([2]));
    nowMs += 6_000;
    expect((await store.recent(ROOM)).map((f) => f[0])).toEqual([2]);
    nowMs = Date.now() + 60_000;
    expect(await store.sweep()).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('ignores a torn last record after a crash mid-append', async () => {
    const dir = await tempDir();
    const store = new DiskFrameStore({ dir });
    await store.append(ROOM, new Uint8Array([5, 6, 7]));
    await appendFile(joinPath(dir, `${ROOM}.frames`), Buffer.from([0, 0, 1, 0, 1, 2]));
    const reopened = new DiskFrameStore({ dir });
    expect((await reopened.recent(ROOM)).map((f) => [...f])).toEqual([[5, 6, 7]]);
  });
});

describe('relay store-and-forward', () => {
  it('replays stored frames to a member who joins later, across a relay restart', async () => {
    const dir = await tempDir();
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
    expect(await metric(`http://127.0.0.1:${relay.port}`, 'tidelog_relay_frames_replayed_total')).toBe(20);
    late.ws.close();
    await relay.close();
  });
});
