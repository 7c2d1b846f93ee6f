import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { opsToWire } from '../../src/core/codec.js';
import { DecodeError } from '../../src/core/errors.js';
import type { Op } from '../../src/core/op.js';
import { LOGICAL_MAX, WALL_MAX } from '../../src/core/hlc.js';
import { decodeMessage, encodeMessage, peekEnvelope, SYNC_PROTOCOL_VERSION, type SyncMessage } from '../../src/sync/messages.js';
import { expectTruncationsAndFlipsHandled } from '../support/frame-damage.js';


const ops: Op[] = [
  { replica: 'a', seq: 7, wall: 1_764_000_000_000, logical: 0, key: 'user/1', type: 'set', value: { n: 1, tags: ['x', 'ü'], deep: { ok: true } } },
  { replica: 'b', seq: 4_294_967_294, wall: WALL_MAX, logical: LOGICAL_MAX, key: 'k\u2028\ud83d\ude00', type: 'delete' },
  { replica: 'a', seq: 3, wall: 0, logical: 12_345, key: '"quoted"\\', type: 'set', value: null },
  { replica: 'c'.repeat(128), seq: 1, wall: 5, logical: 1, key: 'x'.repeat(300), type: 'set', value: 'text' },
  { replica: 'a', seq: 8, wall: 1_764_000_000_000, logical: 1, key: 'user/1', type: 'set', value: [1.5, -2e300, false] },
];

const encoder = new TextEncoder();

/** A version-2 frame built by hand: header JSON, then raw block bytes. */
function frame(type: number, header: unknown, block: number[] = []): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  return Uint8Array.from([2, type, json.length, ...json, ...block]);
}

/** A block: count, base wall, per-op [tag, zigzag seq delta, wall offset, logical], then the text as bytes. */
function block(count: number, rows: number[][], text: string): number[] {
  const bytes = [...encoder.encode(text)];
  return [count, 0, ...rows.flat(), bytes.length, ...bytes];
}

// Frames are written at version 3 now (see messages-v3.test.ts); the hand-built frames here check the version 2
// reader, which still decodes the plain block, and the behaviour both versions share.
describe('sync messages, version 2 (binary op block)', () => {
  const samples: SyncMessage[] = [
    { type: 'ops', from: 'a', ops },
    { type: 'ops', from: 'a', to: 'b', ops: [] },
    { type: 'snapshot', from: 'a', to: 'b', transferId: 2 ** 40, part: 0, parts: 1, horizon: { a: 9 }, ops },
    { type: 'hello', from: 'a', to: 'b', versionVector: { a: 3 }, horizon: {}, tips: { a: [10, 0] }, heldPastGaps: { b: [[5, 6]] }, replyWanted: true },
  ];

  it('round-trips ops of every shape (extreme seqs, walls and logicals, unicode keys, nested values, deletes)', () => {
    for (const message of samples) {
      const bytes = encodeMessage(message);
      expect(bytes[0]).toBe(SYNC_PROTOCOL_VERSION);
      expect(decodeMessage(bytes)).toEqual(message);
    }
  });

  it('builds frozen ops and frozen values', () => {
    const decoded = decodeMessage(encodeMessage(samples[0] as SyncMessage)) as Extract<SyncMessage, { type: 'ops' }>;
    expect(Object.isFrozen(decoded.ops[0])).toBe(true);
    expect(Object.isFrozen((decoded.ops[0] as Op).value)).toBe(true);
    expect('value' in (decoded.ops[1] as Op)).toBe(false);
  });

  it('is smaller than the version-1 JSON frame', () => {
    const many: Op[] = Array.from({ length: 1000 }, (_, i) => ({ replica: 'writer-replica-id', seq: i + 1, wall: 1_764_000_000_000 + (i >> 4), logical: i & 15, key: `user/${i}/profile`, type: 'set', value: { n: i } }));
    const v2 = encodeMessage({ type: 'ops', from: 'w', ops: many }).length;
    const v1 = encoder.encode(JSON.stringify({ f: 'w', o: opsToWire(many) })).length + 2;
    expect(v2).toBeLessThan(v1 * 0.8);
  });

  it('still decodes version-1 frames', () => {
    const json = encoder.encode(JSON.stringify({ f: 'a', t: 'b', o: opsToWire(ops) }));
    const v1 = Uint8Array.from([1, 2, ...json]);
    expect(decodeMessage(v1)).toEqual({ type: 'ops', from: 'a', to: 'b', ops });
  });

  it('peekEnvelope reads who a frame is from and for, and nothing on version 1 or a bad header', () => {
    expect(peekEnvelope(encodeMessage(samples[1] as SyncMessage))).toEqual({ type: 'ops', from: 'a', to: 'b' });
    expect(peekEnvelope(encodeMessage(samples[0] as SyncMessage))).toEqual({ type: 'ops', from: 'a', to: undefined });
    expect(peekEnvelope(Uint8Array.from([1, 2, ...encoder.encode('{"f":"a","o":{"v":1,"r":[],"o":[]}}')]))).toBeUndefined();
    expect(peekEnvelope(frame(2, { f: 'a', r: [], extra: 1 }))).toBeUndefined();
    expect(peekEnvelope(Uint8Array.from([2, 2, 50, 1, 2]))).toBeUndefined();
  });

  const header = { f: 'a', r: ['a'] };
  const bad: [string, Uint8Array][] = [
    ['an unknown version', Uint8Array.from([4, 2, 2, 123, 125])],
    ['a header length past the end', Uint8Array.from([2, 2, 40, 123, 125])],
    ['a header that is not JSON', Uint8Array.from([2, 2, 3, 123, 34, 125])],
    ['the version-1 op field in a version-2 header', frame(2, { f: 'a', r: [], o: {} }, block(0, [], '[]'))],
    ['a replica table that is not an array', frame(2, { f: 'a', r: 'a' }, block(0, [], '[]'))],
    ['an empty replica id', frame(2, { f: 'a', r: [''] }, block(0, [], '[]'))],
    ['a missing op block', frame(2, header)],
    ['a count larger than the frame holds', frame(2, header, block(100, [[1, 2, 0, 0]], '["k",1]'))],
    ['a replica index past the table', frame(2, header, block(1, [[3, 2, 0, 0]], '["k",1]'))],
    ['a seq of 0', frame(2, header, block(1, [[1, 0, 0, 0]], '["k",1]'))],
    ['a negative seq', frame(2, header, block(1, [[1, 3, 0, 0]], '["k",1]'))],
    ['a missing value', frame(2, header, block(1, [[1, 2, 0, 0]], '["k"]'))],
    ['an extra value', frame(2, header, block(1, [[0, 2, 0, 0]], '["k",1]'))],
    ['a numeric key', frame(2, header, block(1, [[1, 2, 0, 0]], '[5,1]'))],
    ['an empty key', frame(2, header, block(1, [[1, 2, 0, 0]], '["",1]'))],
    ['text that is not an array', frame(2, header, block(1, [[1, 2, 0, 0]], '{"k":1}'))],
    ['text that is not JSON', frame(2, header, block(1, [[1, 2, 0, 0]], '["k",'))],
    ['text that is not UTF-8', frame(2, header, [1, 0, 1, 2, 0, 0, 3, 0xff, 0xfe, 0xfd])],
    ['bytes after the block', frame(2, header, [...block(1, [[1, 2, 0, 0]], '["k",1]'), 0])],
    ['bytes after a hello header', frame(1, { f: 'a', vv: {}, h: {}, tp: {}, r: 0 }, [0])],
    ['an overlong varint', frame(2, header, [0x80, 0x00, 0, 2, 91, 93])],
    ['a varint past 2^53', frame(2, header, [1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 0, 0, 7, ...encoder.encode('["k",1]')])],
    ['a wall past 2^53 after adding the offset', frame(2, header, [1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 0x7f, 0, 7, ...encoder.encode('["k",1]')])],
    ['a varint longer than 8 bytes', frame(2, header, [1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
    ['a value nested deeper than the limit', frame(2, header, block(1, [[1, 2, 0, 0]], `["k",${'['.repeat(300)}${']'.repeat(300)}]`))],
  ];
  for (const [name, bytes] of bad) {
    it(`rejects ${name} with a DecodeError`, () => {
      expect(() => decodeMessage(bytes)).toThrow(DecodeError);
    });
  }

  it('rejects every truncation and every single-bit flip of a valid frame with DecodeError or decodes it to valid ops', () => {
    const bytes = encodeMessage(samples[2] as SyncMessage);
    expect(expectTruncationsAndFlipsHandled(bytes)).toBeGreaterThan(bytes.length * 2);
  });

  it('garbage after a valid header, and garbage frames, only ever raise DecodeError', () => {
    const prefix = encodeMessage({ type: 'ops', from: 'a', ops: [] }).subarray(0, -2);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (tail, keepHeader) => {
        const bytes = keepHeader ? Uint8Array.from([...prefix, ...tail]) : Uint8Array.from([2, ...tail]);
        try {
          const message = decodeMessage(bytes);
          expect(JSON.stringify(decodeMessage(encodeMessage(message)))).toBe(JSON.stringify(message));
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('round-trips arbitrary op batches', () => {
    const opArb = fc.record({
      replica: fc.constantFrom('a', 'bb', 'replica-ü'),
      seq: fc.integer({ min: 1, max: 2 ** 32 - 2 }),
      wall: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: WALL_MAX })),
      logical: fc.oneof(fc.nat(300), fc.integer({ min: 0, max: LOGICAL_MAX })),
      key: fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }),
      set: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (rows) => {
        const batch: Op[] = rows.map(({ set, ...op }) =>
          set === undefined ? { ...op, type: 'delete' } : { ...op, type: 'set', value: JSON.parse(JSON.stringify(set)) },
        );
        const decoded = decodeMessage(encodeMessage({ type: 'ops', from: 'a', ops: batch }));
        expect(decoded).toEqual({ type: 'ops', from: 'a', ops: batch });
      }),
      { numRuns: 300 },
    );
  });
});
