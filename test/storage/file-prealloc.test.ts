/**
 * Preallocated segments: the active segment is zero-filled ahead of its records (so a sync
 * flushes data without a journal commit for a grown file). A crash leaves that zero tail on
 * disk: recovery must read it as free space, keep appending over it, still catch a torn
 * record written into it, and a clean close or a roll trims it away.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeOps } from '../../src/core/codec.js';
import type { Op } from '../../src/core/op.js';
import { FileStorage } from '../../src/storage/file/file-storage.js';
import { encodeRecord, FILE_HEADER_BYTES, segmentName } from '../../src/storage/file/format.js';
import { verifyDirectory } from '../../src/storage/file/verify.js';
import { useTempDirs } from '../support/temp-dirs.js';

const tempDir = useTempDirs();
const quiet = () => undefined;

function batch(seq: number): Op[] {
  return [{ replica: 'p', seq, wall: seq, logical: 0, key: `k${seq}`, type: 'set', value: `value ${seq}` }];
}

async function loadBatches(dir: string): Promise<{ batches: Op[][]; storage: FileStorage }> {
  const storage = await FileStorage.open(dir, { log: quiet });
  const loaded = await storage.load();
  const batches: Op[][] = [];
  for await (const b of loaded.batches) batches.push([...b]);
  return { batches, storage };
}

/** Copies the database files as a crash would leave them (the writer still has them open). */
function crashCopy(from: string): string {
  const to = tempDir();
  for (const name of fs.readdirSync(from)) if (name !== 'LOCK') fs.copyFileSync(path.join(from, name), path.join(to, name));
  return to;
}

describe('file log: preallocated segments', () => {
  it('zero-fills the active segment while open and trims it to its records on close and on roll', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { segmentBytesMax: 64 * 1024 });
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    for (let seq = 1; seq <= 5; seq++) await storage.append(batch(seq));
    const file = path.join(dir, segmentName(1));
    expect(fs.statSync(file).size).toBe(64 * 1024);
    const dataEnd = storage.stats().segmentBytes;
    expect(dataEnd).toBeLessThan(64 * 1024);
    // Roll over: the full segment is trimmed, the new one is preallocated.
    const big = [{ ...batch(6)[0], value: 'x'.repeat(64 * 1024) } as Op];
    await storage.append(big);
    expect(fs.statSync(file).size).toBe(dataEnd);
    // The record is larger than the preallocation: the file simply grows past it.
    expect(fs.statSync(path.join(dir, segmentName(2))).size).toBeGreaterThan(64 * 1024);
    await storage.append(batch(7));
    await storage.close();
    const sizes = fs.readdirSync(dir).filter((n) => n.endsWith('.tlog')).map((n) => fs.statSync(path.join(dir, n)).size);
    expect(sizes.length).toBe(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(storage.stats().segmentBytes);
    expect(verifyDirectory(dir).ok).toBe(true);
  });

  it('after a crash, the zero tail is free space: nothing reported, every synced batch back, appends continue over it', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    for (let seq = 1; seq <= 20; seq++) await storage.append(batch(seq));
    const crashed = crashCopy(dir);
    await storage.close();
    expect(fs.statSync(path.join(crashed, segmentName(1))).size).toBeGreaterThan(storage.stats().segmentBytes);
    expect(verifyDirectory(crashed).ok).toBe(true);

    const first = await loadBatches(crashed);
    expect(first.batches).toEqual(Array.from({ length: 20 }, (_, i) => batch(i + 1)));
    expect(first.storage.recovery.damage).toEqual([]);
    expect(first.storage.recovery.bytesDropped).toBe(0);
    for (let seq = 21; seq <= 30; seq++) await first.storage.append(batch(seq));
    const again = crashCopy(crashed);
    await first.storage.close();
    const second = await loadBatches(again);
    expect(second.batches).toEqual(Array.from({ length: 30 }, (_, i) => batch(i + 1)));
    expect(second.storage.recovery.damage).toEqual([]);
    await second.storage.close();
  });

  it('a torn record written into the zero tail is still a torn tail, and a stray byte far into it too', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    for (let seq = 1; seq <= 3; seq++) await storage.append(batch(seq));
    const end = storage.stats().segmentBytes;
    const crashed = crashCopy(dir);
    await storage.close();
    const file = path.join(crashed, segmentName(1));
    const pristine = fs.readFileSync(file);
    for (const [what, at, bytes] of [
      ['partial record header', end, [0x30, 0, 0]],
      ['record cut short', end, [0x30, 0, 0, 0, 1, 2, 3, 4, 0x7b]],
      ['stray byte', end + 100_000, [1]],
    ] as const) {
      const damaged = Buffer.from(pristine);
      damaged.set(bytes, at);
      fs.writeFileSync(file, damaged);
      const { batches, storage: reopened } = await loadBatches(crashed);
      expect(batches, what).toEqual([batch(1), batch(2), batch(3)]);
      expect(reopened.recovery.damage.map((d) => [d.kind, d.offset]), what).toEqual([['torn-tail', end]]);
      await reopened.close();
      expect(fs.statSync(file).size, what).toBe(end);
    }
    expect(end).toBeGreaterThan(FILE_HEADER_BYTES);
  });

  it('writes each record byte for byte as encodeRecord(encodeOps(batch)), small, reused-buffer and oversized alike', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { segmentBytesMax: 64 * 1024 * 1024 });
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    const batches: Op[][] = [batch(1), [{ ...batch(2)[0], key: 'ключ \ud83c\udf89 "quoted"', value: { nested: ['\u0000', 'é'] } } as Op], [{ ...batch(3)[0], value: 'y'.repeat(5_000_000) } as Op], batch(4)];
    for (const b of batches) await storage.append(b);
    await storage.close();
    const expected = Buffer.concat(batches.map((b) => encodeRecord(encodeOps(b))));
    const bytes = fs.readFileSync(path.join(dir, segmentName(1)));
    expect(Buffer.compare(bytes.subarray(FILE_HEADER_BYTES), expected)).toBe(0);
    const { batches: loaded, storage: reopened } = await loadBatches(dir);
    expect(loaded).toEqual(batches);
    await reopened.close();
  });
});

describe('file log: the next segment is prepared ahead', () => {
  const SEGMENT_BYTES = 64 * 1024;
  function bigBatch(seq: number): Op[] {
    return [{ replica: 'p', seq, wall: seq, logical: 0, key: `k${seq}`, type: 'set', value: 'v'.repeat(4_000) }];
  }
  const spareName = (index: number) => `${segmentName(index)}.tmp`;
  /** A log whose first segment is half full, so its spare has been prepared; `written` batches so far. */
  async function openHalfFull(): Promise<{ dir: string; storage: FileStorage; written: number }> {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { segmentBytesMax: SEGMENT_BYTES });
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    let written = 0;
    while (storage.stats().segmentBytes * 2 < SEGMENT_BYTES) await storage.append(bigBatch(++written));
    await storage.spareSettled();
    return { dir, storage, written };
  }

  it('starts the next segment as a spare once the active one is half full, and renames it into place at the roll', async () => {
    const { dir, storage, written: halfFull } = await openHalfFull();
    let seq = halfFull;
    expect(fs.existsSync(path.join(dir, spareName(2)))).toBe(true);
    // Nothing of it is in the log yet: a copy taken now (a crash) recovers without it, and deletes it.
    const crashed = crashCopy(dir);
    while (storage.stats().segments === 1) await storage.append(bigBatch(++seq));
    expect(storage.stats().sparesUsed).toBe(1);
    expect(fs.existsSync(path.join(dir, spareName(2)))).toBe(false);
    expect(fs.statSync(path.join(dir, segmentName(2))).size).toBe(SEGMENT_BYTES);
    const written = seq;
    for (let i = 0; i < 40; i++) await storage.append(bigBatch(++seq));
    expect(storage.stats().sparesUsed).toBeGreaterThanOrEqual(2);
    await storage.close();
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(verifyDirectory(dir).ok).toBe(true);
    const reopened = await loadBatches(dir);
    expect(reopened.batches).toEqual(Array.from({ length: seq }, (_, i) => bigBatch(i + 1)));
    expect(reopened.storage.recovery.damage).toEqual([]);
    await reopened.storage.close();

    const early = await loadBatches(crashed);
    expect(early.storage.recovery.removedFiles).toEqual([spareName(2)]);
    expect(early.storage.recovery.damage).toEqual([]);
    expect(early.batches.length).toBeLessThan(written);
    expect(early.batches).toEqual(Array.from({ length: early.batches.length }, (_, i) => bigBatch(i + 1)));
    await early.storage.close();
  });

  it('a crash right after the roll keeps every synced record in the renamed spare (its name was synced with them)', async () => {
    const { dir, storage, written: halfFull } = await openHalfFull();
    let seq = halfFull;
    while (storage.stats().segments === 1) await storage.append(bigBatch(++seq));
    await storage.append(bigBatch(++seq));
    const crashed = crashCopy(dir);
    await storage.close();
    const reopened = await loadBatches(crashed);
    expect(reopened.batches).toEqual(Array.from({ length: seq }, (_, i) => bigBatch(i + 1)));
    expect(reopened.storage.recovery.damage).toEqual([]);
    expect(reopened.storage.recovery.bytesDropped).toBe(0);
    await reopened.storage.close();
  });

  it('a spare not ready at the roll is dropped: the segment is created in place, and close leaves no temporary file', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { segmentBytesMax: SEGMENT_BYTES, durability: 'interval' });
    await storage.load();
    await storage.writeMeta({ replicaId: 'p' });
    // 'interval' appends do not wait for a sync, so the rolls come before the spares are written.
    for (let seq = 1; seq <= 60; seq++) await storage.append(bigBatch(seq));
    expect(storage.stats().segments).toBeGreaterThan(2);
    expect(storage.stats().sparesUsed).toBeLessThan(storage.stats().segments - 1);
    await storage.close();
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const reopened = await loadBatches(dir);
    expect(reopened.batches).toEqual(Array.from({ length: 60 }, (_, i) => bigBatch(i + 1)));
    expect(reopened.storage.recovery.damage).toEqual([]);
    expect(reopened.storage.recovery.removedFiles).toEqual([]);
    await reopened.storage.close();
  });
});
