/**
 * The snapshot payload codec: version 2 (columnar) round-trips every kind of op, keys the
 * UTF-8 run cannot carry fall back to JSON, version 1 payloads still load, and a payload
 * whose fields are wrong (checksum intact: a bug or a hostile writer) is a DecodeError.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { DecodeError } from '../../src/core/errors.js';
import type { Op } from '../../src/core/op.js';
import { Replica } from '../../src/core/replica.js';
import type { Snapshot } from '../../src/core/storage.js';
import { FileStorage } from '../../src/storage/file/file-storage.js';
import { encodeFileHeader, encodeRecord, snapshotName } from '../../src/storage/file/format.js';
import { decodeSnapshotPayload, encodeSnapshotPayload, encodeSnapshotPayloadV1, SNAPSHOT_PAYLOAD_VERSION } from '../../src/storage/snapshot-codec.js';
import { useTempDirs } from '../support/temp-dirs.js';

const tempDir = useTempDirs();

function op(replica: string, seq: number, key: string, value?: unknown): Op {
  return value === undefined
    ? { replica, seq, wall: 1_700_000_000_000 + seq, logical: seq % 3, key, type: 'delete' }
    : ({ replica, seq, wall: 1_700_000_000_000 + seq, logical: seq % 3, key, type: 'set', value } as Op);
}

const sample: Snapshot = {
  base: { a: 3, b: 2 },
  clock: { wall: 1_700_000_000_009, logical: 4 },
  winners: [
    op('a', 1, 'plain', 1),
    op('a', 2, 'nested', { list: [1, 'two', null, { deep: true }], __proto__x: 'y' }),
    op('b', 1, 'gone'),
    op('a', 3, 'émoji 🎉 ключ', 'значение'),
    op('b', 2, 'x'.repeat(5_000), 'long key'),
  ],
};

describe('snapshot payload', () => {
  it('version 2 round-trips sets, deletes, several replicas, non-ASCII and long keys, nested values (frozen)', () => {
    const bytes = encodeSnapshotPayload(sample);
    expect(bytes[0]).toBe(SNAPSHOT_PAYLOAD_VERSION);
    expect(bytes[1]).toBe(0); // keys as one UTF-8 run
    const decoded = decodeSnapshotPayload(bytes);
    expect(decoded).toEqual(sample);
    for (const winner of decoded.winners) expect(Object.isFrozen(winner)).toBe(true);
    const nested = decoded.winners[1]?.value as { list: unknown[] };
    expect(Object.isFrozen(nested)).toBe(true);
    expect(Object.isFrozen(nested.list)).toBe(true);
    expect(Object.isFrozen(nested.list[3])).toBe(true);
    // Columns are read in place when aligned, copied when not: both give the same ops.
    for (const shift of [1, 4, 8]) {
      const shifted = new Uint8Array(bytes.length + shift);
      shifted.set(bytes, shift);
      expect(decodeSnapshotPayload(shifted.subarray(shift)), `shift ${shift}`).toEqual(sample);
    }
  });

  it('keys with lone surrogates (which UTF-8 cannot carry) fall back to a JSON key list and come back exact', () => {
    const snapshot: Snapshot = { base: { a: 3 }, clock: { wall: 5, logical: 0 }, winners: [op('a', 1, 'ok', 1), op('a', 2, 'lone \ud800 high', 2), op('a', 3, '\udc00', 3)] };
    const bytes = encodeSnapshotPayload(snapshot);
    expect(bytes[1]).toBe(1);
    expect(decodeSnapshotPayload(bytes)).toEqual(snapshot);
    // A pair split across two keys is well-formed as a run and still cut back into the two halves.
    const split: Snapshot = { base: { a: 2 }, clock: { wall: 5, logical: 0 }, winners: [op('a', 1, 'end \ud83c', 1), op('a', 2, '\udf89 start', 2)] };
    const splitBytes = encodeSnapshotPayload(split);
    expect(splitBytes[1]).toBe(0);
    expect(decodeSnapshotPayload(splitBytes)).toEqual(split);
  });

  it('an empty snapshot round-trips', () => {
    const empty: Snapshot = { base: {}, clock: { wall: 0, logical: 0 }, winners: [] };
    expect(decodeSnapshotPayload(encodeSnapshotPayload(empty))).toEqual(empty);
  });

  it('version 1 payloads (JSON) still decode', () => {
    expect(decodeSnapshotPayload(encodeSnapshotPayloadV1(sample))).toEqual(sample);
  });

  it('a payload with wrong fields is a DecodeError, never data', () => {
    const good = encodeSnapshotPayload(sample);
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const columnsAt = good.length - 28 * sample.winners.length;
    const mutations: [string, (b: Uint8Array) => void][] = [
      ['unknown version', (b) => (b[0] = 3)],
      ['unknown key encoding', (b) => (b[1] = 7)],
      ['reserved byte', (b) => (b[3] = 1)],
      ['op count', (b) => view(b).setUint32(4, sample.winners.length + 1, true)],
      ['set count', (b) => view(b).setUint32(8, 1, true)],
      ['header length', (b) => view(b).setUint32(12, view(b).getUint32(12, true) - 1, true)],
      ['seq 0', (b) => view(b).setUint32(columnsAt + 16 * sample.winners.length, 0, true)],
      ['replica index', (b) => view(b).setUint32(columnsAt + 16 * sample.winners.length + 4, 2 * 9 + 1, true)],
      ['set flag', (b) => view(b).setUint32(columnsAt + 16 * sample.winners.length + 2 * 12 + 4, 2 * 1 + 1, true)],
      ['key length', (b) => view(b).setUint32(columnsAt + 16 * sample.winners.length + 8, 2, true)],
      ['zero key length', (b) => view(b).setUint32(columnsAt + 16 * sample.winners.length + 8, 0, true)],
      ['fractional wall', (b) => view(b).setFloat64(columnsAt, 1.5, true)],
      ['negative logical', (b) => view(b).setFloat64(columnsAt + 8, -1, true)],
      ['truncated', (b) => b.fill(0, b.length - 1)],
    ];
    for (const [what, mutate] of mutations) {
      const bytes = good.slice();
      mutate(bytes);
      expect(() => decodeSnapshotPayload(what === 'truncated' ? bytes.subarray(0, bytes.length - 4) : bytes), what).toThrow(DecodeError);
    }
  });
});

describe('snapshot versions on disk', () => {
  it('a database whose snapshot is version 1 opens, and its next compaction writes version 2', async () => {
    const dir = tempDir();
    const writer = await Replica.open({ storage: await FileStorage.open(dir), clock: new ManualClock(1_000), replicaId: 'old' });
    for (let i = 0; i < 50; i++) await writer.set(`k${i % 20}`, { i });
    await writer.delete('k3');
    await writer.compact({ retainOps: 5 });
    const expected = writer.entries();
    await writer.close();
    // Rewrite the snapshot the way the previous version did.
    const name = fs.readdirSync(dir).find((n) => n.startsWith('snap-')) as string;
    const index = Number(name.slice(5, 15));
    const reader = await FileStorage.open(dir, { readOnly: true });
    const snapshot = (await reader.load()).snapshot as Snapshot;
    await reader.close();
    fs.writeFileSync(path.join(dir, name), Buffer.concat([encodeFileHeader('snapshot', index), encodeRecord(encodeSnapshotPayloadV1(snapshot))]));
    expect(snapshotName(index)).toBe(name);

    const reopened = await Replica.open({ storage: await FileStorage.open(dir), clock: new ManualClock(2_000) });
    expect(reopened.entries()).toEqual(expected);
    expect(reopened.history('k3').at(-1)?.type).toBe('delete');
    await reopened.set('k100', 1);
    await reopened.compact({ retainOps: 0 });
    await reopened.close();
    const after = fs.readdirSync(dir).find((n) => n.startsWith('snap-')) as string;
    const bytes = fs.readFileSync(path.join(dir, after));
    expect(bytes[16 + 8]).toBe(SNAPSHOT_PAYLOAD_VERSION);
    const again = await Replica.open({ storage: await FileStorage.open(dir), clock: new ManualClock(3_000) });
    expect(again.entries()).toEqual([...expected, ['k100', 1]].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)));
    await again.close();
  });
});
