/**
 * 'sync' mode writes each record through an O_DSYNC descriptor (one trip to the thread pool, durable on
 * return). What that must keep: one durable write per append, the exact bytes, and the failure rules: a
 * failed durable write may be a failed flush, so it poisons the storage like a failed fdatasync.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageFailedError } from '../../src/core/errors.js';
import type { Op } from '../../src/core/op.js';
import { FileStorage } from '../../src/storage/file/file-storage.js';
import { segmentName } from '../../src/storage/file/format.js';
import { useTempDirs } from '../support/temp-dirs.js';

const tempDir = useTempDirs();

function batch(seq: number): Op[] {
  return [{ replica: 'p', seq, wall: seq, logical: 0, key: `k${seq}`, type: 'set', value: seq }];
}

async function reload(dir: string): Promise<Op[][]> {
  const storage = await FileStorage.open(dir, { log: () => undefined });
  const loaded = await storage.load();
  const batches: Op[][] = [];
  for await (const b of loaded.batches) batches.push([...b]);
  await storage.close();
  return batches;
}

// Infinity: every durable write on the thread pool; 1: every one on the event loop (blocking).
describe.each([
  { path: 'thread pool', blockingWriteOpsMin: Number.POSITIVE_INFINITY },
  { path: 'event loop', blockingWriteOpsMin: 1 },
])("file log: durable record writes in 'sync' mode, on the $path", ({ blockingWriteOpsMin }) => {
  it('makes one durable write per awaited append and counts it as a sync', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { blockingWriteOpsMin });
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    for (let seq = 1; seq <= 10; seq++) await storage.append(batch(seq));
    expect(storage.stats()).toMatchObject({ appends: 10, syncs: 10, blockingWrites: blockingWriteOpsMin === 1 ? 10 : 0 });
    await storage.close();
    expect(await reload(dir)).toEqual(Array.from({ length: 10 }, (_, i) => batch(i + 1)));
  });

  it('a durable write that fails for another reason than space poisons the storage; reopening recovers what was acknowledged', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { blockingWriteOpsMin });
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    for (let seq = 1; seq <= 3; seq++) await storage.append(batch(seq));
    // Swap the O_DSYNC descriptor for a read-only one on the same file: the next write fails with EBADF.
    const active = (storage as unknown as { active: { dsyncFd: number } }).active;
    const original = active.dsyncFd;
    const readOnly = fs.openSync(path.join(dir, segmentName(1)), 'r');
    active.dsyncFd = readOnly;
    const error = await storage.append(batch(4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFailedError);
    expect((error as Error & { cause?: { code?: string } }).cause?.code).toBe('EBADF');
    // Poisoned: later writes fail the same way without touching the file, even with a good descriptor back.
    active.dsyncFd = original;
    fs.closeSync(readOnly);
    await expect(storage.append(batch(5))).rejects.toBe(error);
    await storage.close();
    expect(await reload(dir)).toEqual([batch(1), batch(2), batch(3)]);
  });
});

describe('file log: which durable writes block the event loop', () => {
  it('by default, commits of 64 ops or more write on the event loop and smaller ones on the thread pool', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    const big = Array.from({ length: 64 }, (_, i) => batch(10 + i)[0] as Op);
    await storage.append(batch(1));
    await storage.append(big.slice(0, 63).map((op, i) => ({ ...op, seq: 2 + i })));
    await storage.append(big.map((op, i) => ({ ...op, seq: 65 + i })));
    expect(storage.stats()).toMatchObject({ appends: 3, syncs: 3, blockingWrites: 1 });
    await storage.close();
    expect((await reload(dir)).map((b) => b.length)).toEqual([1, 63, 64]);
  });

  it('refuses a blockingWriteOpsMin that is not a positive integer or Infinity, before touching the directory', async () => {
    const dir = path.join(tempDir(), 'db');
    for (const bad of [0, -1, 1.5, Number.NaN, '8' as unknown as number]) {
      await expect(FileStorage.open(dir, { blockingWriteOpsMin: bad })).rejects.toThrow(/blockingWriteOpsMin must be a positive integer or Infinity/);
    }
    expect(fs.existsSync(dir)).toBe(false);
  });
});
