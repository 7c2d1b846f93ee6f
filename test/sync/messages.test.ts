import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/core/errors.js';
import type { Op } from '../../src/core/op.js';
import { decodeMessage, encodeMessage, type SyncMessage } from '../../src/sync/messages.js';

const ops: Op[] = [
  { replica: 'a', seq: 1, wall: 10, logical: 0, key: 'k', type: 'set', value: { n: 1 } },
  { replica: 'b', seq: 4, wall: 11, logical: 2, key: 'j', type: 'delete' },
];

const bodyFrame = (type: number, body: unknown, version = 1): Uint8Array => {
  const json = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  return Uint8Array.from([version, type, ...json]);
};

describe('sync messages', () => {
  const samples: SyncMessage[] = [
    { type: 'hello', from: 'a', versionVector: { a: 3, b: 1 }, horizon: {}, tips: { a: [10, 0] }, replyWanted: true },
    { type: 'hello', from: 'a', to: 'b', versionVector: {}, horizon: { a: 2 }, tips: {}, replyWanted: false },
    { type: 'hello', from: 'a', versionVector: { b: 2 }, horizon: {}, tips: { b: [4, 0] }, heldPastGaps: { b: [[4, 6], [9, 9]], c: [[3, 3]] }, replyWanted: false },
    { type: 'ops', from: 'a', ops },
    { type: 'ops', from: 'a', to: 'b', ops: [] },
    { type: 'snapshot', from: 'a', to: 'b', transferId: 7, part: 1, parts: 3, horizon: { a: 9 }, ops },
  ];

  it('round-trips every message type', () => {
    for (const message of samples) expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it('writes a version byte and a type byte first', () => {
    const frame = encodeMessage(samples[3] as SyncMessage);
    expect(frame[0]).toBe(4);
    expect(frame[1]).toBe(2);
  });

  const bad: [string, Uint8Array][] = [
    ['empty frame', new Uint8Array()],
    ['header only', Uint8Array.from([1, 1])],
    ['wrong version', bodyFrame(1, { f: 'a', vv: {}, h: {}, tp: {}, r: 0 }, 2)],
    ['unknown type', bodyFrame(9, { f: 'a' })],
    ['invalid UTF-8', Uint8Array.from([1, 1, 0xff, 0xfe, 0xfd])],
    ['truncated JSON', bodyFrame(1, '{"f":"a","vv":{')],
    ['array body', bodyFrame(1, [1, 2])],
    ['missing field', bodyFrame(1, { f: 'a', vv: {}, h: {}, r: 0 })],
    ['tip without vector entry', bodyFrame(1, { f: 'a', vv: {}, h: {}, tp: { a: [1, 0] }, r: 0 })],
    ['held range at or below the vector', bodyFrame(1, { f: 'a', vv: { b: 5 }, h: {}, tp: {}, gx: { b: [[5, 7]] }, r: 0 })],
    ['held ranges out of order', bodyFrame(1, { f: 'a', vv: {}, h: {}, tp: {}, gx: { b: [[8, 9], [3, 4]] }, r: 0 })],
    ['inverted held range', bodyFrame(1, { f: 'a', vv: {}, h: {}, tp: {}, gx: { b: [[9, 3]] }, r: 0 })],
    ['empty held ranges', bodyFrame(1, { f: 'a', vv: {}, h: {}, tp: {}, gx: { b: [] }, r: 0 })],
    ['malformed tip', bodyFrame(1, { f: 'a', vv: { a: 1 }, h: {}, tp: { a: [1] }, r: 0 })],
    ['unknown field', bodyFrame(1, { f: 'a', vv: {}, h: {}, tp: {}, r: 0, extra: 1 })],
    ['empty sender', bodyFrame(1, { f: '', vv: {}, h: {}, tp: {}, r: 0 })],
    ['numeric recipient', bodyFrame(1, { f: 'a', t: 5, vv: {}, h: {}, tp: {}, r: 0 })],
    ['bad reply flag', bodyFrame(1, { f: 'a', vv: {}, h: {}, tp: {}, r: true })],
    ['negative vv entry', bodyFrame(1, { f: 'a', vv: { a: -1 }, h: {}, tp: {}, r: 0 })],
    ['fractional vv entry', bodyFrame(1, { f: 'a', vv: { a: 1.5 }, h: {}, tp: {}, r: 0 })],
    ['ops not a batch', bodyFrame(2, { f: 'a', o: [1, 2] })],
    ['malformed op', bodyFrame(2, { f: 'a', o: { v: 1, r: ['a'], o: [[0, 0, 1, 0, 'k']] } })],
    ['op with unknown replica index', bodyFrame(2, { f: 'a', o: { v: 1, r: ['a'], o: [[3, 1, 1, 0, 'k']] } })],
    ['snapshot without recipient', bodyFrame(3, { f: 'a', x: 0, i: 0, n: 1, h: {}, o: { v: 1, r: [], o: [] } })],
    ['snapshot part out of range', bodyFrame(3, { f: 'a', t: 'b', x: 0, i: 2, n: 2, h: {}, o: { v: 1, r: [], o: [] } })],
    ['snapshot with too many parts', bodyFrame(3, { f: 'a', t: 'b', x: 0, i: 0, n: 1e6, h: {}, o: { v: 1, r: [], o: [] } })],
  ];
  for (const [name, frame] of bad) {
    it(`rejects ${name} with a DecodeError`, () => {
      expect(() => decodeMessage(frame)).toThrow(DecodeError);
    });
  }

  it('rejects every truncation and most single-byte corruptions of a valid frame with DecodeError only', () => {
    const frame = encodeMessage(samples[5] as SyncMessage);
    let rejected = 0;
    for (let cut = 0; cut < frame.length; cut++) {
      expect(() => decodeMessage(frame.subarray(0, cut))).toThrow(DecodeError);
      rejected += 1;
    }
    for (let at = 0; at < frame.length; at++) {
      const copy = frame.slice();
      copy[at] = (copy[at] as number) ^ 0x5a;
      try {
        decodeMessage(copy);
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
        rejected += 1;
      }
    }
    expect(rejected).toBeGreaterThan(frame.length);
  });
});
