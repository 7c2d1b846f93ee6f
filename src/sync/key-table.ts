/**
 * The key table of an op block (frame versions 3 and 4): each distinct key once, and per op the index of its key,
 * written only when keys repeat enough to pay for the table.
 */
import type { Op } from '../core/op.js';

/** A key table is written when the distinct keys are at most this share of the ops. */
const KEY_TABLE_SHARE_MAX = 0.5;
/** Smallest batch that gets a key table: below it the table saves a few bytes for a map's cost. */
const KEY_TABLE_OPS_MIN = 4;

// Per-encode scratch, reused: one encode runs at a time (encoding never awaits).
let keyIndexes = new Uint32Array(1024);
const keyIndexOf = new Map<string, number>();

/** A block's key table: the distinct keys in first-seen order, and per op (by position) its key's index. */
export interface KeyTable {
  readonly keys: string[];
  /** Scratch shared by every encode: read it before the next call of {@link keyTableFor}. */
  readonly indexes: Uint32Array;
}

/** The key table for `ops`, or undefined when the batch is small or its keys repeat too little to pay. */
export function keyTableFor(ops: readonly Op[]): KeyTable | undefined {
  if (ops.length < KEY_TABLE_OPS_MIN) return undefined;
  if (keyIndexes.length < ops.length) keyIndexes = new Uint32Array(Math.max(ops.length, 2 * keyIndexes.length));
  const distinctMax = Math.floor(ops.length * KEY_TABLE_SHARE_MAX);
  const keys: string[] = [];
  try {
    for (let i = 0; i < ops.length; i++) {
      const key = (ops[i] as Op).key;
      let index = keyIndexOf.get(key);
      if (index === undefined) {
        if (keys.length === distinctMax) return undefined;
        index = keys.length;
        keyIndexOf.set(key, index);
        keys.push(key);
      }
      keyIndexes[i] = index;
    }
    return { keys, indexes: keyIndexes };
  } finally {
    keyIndexOf.clear();
  }
}
