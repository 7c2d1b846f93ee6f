/** `encodeOpsJson` writes exactly `JSON.stringify(opsToWire(ops))`: the file log's records stay byte for byte the codec's encoding. Replay: see fc-config.ts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeOps, encodeOpsJson, opsToWire } from '../src/core/codec.js';
import type { JsonValue } from '../src/core/json.js';
import type { Op } from '../src/core/op.js';
import { fcParams } from './fc-config.js';

// Keys and values with every kind of code unit: quotes, backslashes, control characters, lone and paired surrogates.
const textArb = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\ud83c', '\udf89', 'a', 'é', '\u2028'), minLength: 1, maxLength: 8 }));
const valueArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant(-0),
  textArb,
  fc.jsonValue() as fc.Arbitrary<JsonValue>,
);
const opArb: fc.Arbitrary<Op> = fc
  .record({
    replica: fc.constantFrom('a', 'b', 'c"d', 'r\ud800'),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    wall: fc.nat(),
    logical: fc.nat(),
    key: textArb,
    del: fc.boolean(),
    value: valueArb,
  })
  .map(({ replica, seq, wall, logical, key, del, value }) => (del ? { replica, seq, wall, logical, key, type: 'delete' } : { replica, seq, wall, logical, key, type: 'set', value }) as Op);

describe('encodeOpsJson', () => {
  it('is JSON.stringify(opsToWire(ops)) for any batch', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), (ops) => {
        expect(encodeOpsJson(ops)).toBe(JSON.stringify(opsToWire(ops)));
      }),
      fcParams(500),
    );
  });

  it('decodes back to the same ops when they are valid', () => {
    const ops: Op[] = [
      { replica: 'a', seq: 1, wall: 5, logical: 0, key: 'plain/key', type: 'set', value: { n: [1, 'x'] } },
      { replica: 'b', seq: 2, wall: 5, logical: 1, key: 'q"uote\\', type: 'delete' },
      { replica: 'a', seq: 3, wall: 6, logical: 0, key: 'ключ \ud83c\udf89', type: 'set', value: -0 },
    ];
    expect(decodeOps(new TextEncoder().encode(encodeOpsJson(ops)))).toEqual(ops.map((op) => (op.type === 'set' && Object.is(op.value, -0) ? { ...op, value: 0 } : op)));
  });
});
