/**
 * Frame version 3: the op block may carry a key table (each distinct key once, ops naming theirs by index),
 * written when at most half the ops bring a new key. What must hold: both layouts round-trip, the table is
 * used exactly when it pays, and every inconsistency in it is a DecodeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/core/errors.js';
import type { Op } from '../../src/core/op.js';
import { LOGICAL_MAX, WALL_MAX } from '../../src/core/hlc.js';
import { decodeMessage, encodeMessage as encodeLatest, SYNC_PROTOCOL_VERSION_KEYED_BLOCK, type SyncMessage } from '../../src/sync/messages.js';
import { expectTruncationsAndFlipsHandled } from '../support/frame-damage.js';

const encoder = new TextEncoder();

/** Version 3 is still written on request (rooms with older builds): these tests pin its layout. */
const encodeMessage = (message: SyncMessage): Uint8Array => encodeLatest(message, 3);

/** A version-3 ops frame built by hand: header JSON, then the raw block bytes. */
function frame(header: unknown, block: number[]): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  return Uint8Array.from([3, 2, json.length, ...json, ...block]);
}

/** A keyed block: count, base wall 0, key count, per-op rows (tag, seq delta, wall offset, logical, key index), then the text. */
function keyedBlock(count: number, keyCount: number, rows: number[][], text: string): number[] {
  const bytes = [...encoder.encode(text)];
  return [count, 0, keyCount, ...rows.flat(), bytes.length, ...bytes];
}

/** The key count a written ops frame's block declares (the third varint after the header; small counts only). */
function declaredKeyCount(bytes: Uint8Array): number {
  const headerBytes = bytes[2] as number;
  let at = 3 + headerBytes;
  for (let varint = 0; varint < 2; varint++) while ((bytes[at++] as number) >= 0x80);
  return bytes[at] as number;
}

function history(opCount: number, keyCount: number): Op[] {
  return Array.from({ length: opCount }, (_, i) =>
    i % 7 === 6
      ? { replica: i % 2 ? 'a' : 'b', seq: i + 1, wall: 1_764_000_000_000 + i, logical: 0, key: `user/${i % keyCount}`, type: 'delete' }
      : { replica: i % 2 ? 'a' : 'b', seq: i + 1, wall: 1_764_000_000_000 + i, logical: i % 3, key: `user/${i % keyCount}`, type: 'set', value: { n: i } },
  );
}

describe('sync messages, version 3 (key table; still read, and written on request)', () => {
  it('writes version 3 and a key table when keys repeat, round-tripping every op', () => {
    const ops = history(100, 10);
    const bytes = encodeMessage({ type: 'ops', from: 'a', ops });
    expect(bytes[0]).toBe(SYNC_PROTOCOL_VERSION_KEYED_BLOCK);
    expect(SYNC_PROTOCOL_VERSION_KEYED_BLOCK).toBe(3);
    expect(declaredKeyCount(bytes)).toBe(10);
    expect(decodeMessage(bytes)).toEqual({ type: 'ops', from: 'a', ops });
  });

  it('keeps keys inline when more than half the ops bring a new key, and for tiny batches', () => {
    const distinct = history(100, 100);
    expect(declaredKeyCount(encodeMessage({ type: 'ops', from: 'a', ops: distinct }))).toBe(0);
    expect(declaredKeyCount(encodeMessage({ type: 'ops', from: 'a', ops: history(100, 51) }))).toBe(0);
    expect(declaredKeyCount(encodeMessage({ type: 'ops', from: 'a', ops: history(100, 50) }))).toBe(50);
    expect(declaredKeyCount(encodeMessage({ type: 'ops', from: 'a', ops: history(3, 1) }))).toBe(0);
    expect(decodeMessage(encodeMessage({ type: 'ops', from: 'a', ops: distinct }))).toEqual({ type: 'ops', from: 'a', ops: distinct });
  });

  it('makes a history-heavy batch much smaller than keys inline would', () => {
    const keyed = encodeMessage({ type: 'ops', from: 'a', ops: history(2000, 20) }).length;
    // The same number of ops, every key distinct but as long: what the key column costs inline.
    const inline = encodeMessage({ type: 'ops', from: 'a', ops: history(2000, 2000).map((op, i) => ({ ...op, key: `user/${String(i % 20).padStart(String(i).length, '0')}${i}` })) }).length;
    expect(keyed).toBeLessThan(inline * 0.8);
  });

  it('shares one key string among the decoded ops that name it', () => {
    const decoded = decodeMessage(encodeMessage({ type: 'ops', from: 'a', ops: history(40, 4) })) as Extract<SyncMessage, { type: 'ops' }>;
    expect(decoded.ops[0]?.key).toBe(decoded.ops[4]?.key);
    expect(Object.isFrozen(decoded.ops[0])).toBe(true);
  });

  const header = { f: 'a', r: ['a'] };
  const bad: [string, Uint8Array][] = [
    ['a key index past the table', frame(header, keyedBlock(2, 1, [[1, 2, 0, 0, 0], [1, 2, 0, 0, 1]], '["k",1,2]'))],
    ['a key table larger than the batch', frame(header, keyedBlock(1, 2, [[1, 2, 0, 0, 0]], '["k","j",1]'))],
    ['a key table entry that is not a string', frame(header, keyedBlock(2, 1, [[1, 2, 0, 0, 0], [1, 2, 0, 0, 0]], '[7,1,2]'))],
    ['an empty key in the table', frame(header, keyedBlock(2, 1, [[1, 2, 0, 0, 0], [1, 2, 0, 0, 0]], '["",1,2]'))],
    ['text holding fewer entries than table and values', frame(header, keyedBlock(2, 1, [[1, 2, 0, 0, 0], [1, 2, 0, 0, 0]], '["k",1]'))],
    ['text holding more entries than table and values', frame(header, keyedBlock(2, 1, [[1, 2, 0, 0, 0], [0, 2, 0, 0, 0]], '["k",1,2]'))],
    ['a missing key index', frame(header, [2, 0, 1, 1, 2, 0, 0, 0, 1, 2, 0, 0, 3, ...encoder.encode('["k",1,2]')])],
    ['a missing key count', frame(header, [])],
  ];
  for (const [name, bytes] of bad) {
    it(`rejects ${name} with a DecodeError`, () => {
      expect(() => decodeMessage(bytes)).toThrow(DecodeError);
    });
  }

  it('decodes a hand-built keyed frame', () => {
    const message = decodeMessage(frame(header, keyedBlock(3, 1, [[1, 2, 0, 0, 0], [0, 2, 0, 1, 0], [1, 2, 0, 2, 0]], '["k",1,2]')));
    expect(message).toEqual({
      type: 'ops',
      from: 'a',
      ops: [
        { replica: 'a', seq: 1, wall: 0, logical: 0, key: 'k', type: 'set', value: 1 },
        { replica: 'a', seq: 2, wall: 0, logical: 1, key: 'k', type: 'delete' },
        { replica: 'a', seq: 3, wall: 0, logical: 2, key: 'k', type: 'set', value: 2 },
      ],
    });
  });

  it('rejects every truncation and every single-bit flip of a keyed frame with DecodeError or decodes it to valid ops', () => {
    const bytes = encodeMessage({ type: 'ops', from: 'a', to: 'b', ops: history(24, 3) });
    expect(declaredKeyCount(bytes)).toBe(3);
    expect(expectTruncationsAndFlipsHandled(bytes)).toBeGreaterThan(bytes.length * 2);
  });

  it('round-trips arbitrary batches over a few keys (keyed) and over many (inline)', () => {
    const opArb = (keys: fc.Arbitrary<string>) =>
      fc.record({
        replica: fc.constantFrom('a', 'bb', 'replica-ü'),
        seq: fc.integer({ min: 1, max: 2 ** 32 - 2 }),
        wall: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: WALL_MAX })),
        logical: fc.oneof(fc.nat(300), fc.integer({ min: 0, max: LOGICAL_MAX })),
        key: keys,
        set: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
      });
    const few = fc.constantFrom('k', 'ü/ß', '"quoted"\\', 'x'.repeat(300), '\u2028');
    const many = fc.string({ minLength: 1, maxLength: 20, unit: 'binary' });
    fc.assert(
      fc.property(fc.oneof(fc.array(opArb(few), { maxLength: 60 }), fc.array(opArb(many), { maxLength: 60 })), (rows) => {
        const batch: Op[] = rows.map(({ set, ...op }) => (set === undefined ? { ...op, type: 'delete' } : { ...op, type: 'set', value: JSON.parse(JSON.stringify(set)) }));
        const decoded = decodeMessage(encodeMessage({ type: 'ops', from: 'a', ops: batch }));
        expect(decoded).toEqual({ type: 'ops', from: 'a', ops: batch });
      }),
      { numRuns: 300 },
    );
  });
});
