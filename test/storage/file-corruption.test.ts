/**
 * Recovery of the file log from torn writes and bit rot, on real files: truncation
 * at every byte offset of the last records and at every record boundary, single
 * bit flips and byte replacements throughout segments, snapshots and meta.
 * Recovery must restore exactly the intact prefix or refuse with a typed error;
 * damaged bytes never come back as data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOps } from '../../src/core/codec.js';
import { StorageCorruptError } from '../../src/core/errors.js';
import type { Op } from '../../src/core/op.js';
import { seededRandom } from '../../src/core/random.js';
import { FileStorage } from '../../src/storage/file/file-storage.js';
import { FILE_HEADER_BYTES, RECORD_HEADER_BYTES, segmentName, snapshotName } from '../../src/storage/file/format.js';
import { makeTempDir, removeDir } from './helpers.js';

const SEED = 0x7e1d_2026;
const quiet = () => undefined;

function makeBatches(count: number, random: ReturnType<typeof seededRandom>): Op[][] {
  const batches: Op[][] = [];
  let seq = 0;
  for (let b = 0; b < count; b++) {
    const size = 1 + (random.nextUint32() % 3);
    const batch: Op[] = [];
    for (let i = 0; i < size; i++) {
      seq += 1;
      const value = 'v'.repeat(random.nextUint32() % 200);
      batch.push({ replica: 'writer', seq, wall: 1_000 + seq, logical: 0, key: `k${seq % 17}`, type: 'set', value });
    }
    batches.push(batch);
  }
  return batches;
}

/** Record end offsets computed independently of the reader: header, then 8 + payload bytes per batch. */
function recordEnds(batches: readonly Op[][]): number[] {
  const ends: number[] = [];
  let offset = FILE_HEADER_BYTES;
  for (const batch of batches) {
    offset += RECORD_HEADER_BYTES + encodeOps(batch).length;
    ends.push(offset);
  }
  return ends;
}

async function writeReference(dir: string, batches: readonly Op[][], segmentBytesMax = 1 << 24): Promise<void> {
  const storage = await FileStorage.open(dir, { segmentBytesMax });
  await storage.load();
  await storage.writeMeta({ replicaId: 'writer' });
  for (const batch of batches) await storage.append(batch);
  await storage.close();
}

async function loadAll(dir: string, readOnly = false): Promise<{ batches: Op[][]; storage: FileStorage }> {
  const storage = await FileStorage.open(dir, { log: quiet, readOnly });
  const loaded = await storage.load();
  const batches: Op[][] = [];
  for await (const batch of loaded.batches) batches.push([...batch]);
  await storage.close();
  return { batches, storage };
}

describe('file log recovery from damage', () => {
  const random = seededRandom(SEED);
  let work: string;
  let reference: string;
  const batches = makeBatches(40, random);
  const ends = recordEnds(batches);
  let segmentBytes: Uint8Array;
  let metaBytes: Uint8Array;

  beforeAll(async () => {
    work = makeTempDir();
    reference = path.join(work, 'reference');
    await writeReference(reference, batches);
    segmentBytes = fs.readFileSync(path.join(reference, segmentName(1)));
    metaBytes = fs.readFileSync(path.join(reference, 'meta.json'));
    expect(segmentBytes.length).toBe(ends.at(-1));
  });
  afterAll(() => removeDir(work));

  function trialDir(name: string, segment: Uint8Array): string {
    const dir = path.join(work, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'meta.json'), metaBytes);
    fs.writeFileSync(path.join(dir, segmentName(1)), segment);
    return dir;
  }

  it('truncation at every byte of the last six records and at every record boundary recovers exactly the intact prefix', async () => {
    const cuts = new Set<number>();
    for (let cut = ends.at(-7) as number; cut <= segmentBytes.length; cut++) cuts.add(cut);
    for (const end of ends) cuts.add(end);
    for (let cut = 0; cut <= FILE_HEADER_BYTES; cut++) cuts.add(cut);
    let tried = 0;
    let writable = 0;
    for (const cut of cuts) {
      const dir = trialDir('truncate', segmentBytes.subarray(0, cut));
      const intact = ends.filter((end) => end <= cut).length;
      const boundary = intact === 0 ? (cut >= FILE_HEADER_BYTES ? FILE_HEADER_BYTES : 0) : (ends[intact - 1] as number);
      // Every cut through a read-only open (the same recovery decisions, no fsyncs); a sample also through a writable one that cuts the file.
      const reader = await loadAll(dir, true);
      expect(JSON.stringify(reader.batches), `cut at ${cut}`).toBe(JSON.stringify(batches.slice(0, intact)));
      expect(reader.storage.recovery.damage.map((d) => [d.kind, d.offset, d.bytes]), `cut at ${cut}`).toEqual(cut === boundary && cut >= FILE_HEADER_BYTES ? [] : [['torn-tail', boundary, cut - boundary]]);
      if (tried % 8 === 0 || cut === boundary) {
        const { batches: recovered, storage } = await loadAll(dir);
        expect(JSON.stringify(recovered), `cut at ${cut}`).toBe(JSON.stringify(batches.slice(0, intact)));
        expect(storage.recovery.bytesDropped, `cut at ${cut}`).toBe(cut - boundary);
        expect(fs.existsSync(path.join(dir, segmentName(1))) ? fs.statSync(path.join(dir, segmentName(1))).size : 0).toBe(boundary);
        const again = await loadAll(dir);
        expect(again.storage.recovery.damage).toEqual([]);
        expect(again.batches.length).toBe(intact);
        writable += 1;
      }
      tried += 1;
    }
    console.log(`[file-corruption] truncation crash points tried: ${tried} (${writable} also recovered through a writable open)`);
    expect(tried).toBeGreaterThan(1_000);
  });

  it('a bit flip or byte change anywhere in a segment is refused with the file and offset, or cuts only the damaged last record', async () => {
    const flips = new Random(seededRandom(SEED + 1));
    let refused = 0;
    let truncated = 0;
    const trials = 1_200;
    for (let t = 0; t < trials; t++) {
      const damaged = Uint8Array.from(segmentBytes);
      const position = flips.below(damaged.length);
      if (t % 2 === 0) damaged[position] = (damaged[position] as number) ^ (1 << flips.below(8));
      else damaged[position] = ((damaged[position] as number) + 1 + flips.below(255)) & 0xff;
      const dir = trialDir('flip', damaged);
      const record = ends.findIndex((end) => position < end);
      const inLast = position >= FILE_HEADER_BYTES && record === batches.length - 1;
      if (inLast) {
        const { batches: recovered, storage } = await loadAll(dir);
        expect(JSON.stringify(recovered), `flip at ${position}`).toBe(JSON.stringify(batches.slice(0, -1)));
        expect(storage.recovery.bytesDropped).toBe(segmentBytes.length - (ends.at(-2) as number));
        truncated += 1;
        continue;
      }
      const before = fs.readFileSync(path.join(dir, segmentName(1)));
      // Most trials open read-only (same decisions, no lock file); every fourth takes the writable path.
      const error = await FileStorage.open(dir, { log: quiet, readOnly: t % 4 !== 0 }).then(
        (s) => s.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(error, `flip at ${position}`).toBeInstanceOf(StorageCorruptError);
      const start = position < FILE_HEADER_BYTES ? 0 : record === 0 ? FILE_HEADER_BYTES : (ends[record - 1] as number);
      expect((error as StorageCorruptError).details).toMatchObject({ file: segmentName(1), offset: start });
      expect((error as Error).message).toContain(`${segmentName(1)} is damaged at byte ${start}`);
      // A refused open changes nothing on disk.
      expect(Buffer.compare(fs.readFileSync(path.join(dir, segmentName(1))), before)).toBe(0);
      refused += 1;
    }
    console.log(`[file-corruption] segment corruptions tried: ${trials} (${refused} refused with offset, ${truncated} cut as torn last record)`);
    expect(refused + truncated).toBe(trials);
    expect(truncated).toBeGreaterThan(0);
  });

  it('damage in an earlier segment is refused even in its last record; a missing segment is refused too', async () => {
    const dir = path.join(work, 'multi');
    const many = makeBatches(120, seededRandom(SEED + 2));
    await writeReference(dir, many, 4096);
    const names = fs.readdirSync(dir).filter((n) => n.endsWith('.tlog')).sort();
    expect(names.length).toBeGreaterThan(3);
    const pristine = new Map(names.map((n) => [n, fs.readFileSync(path.join(dir, n))]));
    const flips = new Random(seededRandom(SEED + 3));
    let tried = 0;
    for (let t = 0; t < 300; t++) {
      const name = names[flips.below(names.length - 1)] as string; // never the last segment
      const bytes = Uint8Array.from(pristine.get(name) as Uint8Array);
      const position = flips.below(bytes.length);
      bytes[position] = (bytes[position] as number) ^ (1 << flips.below(8));
      fs.writeFileSync(path.join(dir, name), bytes);
      const error = await FileStorage.open(dir, { log: quiet }).then(
        (s) => s.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(error, `${name}@${position}`).toBeInstanceOf(StorageCorruptError);
      expect((error as StorageCorruptError).details.file).toBe(name);
      expect((error as StorageCorruptError).details.offset as number).toBeLessThanOrEqual(position);
      fs.writeFileSync(path.join(dir, name), pristine.get(name) as Uint8Array);
      tried += 1;
    }
    console.log(`[file-corruption] multi-segment corruptions tried: ${tried}`);
    const middle = names[1] as string;
    fs.renameSync(path.join(dir, middle), path.join(work, 'held-aside'));
    await expect(FileStorage.open(dir, { log: quiet })).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', details: { file: middle } });
    fs.renameSync(path.join(work, 'held-aside'), path.join(dir, middle));
    const { batches: recovered } = await loadAll(dir);
    expect(recovered).toEqual(many);
  });

  it('a damaged snapshot or meta.json is refused, never loaded', async () => {
    const { Replica } = await import('../../src/core/replica.js');
    const { ManualClock } = await import('../../src/core/clock.js');
    const dir = path.join(work, 'snap');
    const clock = new ManualClock(5_000);
    const replica = await Replica.open({ storage: await FileStorage.open(dir), clock, replicaId: 'snapper' });
    for (let i = 0; i < 200; i++) await replica.set(`k${i % 40}`, { i });
    await replica.compact({ retainOps: 20 });
    const expected = replica.entries();
    await replica.close();
    const snapFile = fs.readdirSync(dir).find((n) => n.startsWith('snap-')) as string;
    expect(snapFile).toBe(snapshotName(Number(snapFile.slice(5, 15))));
    const pristine = fs.readFileSync(path.join(dir, snapFile));
    const pristineMeta = fs.readFileSync(path.join(dir, 'meta.json'));
    const flips = new Random(seededRandom(SEED + 4));
    let tried = 0;
    for (let t = 0; t < 200; t++) {
      const [file, original] = t % 4 === 3 ? ['meta.json', pristineMeta] : [snapFile, pristine];
      const bytes = Uint8Array.from(original);
      const position = flips.below(bytes.length);
      bytes[position] = (bytes[position] as number) ^ (1 << flips.below(8));
      fs.writeFileSync(path.join(dir, file), bytes);
      await expect(FileStorage.open(dir, { log: quiet }), `${file}@${position}`).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', details: { file } });
      fs.writeFileSync(path.join(dir, file), original);
      tried += 1;
    }
    console.log(`[file-corruption] snapshot/meta corruptions tried: ${tried}`);
    const reopened = await Replica.open({ storage: await FileStorage.open(dir), clock });
    expect(reopened.entries()).toEqual(expected);
    await reopened.close();
  });
});

/** Uniform integers below a bound from the seeded generator. */
class Random {
  constructor(private readonly source: ReturnType<typeof seededRandom>) {}
  below(bound: number): number {
    return this.source.nextUint32() % bound;
  }
}
