import { describe, expect, it } from 'vitest';
import { opsFromParsedJson } from '../../src/core/codec.js';
import { DecodeError, decodeOps, encodeOps, JSON_DEPTH_MAX, MalformedOpError, type Op, opsFromWire, Replica, validateOp } from '../../src/core/index.js';

const op = { replica: 'a', seq: 1, wall: 5, logical: 0, key: 'k', type: 'set', value: { n: [1, { deep: 'x' }] } } as const;

describe('ops checked once (decoder -> applyRemote)', () => {
  it('validateOp copies a plain object but returns an op it built as is', () => {
    const plain = { ...op, value: { n: [1, { deep: 'x' }] } };
    const valid = validateOp(plain);
    expect(valid).not.toBe(plain);
    expect(valid.value).not.toBe(plain.value);
    expect(Object.isFrozen(valid)).toBe(true);
    expect(validateOp(valid)).toBe(valid);
    // A look-alike (same fields, not built by the core) is still checked and copied.
    const lookAlike = { ...valid };
    expect(validateOp(lookAlike)).not.toBe(lookAlike);
    expect(() => validateOp({ ...valid, seq: 0 })).toThrow(MalformedOpError);
    // Even one that shares the prototype of a built op is checked: the mark is a private brand, not the class.
    const sameProto = Object.assign(Object.create(Object.getPrototypeOf(valid)), { ...valid, seq: 0 });
    expect(() => validateOp(sameProto)).toThrow(MalformedOpError);
    // Built ops look like plain ops: the same fields, in the same order, and a delete has no `value` field.
    expect(Object.keys(valid)).toEqual(['replica', 'seq', 'wall', 'logical', 'key', 'type', 'value']);
    expect('value' in validateOp({ replica: 'a', seq: 2, wall: 6, logical: 0, key: 'k', type: 'delete' })).toBe(false);
  });

  it('decoded ops are frozen all the way down, and applyRemote keeps the decoded objects', async () => {
    const [decoded] = decodeOps(encodeOps([op as Op])) as [Op];
    const value = decoded.value as { n: [number, { deep: string }] };
    expect(Object.isFrozen(decoded)).toBe(true);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.n)).toBe(true);
    expect(Object.isFrozen(value.n[1])).toBe(true);
    expect(() => {
      (value.n[1] as { deep: string }).deep = 'changed';
    }).toThrow(TypeError);
    const replica = await Replica.open({ replicaId: 'r' });
    await replica.applyRemote([decoded]);
    expect(replica.opById('a', 1)).toBe(decoded);
    expect(replica.get('k')).toEqual({ n: [1, { deep: 'x' }] });
    await replica.close();
  });

  it('a parsed batch gets the same checks as opsFromWire, and the caller-owned form is never frozen', () => {
    let deep: unknown = 1;
    for (let i = 0; i < JSON_DEPTH_MAX + 1; i++) deep = [deep];
    const tooDeep = { v: 1, r: ['a'], o: [[0, 1, 5, 0, 'k', deep]] };
    expect(() => opsFromParsedJson(JSON.parse(JSON.stringify(tooDeep)))).toThrow(DecodeError);
    expect(() => opsFromWire(JSON.parse(JSON.stringify(tooDeep)))).toThrow(DecodeError);
    for (const bad of [
      { v: 1, r: ['a'], o: [[0, 0, 5, 0, 'k', 1]] },
      { v: 1, r: ['a'], o: [[1, 1, 5, 0, 'k', 1]] },
      { v: 1, r: ['a'], o: [['constructor', 1, 5, 0, 'k', 1]] },
      { v: 1, r: ['a'], o: [[0, 1, -1, 0, 'k']] },
      { v: 1, r: ['a'], o: [[0, 1, 5, 0, '', 1]] },
    ]) {
      expect(() => opsFromParsedJson(JSON.parse(JSON.stringify(bad)))).toThrow(DecodeError);
      expect(() => opsFromWire(bad)).toThrow(DecodeError);
    }
    const wire = { v: 1, r: ['a'], o: [[0, 1, 5, 0, 'k', { x: [1] }]] };
    const [copied] = opsFromWire(wire) as [Op];
    expect(Object.isFrozen(wire.o[0]?.[5])).toBe(false);
    expect(copied.value).toEqual({ x: [1] });
  });
});
