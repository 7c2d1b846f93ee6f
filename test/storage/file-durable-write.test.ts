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

describe("file log: durable record writes in 'sync' mode", () => {
  it('makes one durable write per awaited append and counts it as a sync', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    for (let seq = 1; seq <= 10; seq++) await storage.append(batch(seq));
    expect(storage.stats()).toMatchObject({ appends: 10, syncs: 10 });
    await storage.close();
    expect(await reload(dir)).toEqual(Array.from({ length: 10 }, (_, i) => batch(i + 1)));
  });

  it('a durable write that fails for another reason than space poisons the storage; reopening recovers what was acknowledged', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
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
