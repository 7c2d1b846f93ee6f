/**
 * Frame version 4: runs of one replica's seqs and clock folded into the tag byte, front-coded keys (or a key
 * table), integer values in the columns. What must hold: everything round-trips (keys no UTF-8 can carry, walls
 * up to 2^53, every integer and non-integer value), frames are much smaller than version 3, and every
 * inconsistency a hostile peer can write is a DecodeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/core/errors.js';
import type { JsonValue } from '../../src/core/json.js';
import { LOGICAL_MAX, WALL_MAX } from '../../src/core/hlc.js';
import type { Op } from '../../src/core/op.js';
import { decodeMessage, encodeMessage, SYNC_PROTOCOL_VERSION, type SyncMessage } from '../../src/sync/messages.js';
import { expectTruncationsAndFlipsHandled } from '../support/frame-damage.js';

const encoder = new TextEncoder();

/** A version-4 ops frame built by hand: header JSON, then the raw block bytes. */
function frame(block: number[], header: unknown = { f: 'a', r: ['a'] }): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  return Uint8Array.from([4, 2, json.length, ...json, ...block]);
}

/** An unsigned LEB128 varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

/** A length-prefixed UTF-8 section (short ones only). */
function section(text: string): number[] {
  const bytes = [...encoder.encode(text)];
  return [bytes.length, ...bytes];
}

/** What the writer makes of a catch-up: one replica, seqs in a run, one clock tick per op, keys in order. */
function run(count: number, keys: number, value: (i: number) => JsonValue = (i) => i): Op[] {
  return Array.from({ length: count }, (_, i): Op => ({ replica: 'writer', seq: i + 1, wall: 1_764_000_000_000 + Math.floor(i / 700), logical: i % 700, key: `user/${i % keys}`, type: 'set', value: value(i) }));
}

function roundTrip(ops: readonly Op[], to?: string): void {
  const message: SyncMessage = to === undefined ? { type: 'ops', from: 'a', ops } : { type: 'ops', from: 'a', to, ops };
  const bytes = encodeMessage(message);
  expect(bytes[0]).toBe(4);
  expect(decodeMessage(bytes)).toEqual(message);
}

describe('sync messages, version 4', () => {
  it('is the version written', () => {
    expect(SYNC_PROTOCOL_VERSION).toBe(4);
    expect(encodeMessage({ type: 'ops', from: 'a', ops: [] })[0]).toBe(4);
  });

  it('round-trips odd batches: several replicas, seqs going back, walls 0 and 2^53 - 1, escaped keys, every kind of value', () => {
    const ops: Op[] = [
      { replica: 'a', seq: 7, wall: 1_764_000_000_000, logical: 0, key: 'user/1', type: 'set', value: { n: 1, tags: ['x', 'ü'], deep: { ok: true } } },
      { replica: 'b', seq: 4_294_967_294, wall: WALL_MAX, logical: LOGICAL_MAX, key: 'k\u2028\ud83d\ude00', type: 'delete' },
      { replica: 'a', seq: 3, wall: 0, logical: 12_345, key: '"quoted"\\', type: 'set', value: null },
      { replica: 'c'.repeat(128), seq: 1, wall: 5, logical: 1, key: 'x'.repeat(300), type: 'set', value: 'text' },
      { replica: 'a', seq: 8, wall: WALL_MAX, logical: 1, key: 'x'.repeat(299) + 'y', type: 'set', value: -(2 ** 52 - 1) },
      { replica: 'a', seq: 9, wall: WALL_MAX, logical: 2, key: 'user/1', type: 'set', value: 2 ** 52 },
      { replica: 'a', seq: 10, wall: 0, logical: 0, key: 'user/2', type: 'set', value: 1.5 },
      { replica: 'a', seq: 11, wall: 0, logical: 1, key: 'user/3', type: 'set', value: JSON.parse('{"__proto__":1}') as JsonValue },
    ];
    roundTrip(ops);
    // A key with a lone surrogate cannot be UTF-8: the keys go as JSON, and still round-trip.
    roundTrip([...ops, { replica: 'a', seq: 12, wall: 0, logical: 2, key: 'lone \ud800 surrogate', type: 'set', value: 1 }], 'b');
    // A surrogate pair split by the shared prefix would make two lone halves: the prefix stops before it.
    roundTrip([
      { replica: 'a', seq: 1, wall: 1, logical: 0, key: 'k\ud83d\ude00', type: 'set', value: 1 },
      { replica: 'a', seq: 2, wall: 1, logical: 1, key: 'k\ud83d\ude01', type: 'set', value: 2 },
    ]);
  });

  it('makes session frames and histories much smaller than version 3', () => {
    const distinct = { type: 'ops', from: 'a', ops: run(1_000, 100_000) } as const;
    const history = { type: 'ops', from: 'a', ops: run(20_000, 1_000) } as const;
    const v4 = encodeMessage(distinct).length;
    expect(v4 / 1_000).toBeLessThan(8);
    expect(v4 * 2).toBeLessThan(encodeMessage(distinct, 3).length);
    const keyed = encodeMessage(history).length;
    expect(keyed / 20_000).toBeLessThan(5);
    expect(keyed * 2).toBeLessThan(encodeMessage(history, 3).length);
    expect(decodeMessage(encodeMessage(history))).toEqual(history);
  });

  it('decodes a hand-built frame: front-coded keys, int values, clock and seq runs', () => {
    const block = [2, 0, 0, 15, 0, 2, 10, 15, 1, 1, 12, ...section('k12'), ...section('[]')];
    expect(decodeMessage(frame(block))).toEqual({
      type: 'ops',
      from: 'a',
      ops: [
        { replica: 'a', seq: 1, wall: 0, logical: 0, key: 'k1', type: 'set', value: 5 },
        { replica: 'a', seq: 2, wall: 0, logical: 1, key: 'k2', type: 'set', value: 6 },
      ],
    });
  });

  const bad: [string, number[], RegExp][] = [
    ['a key sharing more than the key before has', [2, 0, 0, 15, 0, 2, 10, 15, 3, 1, 12, ...section('k12'), ...section('[]')], /shares 3 units/],
    ['a key suffix running past the suffixes', [2, 0, 0, 15, 0, 2, 10, 15, 1, 5, 12, ...section('k12'), ...section('[]')], /runs past the key suffixes/],
    ['suffix text no key uses', [2, 0, 0, 15, 0, 2, 10, 15, 1, 1, 12, ...section('k12zz'), ...section('[]')], /not used by any key/],
    ['an empty key', [1, 0, 0, 15, 0, 0, 10, ...section(''), ...section('[]')], /is 0 units long/],
    ['an int value on a delete', [1, 0, 0, 14, 0, 1, 10, ...section('k'), ...section('[]')], /delete with an int value/],
    ['a key mode that does not exist', [1, 0, 2, 7, 0, 1, ...section('k'), ...section('[1]')], /key mode 2/],
    ['key suffixes in a block whose keys are in the text', [1, 0, 1, 7, ...section('k'), ...section('["k",1]')], /key suffixes in a block/],
    ['a key table larger than the batch', [1, 2, 0, 0, 1, 1, 1, 15, 0, 10, ...section('kj'), ...section('[]')], /key table of 2 keys for 1 ops/],
    ['a key index past the table', [2, 1, 0, 0, 1, 15, 0, 10, 15, 2, 12, ...section('k'), ...section('[]')], /names key 1 of a 1-key table/],
    ['a key index below the table', [2, 1, 0, 0, 1, 15, 0, 10, 15, 1, 12, ...section('k'), ...section('[]')], /names key -1 of a 1-key table/],
    ['a table key in the text that is not a string', [2, 1, 1, 15, 0, 10, 15, 0, 12, ...section(''), ...section('[7]')], /key 0 of the op text is not a key/],
    ['text holding fewer values than the sets', [2, 0, 0, 7, 0, 1, 7, 0, 1, ...section('ab'), ...section('[1]')], /array of 0 keys and 2 values/],
    ['text holding more values than the sets', [1, 0, 0, 7, 0, 1, ...section('a'), ...section('[1,2]')], /array of 0 keys and 1 values/],
    ['an op count the block cannot hold', [...varint(200), 0, 0, 7, 0, 1, ...section('a'), ...section('[1]')], /does not fit/],
    ['a replica index outside the table', [1, 0, 0, 16 + 15, 0, 1, 10, ...section('a'), ...section('[]')], /replica/],
    ['a wall below zero', [1, 0, 0, 1 + 2, 1, 0, 0, 1, ...section('a'), ...section('[1]')], /wall/],
    ['a seq of zero', [1, 0, 0, 1 + 4, 0, 0, 1, ...section('a'), ...section('[1]')], /seq/],
    ['a key longer than the limit', [1, 0, 0, 15, 0, 0x81, 0x80, 0x01, 10, ...section('a'), ...section('[]')], /more than 16384 units/],
    ['bytes after the block', [1, 0, 0, 15, 0, 1, 10, ...section('a'), ...section('[]'), 0], /follow the op batch/],
    ['a missing text section', [1, 0, 0, 15, 0, 1, 10, ...section('a')], /op text length is truncated/],
  ];
  for (const [name, block, reason] of bad) {
    it(`rejects ${name} with a DecodeError saying so`, () => {
      expect(() => decodeMessage(frame(block))).toThrow(DecodeError);
      expect(() => decodeMessage(frame(block))).toThrow(reason);
    });
  }

  it('refuses keys that decode to far more text than the frame holds (a few bytes must not make megabytes)', () => {
    // One 16,000-unit key, then ops that each take it whole and add one unit: 4 bytes per op, 16,001 units each.
    const count = 400;
    const rows = [7, ...varint(0), ...varint(16_000)];
    for (let i = 1; i < count; i++) rows.push(7, ...varint(16_000), ...varint(1));
    const suffixes = [...encoder.encode(`${'x'.repeat(16_000)}${'y'.repeat(count - 1)}`)];
    const text = [...encoder.encode(JSON.stringify(Array.from({ length: count }, () => 1)))];
    const bytes = frame([...varint(count), 0, 0, ...rows, ...varint(suffixes.length), ...suffixes, ...varint(text.length), ...text]);
    expect(() => decodeMessage(bytes)).toThrow(/more than \d+ units of text/);
    // The same shape at 40 ops stays under the bound and decodes.
    const few = 40;
    const fewRows = [7, ...varint(0), ...varint(16_000)];
    for (let i = 1; i < few; i++) fewRows.push(7, ...varint(16_000), ...varint(1));
    const fewSuffixes = [...encoder.encode(`${'x'.repeat(16_000)}${'y'.repeat(few - 1)}`)];
    const fewText = [...encoder.encode(JSON.stringify(Array.from({ length: few }, () => 1)))];
    const decoded = decodeMessage(frame([...varint(few), 0, 0, ...fewRows, ...varint(fewSuffixes.length), ...fewSuffixes, ...varint(fewText.length), ...fewText]));
    expect(decoded.type === 'ops' && decoded.ops.length).toBe(few);
  });

  it('rejects every truncation and every single-bit flip with DecodeError or decodes it to valid ops, in each key layout', () => {
    const layouts: Op[][] = [
      run(24, 3), // key table
      run(12, 100, (i) => (i % 2 ? { n: i } : i)), // front-coded keys, int and JSON values
      run(6, 100).map((op, i) => ({ ...op, key: `\ud800${i}` })), // keys in the text
    ];
    for (const ops of layouts) {
      const bytes = encodeMessage({ type: 'ops', from: 'a', to: 'b', ops });
      expect(expectTruncationsAndFlipsHandled(bytes)).toBeGreaterThan(bytes.length * 2);
    }
  });

  it('round-trips arbitrary batches (any keys, values, seqs and clocks)', () => {
    const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.integer(), fc.maxSafeInteger(), fc.constantFrom(2 ** 52, -(2 ** 52), 2 ** 52 - 1, -0.5));
    const opArb = fc.record({
      replica: fc.constantFrom('a', 'bb', 'replica-ü'),
      seq: fc.integer({ min: 1, max: 2 ** 32 - 2 }),
      wall: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: WALL_MAX }), fc.constant(1_764_000_000_000)),
      logical: fc.oneof(fc.nat(300), fc.integer({ min: 0, max: LOGICAL_MAX })),
      key: fc.oneof(fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }), fc.constantFrom('user/1', 'user/12', 'user/123', 'k', '\ud83d\ude00a')),
      set: fc.option(value, { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (rows) => {
        const batch: Op[] = rows.map(({ set, ...op }) => (set === undefined ? { ...op, type: 'delete' } : { ...op, type: 'set', value: JSON.parse(JSON.stringify(set)) }));
        expect(decodeMessage(encodeMessage({ type: 'ops', from: 'a', ops: batch }))).toEqual({ type: 'ops', from: 'a', ops: batch });
      }),
      { numRuns: 400 },
    );
  });

  it('still reads version 3 frames', () => {
    const message = { type: 'ops', from: 'a', ops: run(50, 5) } as const;
    const v3 = encodeMessage(message, 3);
    expect(v3[0]).toBe(3);
    expect(decodeMessage(v3)).toEqual(message);
  });
});
