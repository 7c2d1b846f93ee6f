/**
 * The simulator's oracle for reused op ids. An id may name several ops over a run when devices are
 * re-created under old ids; the oracle must count reuse exactly when two different ops under one id both
 * existed somewhere, and exempt exactly the acknowledged ops a fault destroyed with no copy left.
 * (Soak seed 20207: an op swept as lost while its frame was still in flight, and a lost mark left on an id
 * after it was written again, hid a reuse the sessions had reported, so the run was judged as if none had happened.)
 */
import { describe, expect, it } from 'vitest';
import type { Op } from '../../src/core/op.js';
import { History } from '../../src/sim/tidelog/history.js';

function op(seq: number, wall: number, key = 'k'): Op {
  return { replica: 'x', seq, wall, logical: 0, key, type: 'set', value: wall };
}

describe('simulator oracle: reused ids', () => {
  it('counts a second op under a held id as reuse', () => {
    const history = new History();
    history.recordCommitted([op(1, 10)]);
    history.recordCommitted([op(1, 20)]);
    expect(history.reusedIds).toEqual(['x:1']);
  });

  it('lets an id whose op was lost be written once more without reuse, and counts the third write', () => {
    const history = new History();
    const first = op(1, 10);
    history.recordCommitted([first]);
    history.markLost(first);
    history.recordCommitted([op(1, 20)]);
    expect(history.reusedIds).toEqual([]);
    // The first op stays lost (its acknowledgement stays exempt); the second one is not.
    expect(history.isLost(first)).toBe(true);
    expect(history.isLost(op(1, 20))).toBe(false);
    history.recordCommitted([op(1, 30)]);
    expect(history.reusedIds).toEqual(['x:1']);
  });

  it('counts the rewrite of a lost op as reuse when the op surfaces on a peer after all, before or after it', () => {
    for (const mergedFirst of [true, false]) {
      const history = new History();
      const first = op(1, 10);
      history.recordCommitted([first]);
      history.markLost(first);
      if (mergedFirst) history.recordMerged([first]);
      history.recordCommitted([op(1, 20)]);
      if (!mergedFirst) history.recordMerged([first]);
      expect(history.reusedIds, mergedFirst ? 'merged first' : 'merged after').toEqual(['x:1']);
      // Still exempt as an acknowledged write: the copy that surfaced may be lost again unsynced.
      expect(history.isLost(first)).toBe(true);
    }
  });

  it('does not un-lose an op when the id arrives with the content written since', () => {
    const history = new History();
    const first = op(1, 10);
    history.recordCommitted([first]);
    history.markLost(first);
    history.recordCommitted([op(1, 20)]);
    history.recordMerged([op(1, 20)]);
    expect(history.isLost(first)).toBe(true);
    expect(history.reusedIds).toEqual([]);
  });

  it('counts a merged op whose id the oracle knows with other content once', () => {
    const history = new History();
    history.reuseExpected = true;
    history.recordCommitted([op(1, 10)]);
    history.recordMerged([op(1, 20)]);
    history.recordMerged([op(1, 20)]);
    expect(history.reusedIds).toEqual(['x:1']);
  });
});
