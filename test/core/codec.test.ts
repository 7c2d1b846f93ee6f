import { describe, expect, it } from 'vitest';
import { DecodeError, decodeOps, encodeOps, type Op, opsFromWire, opsToWire } from '../../src/core/index.js';

const ops: Op[] = [
  { replica: 'a', seq: 1, wall: 1_700_000_000_000, logical: 0, key: 'k', type: 'set', value: { n: [1, 2.5, null, true, 'ü'] } },
  { replica: 'b', seq: 7, wall: 3, logical: 9, key: 'émoji 🦀', type: 'delete' },
  { replica: 'a', seq: 2, wall: 1_700_000_000_000, logical: 1, key: 'k', type: 'set', value: '' },
  { replica: 'a', seq: 3, wall: 1_700_000_000_000, logical: 2, key: 'p', type: 'set', value: JSON.parse('{"__proto__":{"x":1}}') },
];

const text = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('op codec', () => {
  it('round-trips a batch, listing each replica once', () => {
    const bytes = encodeOps(ops);
    expect(decodeOps(bytes)).toEqual(ops);
    expect(JSON.stringify(decodeOps(bytes))).toBe(JSON.stringify(ops));
    expect(opsToWire(ops).r).toEqual(['a', 'b']);
    expect(decodeOps(encodeOps([]))).toEqual([]);
    expect(opsFromWire(opsToWire(ops))).toEqual(ops);
  });

  it('decoded values are frozen copies', () => {
    const [first] = decodeOps(encodeOps(ops));
    expect(Object.isFrozen(first?.value)).toBe(true);
  });

  const garbage: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['not JSON', text('{v:1')],
    ['JSON null', text('null')],
    ['JSON number', text('5')],
    ['wrong version', text({ v: 2, r: ['a'], o: [] })],
    ['missing version', text({ r: ['a'], o: [] })],
    ['replica table not an array', text({ v: 1, r: 'a', o: [] })],
    ['op list not an array', text({ v: 1, r: ['a'], o: {} })],
    ['row not an array', text({ v: 1, r: ['a'], o: [{}] })],
    ['row too short', text({ v: 1, r: ['a'], o: [[0, 1, 2, 3]] })],
    ['row too long', text({ v: 1, r: ['a'], o: [[0, 1, 2, 3, 'k', 1, 2]] })],
    ['replica index out of range', text({ v: 1, r: ['a'], o: [[1, 1, 2, 3, 'k']] })],
    ['replica index negative', text({ v: 1, r: ['a'], o: [[-1, 1, 2, 3, 'k']] })],
    ['replica index a string', text({ v: 1, r: ['a'], o: [['0', 1, 2, 3, 'k']] })],
    ['replica id not a string', text({ v: 1, r: [5], o: [[0, 1, 2, 3, 'k']] })],
    ['seq 0', text({ v: 1, r: ['a'], o: [[0, 0, 2, 3, 'k']] })],
    ['wall negative', text({ v: 1, r: ['a'], o: [[0, 1, -2, 3, 'k']] })],
    ['logical fractional', text({ v: 1, r: ['a'], o: [[0, 1, 2, 3.5, 'k']] })],
    ['key empty', text({ v: 1, r: ['a'], o: [[0, 1, 2, 3, '']] })],
    ['key a number', text({ v: 1, r: ['a'], o: [[0, 1, 2, 3, 4]] })],
    ['set value null is fine but huge seq is not', text({ v: 1, r: ['a'], o: [[0, 2 ** 40, 2, 3, 'k', null]] })],
    ['second row bad', text({ v: 1, r: ['a'], o: [[0, 1, 2, 3, 'k'], [0, 2, 2, 3]] })],
  ];

  for (const [name, bytes] of garbage) {
    it(`rejects garbage: ${name}`, () => {
      let error: unknown;
      try {
        decodeOps(bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DecodeError);
      expect(error).toMatchObject({ code: 'DECODE_FAILED' });
    });
  }

  it('rejects a non-byte input and a non-object wire form', () => {
    expect(() => decodeOps('{"v":1}' as never)).toThrow(DecodeError);
    expect(() => opsFromWire(undefined)).toThrow(DecodeError);
  });

  it('rejects random bytes without throwing anything untyped', () => {
    let state = 12345;
    for (let round = 0; round < 300; round++) {
      const bytes = encodeOps(ops.slice(0, 1 + (round % ops.length)));
      const i = round % bytes.length;
      state = (state * 1103515245 + 12345) >>> 0;
      bytes[i] = state & 0xff;
      try {
        const decoded = decodeOps(bytes);
        expect(Array.isArray(decoded)).toBe(true); // a flip can still leave valid JSON
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
      }
    }
  });
});
