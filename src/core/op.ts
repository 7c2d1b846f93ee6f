/**
 * Ops: the immutable entries of the log. An op is identified by (replica, seq)
 * and ordered by (wall, logical, replica): a total order every replica agrees on.
 */
import { InvalidValueError, MalformedOpError } from './errors.js';
import { type HlcTimestamp, LOGICAL_MAX, WALL_MAX } from './hlc.js';
import { freezeParsedJson, type JsonValue, toJsonValue } from './json.js';

/** The kinds of op. `delete` is a tombstone that wins or loses like any write. */
export type OpType = 'set' | 'delete';

/** One write in the log. `value` is present exactly when `type` is `'set'`. */
export interface Op extends HlcTimestamp {
  /** Id of the replica that wrote it. */
  readonly replica: string;
  /** Per-replica sequence number, contiguous from 1. */
  readonly seq: number;
  /** The key written. */
  readonly key: string;
  /** `set` or `delete`. */
  readonly type: OpType;
  /** The value set (absent for `delete`). */
  readonly value?: JsonValue;
}

/** A write as the caller describes it, before it gets an id and a timestamp. */
export type OpInput<V = unknown> = { readonly type: 'set'; readonly key: string; readonly value: V } | { readonly type: 'delete'; readonly key: string };

/** Highest sequence number accepted: keeps per-replica indexes inside array bounds. */
export const SEQ_MAX = 2 ** 32 - 2;

/** Longest key accepted, in UTF-16 code units (local writes and remote ops alike). */
export const KEY_LENGTH_MAX = 16_384;

/** Longest replica id accepted on the wire. */
export const REPLICA_ID_LENGTH_MAX = 128;

/**
 * The merge order: negative when `a` loses to `b`. Total, and identical on every
 * replica: (wall, logical, replica) is unique per op of a correct replica, and
 * `seq` settles the tie when a buggy or hostile one reuses a timestamp (otherwise
 * the winner would depend on arrival order and replicas would diverge).
 */
export function compareOps(a: Op, b: Op): number {
  if (a.wall !== b.wall) return a.wall - b.wall;
  if (a.logical !== b.logical) return a.logical - b.logical;
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1;
  return a.seq - b.seq;
}

/** `replica:seq`, for messages and maps. */
export function opIdString(op: Pick<Op, 'replica' | 'seq'>): string {
  return `${op.replica}:${op.seq}`;
}

/** True when two ops with the same id also carry the same content (a harmless duplicate). */
export function sameOpContent(a: Op, b: Op, valuesEqual: (x: JsonValue | undefined, y: JsonValue | undefined) => boolean): boolean {
  return a.wall === b.wall && a.logical === b.logical && a.key === b.key && a.type === b.type && valuesEqual(a.value, b.value);
}

function isNatural(n: unknown, min: number): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= min;
}

function malformed(index: number, field: string, why: string): never {
  throw new MalformedOpError(`op ${index}: ${field} ${why}`, { index, field });
}

/**
 * Ops built by this module: frozen, value included, so they stay valid. Checking one again (a decoder built it,
 * then `applyRemote` is handed it) would repeat the same walk and copy the value a second time. The private
 * brand marks them: `#checked in op` cannot be forged from outside the module and costs nothing to carry (a
 * WeakSet did the same job at about 0.7 us per op added, several times the cost of building the op, plus GC work).
 * Instances look like plain ops to everyone else: the same own enumerable fields in the same order.
 */
class CheckedOp {
  readonly #checked = true;
  declare readonly replica: string;
  declare readonly seq: number;
  declare readonly wall: number;
  declare readonly logical: number;
  declare readonly key: string;
  declare readonly type: OpType;
  declare readonly value?: JsonValue;

  constructor(replica: string, seq: number, wall: number, logical: number, key: string, type: OpType, value: JsonValue | undefined) {
    const fields = this as { -readonly [K in keyof Op]: Op[K] };
    fields.replica = replica;
    fields.seq = seq;
    fields.wall = wall;
    fields.logical = logical;
    fields.key = key;
    fields.type = type;
    // A delete has no `value` field at all, not an undefined one.
    if (type === 'set') fields.value = value as JsonValue;
    // Frozen, like the value: the op is shared by the log, the state, storage and every reader.
    Object.freeze(this);
  }

  /** True for ops this module built (and so checked). */
  static isChecked(input: object): input is Op {
    return #checked in input;
  }
}

/**
 * Checks that untrusted input has the shape of an op and returns a clean copy
 * (unknown fields dropped, the op and its value deep-copied and frozen).
 * An op this function (or a core decoder) returned is returned as is: it is frozen and was checked already.
 * @throws MalformedOpError saying which field is wrong.
 */
export function validateOp(input: unknown, index = 0): Op {
  if (typeof input !== 'object' || input === null) throw new MalformedOpError(`op ${index} is not an object`, { index });
  if (CheckedOp.isChecked(input)) return input;
  const { replica, seq, wall, logical, key, type, value } = input as Record<string, unknown>;
  return buildOp(replica, seq, wall, logical, key, type, value, index, copyValue);
}

/**
 * For decoders of freshly parsed JSON only (not exported from the package): builds and checks an op whose value
 * came straight out of `JSON.parse`, so it is frozen in place instead of copied (nobody else holds it).
 * @throws MalformedOpError saying which field is wrong.
 */
export function opFromParsedJson(replica: unknown, seq: unknown, wall: unknown, logical: unknown, key: unknown, type: 'set' | 'delete', value: unknown, index: number): Op {
  return buildOp(replica, seq, wall, logical, key, type, value, index, adoptValue);
}

function buildOp(
  replica: unknown,
  seq: unknown,
  wall: unknown,
  logical: unknown,
  key: unknown,
  type: unknown,
  value: unknown,
  index: number,
  ownValue: (value: unknown, index: number) => JsonValue,
): Op {
  if (typeof replica !== 'string' || replica.length === 0 || replica.length > REPLICA_ID_LENGTH_MAX) malformed(index, 'replica', `must be a string of 1 to ${REPLICA_ID_LENGTH_MAX} characters`);
  if (!isNatural(seq, 1) || seq > SEQ_MAX) malformed(index, 'seq', `must be an integer from 1 to ${SEQ_MAX}`);
  // Bounded, so nothing decoded (from a peer or from storage) can push the clock's arithmetic past exact integers.
  if (!isNatural(wall, 0) || wall > WALL_MAX) malformed(index, 'wall', `must be an integer from 0 to ${WALL_MAX}`);
  if (!isNatural(logical, 0) || logical > LOGICAL_MAX) malformed(index, 'logical', `must be an integer from 0 to ${LOGICAL_MAX}`);
  if (typeof key !== 'string' || key.length === 0 || key.length > KEY_LENGTH_MAX) malformed(index, 'key', `must be a string of 1 to ${KEY_LENGTH_MAX} characters`);
  if (type === 'delete') {
    if (value !== undefined) malformed(index, 'value', 'must be absent on a delete');
    return new CheckedOp(replica, seq, wall, logical, key, type, undefined);
  }
  if (type !== 'set') malformed(index, 'type', "must be 'set' or 'delete'");
  if (value === undefined) malformed(index, 'value', 'is missing on a set');
  return new CheckedOp(replica, seq, wall, logical, key, type, ownValue(value, index));
}

function adoptValue(value: unknown, index: number): JsonValue {
  if (typeof value !== 'object' || value === null) return copyValue(value, index);
  try {
    return freezeParsedJson(value);
  } catch (error) {
    if (error instanceof InvalidValueError) malformed(index, 'value', `is not a JSON value (${error.message})`);
    throw error;
  }
}

function copyValue(value: unknown, index: number): JsonValue {
  // Primitives need no copy: skip the walk on the hot path.
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || value === null) return value as JsonValue;
  try {
    return toJsonValue(value);
  } catch (error) {
    if (error instanceof InvalidValueError) malformed(index, 'value', `is not a JSON value (${error.message})`);
    throw error;
  }
}
