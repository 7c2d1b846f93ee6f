/** File-log behaviour beyond the shared contract: damage handling, repair, locks, modes, cleanup. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { InvalidArgumentError, StorageCorruptError } from '../../src/core/errors.js';
import { StorageLockedError } from '../../src/storage/errors.js';
import type { Op } from '../../src/core/op.js';
import { Replica } from '../../src/core/replica.js';
import { FileStorage, type FileStorageOptions } from '../../src/storage/file/file-storage.js';
import { FILE_HEADER_BYTES, segmentName } from '../../src/storage/file/format.js';
import { verifyDirectory } from '../../src/storage/file/verify.js';
import { useTempDirs } from '../support/temp-dirs.js';

const tempDir = useTempDirs();

const quiet = () => undefined;

async function writeKeys(dir: string, count: number, options: FileStorageOptions = {}): Promise<Map<string, number>> {
  const replica = await Replica.open({ storage: await FileStorage.open(dir, options), clock: new ManualClock(1_000), replicaId: 'w' });
  const values = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    await replica.set(`k${i}`, i);
    values.set(`k${i}`, i);
  }
  await replica.close();
  return values;
}

/** Offsets of record starts in a segment, read from the framing. */
function recordStarts(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = FILE_HEADER_BYTES; offset < bytes.length; offset += 8 + view.getUint32(offset, true)) starts.push(offset);
  return starts;
}

describe('file log: mid-log damage and repair', () => {
  it('refuses mid-log damage with file and offset, verify reports it, and repair keeps the prefix and moves the rest aside', async () => {
    const dir = tempDir();
    await writeKeys(dir, 30);
    const file = path.join(dir, segmentName(1));
    const original = fs.readFileSync(file);
    const starts = recordStarts(original);
    const damagedAt = starts[12] as number;
    const damaged = Buffer.from(original);
    damaged[damagedAt + 10] = (damaged[damagedAt + 10] as number) ^ 0x40;
    fs.writeFileSync(file, damaged);

    const error = await FileStorage.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptError);
    expect((error as StorageCorruptError).details).toMatchObject({ file: segmentName(1), offset: damagedAt });
    expect(Buffer.compare(fs.readFileSync(file), damaged)).toBe(0);

    const report = verifyDirectory(dir);
    expect(report.ok).toBe(false);
    expect(report.damage).toEqual([expect.objectContaining({ file: segmentName(1), offset: damagedAt, kind: 'corrupt' })]);

    const lines: string[] = [];
    const storage = await FileStorage.open(dir, { repair: true, log: (line) => lines.push(line) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`moved ${original.length - damagedAt} bytes`);
    expect(storage.recovery.movedAside).toEqual([`damaged/${segmentName(1)}.from-${damagedAt}`]);
    const aside = fs.readFileSync(path.join(dir, 'damaged', `${segmentName(1)}.from-${damagedAt}`));
    expect(Buffer.compare(aside, damaged.subarray(damagedAt))).toBe(0);
    const replica = await Replica.open({ storage, clock: new ManualClock(2_000) });
    // The first 12 records (one set each, after meta) survive; nothing after the damage is returned.
    expect(replica.keys().sort()).toEqual(Array.from({ length: 12 }, (_, i) => `k${i}`).sort());
    expect(replica.get('k11')).toBe(11);
    await replica.set('after-repair', true);
    await replica.close();
    expect(verifyDirectory(dir).ok).toBe(true);
    const again = await FileStorage.open(dir);
    expect(again.recovery.damage).toEqual([]);
    await again.close();
  });

  it('refuses a damaged snapshot; repair moves it aside and keeps the tail; a damaged meta.json stays fatal', async () => {
    const dir = tempDir();
    const clock = new ManualClock(1_000);
    const replica = await Replica.open({ storage: await FileStorage.open(dir), clock, replicaId: 's' });
    for (let i = 0; i < 50; i++) await replica.set(`k${i % 10}`, i);
    await replica.compact({ retainOps: 5 });
    await replica.set('after', true);
    await replica.close();
    const snap = fs.readdirSync(dir).find((n) => n.endsWith('.snap')) as string;
    const bytes = fs.readFileSync(path.join(dir, snap));
    bytes[40] = (bytes[40] as number) ^ 0x10;
    fs.writeFileSync(path.join(dir, snap), bytes);
    await expect(FileStorage.open(dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', details: { file: snap } });
    expect(verifyDirectory(dir).damage).toEqual([expect.objectContaining({ file: snap, kind: 'corrupt' })]);
    const storage = await FileStorage.open(dir, { repair: true, log: quiet });
    expect(storage.recovery.movedAside).toEqual([`damaged/${snap}`]);
    const repaired = await Replica.open({ storage, clock });
    // What the segments still hold survives: here the one partly covered segment has every op, so nothing is lost.
    expect(repaired.horizon()).toEqual({});
    expect(repaired.get('after')).toBe(true);
    expect(repaired.get('k0')).toBe(40);
    expect(repaired.size).toBe(11);
    // What was moved aside may have reached peers: the repaired database writes under a new replica id.
    expect(repaired.identityRotatedFrom).toBe('s');
    const newId = repaired.replicaId;
    expect(newId).not.toBe('s');
    await repaired.close();
    const meta = path.join(dir, 'meta.json');
    const metaText = fs.readFileSync(meta, 'utf8');
    expect(metaText).toContain(`"${newId}"`);
    fs.writeFileSync(meta, metaText.replace(`"${newId}"`, `"${newId.slice(1)}x"`));
    await expect(FileStorage.open(dir, { repair: true })).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', details: { file: 'meta.json' } });
  });

  it('cuts a torn tail, reports it and logs one line with the bytes dropped', async () => {
    const dir = tempDir();
    const values = await writeKeys(dir, 10);
    const file = path.join(dir, segmentName(1));
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7])); // a record header promising 40 bytes, then 3
    const readOnly = verifyDirectory(dir);
    expect(readOnly.damage).toEqual([expect.objectContaining({ kind: 'torn-tail', offset: size, bytes: 11 })]);
    const lines: string[] = [];
    const storage = await FileStorage.open(dir, { log: (line) => lines.push(line) });
    expect(storage.recovery.bytesDropped).toBe(11);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/dropped 11 bytes of torn tail/);
    expect(fs.statSync(file).size).toBe(size);
    const replica = await Replica.open({ storage });
    expect(new Map(replica.entries())).toEqual(values);
    await replica.close();
  });

  it('opens read-only without the lock, changes nothing and refuses writes', async () => {
    const dir = tempDir();
    await writeKeys(dir, 5);
    const file = path.join(dir, segmentName(1));
    fs.appendFileSync(file, Buffer.from([1, 2, 3]));
    const size = fs.statSync(file).size;
    const reader = await FileStorage.open(dir, { readOnly: true });
    expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);
    expect(fs.statSync(file).size).toBe(size);
    const replica = await Replica.open({ storage: reader });
    expect(replica.size).toBe(5);
    await expect(replica.set('x', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    // A writer may open beside the reader; it is the one that cuts the torn tail.
    const writer = await FileStorage.open(dir, { log: quiet });
    expect(fs.statSync(file).size).toBe(size - 3);
    await writer.close();
    await replica.close();
  });
});

describe('file log: lock', () => {
  it('refuses a second writer in the same process until the first closes', async () => {
    const dir = tempDir();
    const first = await FileStorage.open(dir);
    await expect(FileStorage.open(dir)).rejects.toBeInstanceOf(StorageLockedError);
    await first.close();
    const second = await FileStorage.open(dir);
    expect(second.staleLockPid).toBeUndefined();
    await second.close();
  });

  it('refuses while another live process holds the lock and takes it over once that process is gone', async () => {
    const dir = tempDir();
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = holder.pid as number;
    fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid, hostname: os.hostname() }));
    const error = await FileStorage.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageLockedError);
    expect((error as StorageLockedError).details.pid).toBe(pid);
    expect((error as Error).message).toContain(`process ${pid}`);
    await new Promise((resolve) => {
      holder.on('exit', resolve);
      holder.kill('SIGKILL');
    });
    const storage = await FileStorage.open(dir);
    expect(storage.staleLockPid).toBe(pid);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8')).pid).toBe(process.pid);
    await storage.close();
    expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);
  });

  it('treats a fresh unreadable lock as held and an old one as stale', async () => {
    const dir = tempDir();
    const lock = path.join(dir, 'LOCK');
    fs.writeFileSync(lock, '');
    await expect(FileStorage.open(dir)).rejects.toBeInstanceOf(StorageLockedError);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const storage = await FileStorage.open(dir);
    await storage.close();
  });
});

describe('file log: durability modes and options', () => {
  it('sync mode shares one fdatasync among concurrent appends', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir);
    await storage.load();
    const appends = Array.from({ length: 200 }, (_, i) => storage.append([{ replica: 'g', seq: i + 1, wall: i, logical: 0, key: `k${i}`, type: 'set', value: i } satisfies Op]));
    await Promise.all(appends);
    const stats = storage.stats();
    expect(stats.appends).toBe(200);
    // One sync for the first append, one shared by the other 199 that arrived while it ran.
    expect(stats.syncs).toBeLessThanOrEqual(3);
    await storage.close();
  });

  it('keeps every concurrent direct append when segments roll while a sync is in flight', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { segmentBytesMax: 4096 });
    await storage.load();
    await storage.writeMeta({ replicaId: 'roller' });
    const batches = Array.from({ length: 120 }, (_, i) => [{ replica: 'roller', seq: i + 1, wall: i, logical: 0, key: `k${i}`, type: 'set' as const, value: 'r'.repeat(300) }]);
    for (let round = 0; round < 4; round++) await Promise.all(batches.slice(round * 30, round * 30 + 30).map((batch) => storage.append(batch)));
    expect(storage.stats().segments).toBeGreaterThan(5);
    await storage.close();
    const replica = await Replica.open({ storage: await FileStorage.open(dir) });
    expect(replica.size).toBe(120);
    expect(replica.versionVector()).toEqual({ roller: 120 });
    await replica.close();
  });

  it('interval mode acknowledges without waiting for a sync, syncs on its timer, and keeps everything across a clean close', async () => {
    const dir = tempDir();
    const storage = await FileStorage.open(dir, { durability: 'interval', syncIntervalMs: 10 });
    const replica = await Replica.open({ storage, replicaId: 'relaxed' });
    for (let i = 0; i < 50; i++) await replica.set(`k${i}`, i);
    expect(storage.stats().syncs).toBeLessThan(50);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(storage.stats().syncs).toBeGreaterThan(0);
    await replica.close();
    const reopened = await Replica.open({ storage: await FileStorage.open(dir) });
    expect(reopened.size).toBe(50);
    await reopened.close();
  });

  it('rejects invalid options with typed errors', async () => {
    const dir = tempDir();
    await expect(FileStorage.open(dir, { durability: 'never' as 'sync' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(FileStorage.open(dir, { syncIntervalMs: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(FileStorage.open(dir, { segmentBytesMax: 10 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(FileStorage.open(path.join(dir, 'missing'), { readOnly: true })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('file log: snapshots and cleanup', () => {
  it('removes covered segments on compaction and finishes an interrupted cleanup on open', async () => {
    const dir = tempDir();
    const clock = new ManualClock(1_000);
    const replica = await Replica.open({ storage: await FileStorage.open(dir, { segmentBytesMax: 4096 }), clock, replicaId: 'c' });
    for (let i = 0; i < 400; i++) await replica.set(`k${i % 25}`, 'v'.repeat(i % 40));
    const segmentsBefore = fs.readdirSync(dir).filter((n) => n.endsWith('.tlog'));
    await replica.compact({ retainOps: 10 });
    const snapshotsAfterFirst = fs.readdirSync(dir).filter((n) => n.endsWith('.snap'));
    const segmentsAfter = fs.readdirSync(dir).filter((n) => n.endsWith('.tlog'));
    expect(segmentsBefore.length).toBeGreaterThan(5);
    expect(segmentsAfter.length).toBeLessThanOrEqual(2);
    expect(snapshotsAfterFirst).toHaveLength(1);
    const expected = replica.entries();
    await replica.close();
    // A crash between the snapshot rename and the cleanup leaves an older snapshot, an obsolete segment and a temp file.
    const firstSnapshot = snapshotsAfterFirst[0] as string;
    fs.writeFileSync(path.join(dir, 'snap-0000000000.snap'), fs.readFileSync(path.join(dir, firstSnapshot)));
    fs.writeFileSync(path.join(dir, segmentName(0)), 'obsolete');
    fs.writeFileSync(path.join(dir, `${firstSnapshot}.tmp`), 'half-written');
    const storage = await FileStorage.open(dir);
    expect([...storage.recovery.removedFiles].sort()).toEqual([`${firstSnapshot}.tmp`, segmentName(0), 'snap-0000000000.snap'].sort());
    const reopened = await Replica.open({ storage, clock });
    expect(reopened.entries()).toEqual(expected);
    await reopened.close();
  });
});

describe('file log: identity after a lost tail', () => {
  it('a torn tail cut on open makes the replica take a new id, so no sequence number is written twice', async () => {
    const dir = tempDir();
    const first = await Replica.open({ storage: await FileStorage.open(dir), clock: new ManualClock(1_000) });
    for (let i = 0; i < 5; i++) await first.set(`k${i}`, i);
    const oldId = first.replicaId;
    await first.close();
    // A partial record at the end: what a crash in the middle of a write leaves.
    fs.appendFileSync(path.join(dir, segmentName(1)), Buffer.from([0x30, 0x00, 0x00, 0x00, 0x99, 0x12]));

    const storage = await FileStorage.open(dir, { log: quiet });
    expect(storage.recovery.bytesDropped).toBe(6);
    const reopened = await Replica.open({ storage, clock: new ManualClock(2_000) });
    expect(reopened.identityRotatedFrom).toBe(oldId);
    expect(reopened.replicaId).not.toBe(oldId);
    expect(reopened.size).toBe(5);
    const op = await reopened.set('k0', 'new');
    expect(op).toMatchObject({ replica: reopened.replicaId, seq: 1 });
    await reopened.close();

    const clean = await Replica.open({ storage: await FileStorage.open(dir), clock: new ManualClock(3_000) });
    expect(clean.replicaId).toBe(reopened.replicaId);
    expect(clean.identityRotatedFrom).toBeUndefined();
    expect(clean.get('k0')).toBe('new');
    await clean.close();
  });
});
