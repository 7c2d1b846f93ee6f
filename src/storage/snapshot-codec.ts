/**
 * The payloads of the small files beside the segments: the snapshot record and
 * `meta.json`. Both are validated on read so damaged bytes never become data.
 *
 * Snapshot payload version 2 (written; see docs/storage-format.md) is columnar, so that
 * opening a database of a million live keys does not build a million intermediate row
 * arrays: strings and values are two JSON arrays (one native parse each, and JSON keeps
 * lone surrogates intact), the numbers are fixed-width little-endian columns, and the
 * ops are built once, frozen in place. Version 1 (one JSON object) is still read.
 */
import { opsFromWire, opsToWire } from '../core/codec.js';
import { DecodeError } from '../core/errors.js';
import { isValidTimestamp } from '../core/hlc.js';
import { JSON_DEPTH_MAX, type JsonValue } from '../core/json.js';
import { KEY_LENGTH_MAX, type Op, REPLICA_ID_LENGTH_MAX, SEQ_MAX } from '../core/op.js';
import type { Snapshot, StorageMeta } from '../core/storage.js';
import { validateVersionVector } from '../core/version-vector.js';
import { crc32c } from '../core/crc32c.js';

/** Snapshot payload version written by this code (1 is still read). */
export const SNAPSHOT_PAYLOAD_VERSION = 2;
const META_FORMAT = 1;
/** Bytes of the fixed part of a version-2 payload: version byte, key encoding byte, 2 zero bytes, five u32 counts and lengths. */
const V2_FIXED_BYTES = 24;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a snapshot as a record payload (version 2). */
export function encodeSnapshotPayload(snapshot: Snapshot): Uint8Array {
  // Typed arrays use the platform's byte order; the format is little-endian (every platform Tidelog runs on).
  if (!LITTLE_ENDIAN) throw new RangeError('snapshots are written on little-endian platforms only');
  const ops = snapshot.winners;
  const count = ops.length;
  const replicas: string[] = [];
  const replicaIndex = new Map<string, number>();
  const keys: string[] = new Array(count);
  const values: JsonValue[] = [];
  // wall and logical are safe integers (float64 holds them exactly); seq fits a u32 (SEQ_MAX); the second
  // u32 is the replica index shifted left once, low bit set for a `set`; the third is the key's length.
  const times = new Float64Array(2 * count);
  const ids = new Uint32Array(3 * count);
  for (let i = 0; i < count; i++) {
    const op = ops[i] as Op;
    let r = replicaIndex.get(op.replica);
    if (r === undefined) {
      r = replicas.length;
      replicas.push(op.replica);
      replicaIndex.set(op.replica, r);
    }
    keys[i] = op.key;
    times[2 * i] = op.wall;
    times[2 * i + 1] = op.logical;
    ids[3 * i] = op.seq;
    ids[3 * i + 1] = r * 2 + (op.type === 'set' ? 1 : 0);
    ids[3 * i + 2] = op.key.length;
    if (op.type === 'set') values.push(op.value as JsonValue);
  }
  // Keys go as one UTF-8 run cut by the length column: decoding it is one native call plus a slice per key,
  // where a JSON array of a million strings costs a quarter second to parse. UTF-8 cannot carry a lone
  // surrogate, so a run that is not well-formed falls back to the JSON array (which escapes them).
  const joined = keys.join('');
  const keysAsJson = !isWellFormed(joined);
  const head = encoder.encode(JSON.stringify({ base: snapshot.base, clock: { wall: snapshot.clock.wall, logical: snapshot.clock.logical }, r: replicas }));
  const keyBytes = encoder.encode(keysAsJson ? JSON.stringify(keys) : joined);
  const valueBytes = encoder.encode(JSON.stringify(values));
  const columnsAt = align8(V2_FIXED_BYTES + head.length + keyBytes.length + valueBytes.length);
  const out = new Uint8Array(columnsAt + times.byteLength + ids.byteLength);
  const view = new DataView(out.buffer);
  out[0] = SNAPSHOT_PAYLOAD_VERSION;
  out[1] = keysAsJson ? KEYS_JSON : KEYS_JOINED;
  view.setUint32(4, count, true);
  view.setUint32(8, values.length, true);
  view.setUint32(12, head.length, true);
  view.setUint32(16, keyBytes.length, true);
  view.setUint32(20, valueBytes.length, true);
  out.set(head, V2_FIXED_BYTES);
  out.set(keyBytes, V2_FIXED_BYTES + head.length);
  out.set(valueBytes, V2_FIXED_BYTES + head.length + keyBytes.length);
  out.set(new Uint8Array(times.buffer), columnsAt);
  out.set(new Uint8Array(ids.buffer), columnsAt + times.byteLength);
  return out;
}

/** Decodes and validates a snapshot payload (version 2, or the version-1 JSON form). @throws DecodeError */
export function decodeSnapshotPayload(bytes: Uint8Array): Snapshot {
  if (bytes[0] === 0x7b /* '{' */) return decodeSnapshotV1(bytes);
  if (bytes.length < V2_FIXED_BYTES || bytes[0] !== SNAPSHOT_PAYLOAD_VERSION || (bytes[1] !== KEYS_JOINED && bytes[1] !== KEYS_JSON) || bytes[2] !== 0 || bytes[3] !== 0) {
    throw new DecodeError('snapshot payload has an unknown version');
  }
  if (!LITTLE_ENDIAN) throw new DecodeError('snapshots are read on little-endian platforms only');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true);
  const sets = view.getUint32(8, true);
  const headEnd = V2_FIXED_BYTES + view.getUint32(12, true);
  const keysEnd = headEnd + view.getUint32(16, true);
  const valuesEnd = keysEnd + view.getUint32(20, true);
  const columnsAt = align8(valuesEnd);
  if (sets > count || columnsAt + 28 * count !== bytes.length) throw new DecodeError('snapshot sections do not add up to the payload length');
  for (let i = valuesEnd; i < columnsAt; i++) if (bytes[i] !== 0) throw new DecodeError('snapshot padding is not zero');
  const head = parseSection(bytes, V2_FIXED_BYTES, headEnd, 'header') as { base?: unknown; clock?: { wall?: unknown; logical?: unknown }; r?: unknown };
  if (typeof head !== 'object' || head === null) throw new DecodeError('snapshot header is not an object');
  const replicas = validateReplicaTable(head.r);
  const values = parseSection(bytes, keysEnd, valuesEnd, 'values');
  if (!Array.isArray(values) || values.length !== sets) throw new DecodeError('snapshot value list does not match its set count');
  const times = columnView(bytes, columnsAt, 2 * count, Float64Array);
  const ids = columnView(bytes, columnsAt + 16 * count, 3 * count, Uint32Array);
  const keys = bytes[1] === KEYS_JSON ? parseSection(bytes, headEnd, keysEnd, 'keys') : undefined;
  if (keys !== undefined && (!Array.isArray(keys) || keys.length !== count)) throw new DecodeError('snapshot key list does not match its op count');
  const joined = keys === undefined ? decodeText(bytes, headEnd, keysEnd, 'keys') : '';
  const winners: Op[] = new Array(count);
  let valueAt = 0;
  let keyAt = 0;
  for (let i = 0; i < count; i++) {
    const seq = ids[3 * i] as number;
    const tagged = ids[3 * i + 1] as number;
    const keyLength = ids[3 * i + 2] as number;
    const wall = times[2 * i] as number;
    const logical = times[2 * i + 1] as number;
    const replica = replicas[tagged >>> 1];
    if (replica === undefined) throw new DecodeError(`snapshot op ${i} names no known replica`, { index: i });
    if (seq < 1 || seq > SEQ_MAX) throw new DecodeError(`snapshot op ${i} has sequence number ${seq}`, { index: i });
    if (!isValidTimestamp(wall, logical)) throw new DecodeError(`snapshot op ${i} has no valid timestamp`, { index: i });
    if (keyLength === 0 || keyLength > KEY_LENGTH_MAX || (keys === undefined && keyAt + keyLength > joined.length)) {
      throw new DecodeError(`snapshot op ${i} has no valid key`, { index: i });
    }
    const key = keys === undefined ? joined.slice(keyAt, keyAt + keyLength) : (keys[i] as unknown);
    keyAt += keyLength;
    if (typeof key !== 'string' || key.length !== keyLength) throw new DecodeError(`snapshot op ${i} has no valid key`, { index: i });
    // Same shape and field order as the ops the replica creates, so maps and comparisons stay monomorphic.
    if ((tagged & 1) === 1) {
      if (valueAt === sets) throw new DecodeError('snapshot set count does not match its ops');
      const value = freezeParsed(values[valueAt] as JsonValue, 0);
      valueAt += 1;
      winners[i] = Object.freeze({ replica, seq, wall, logical, key, type: 'set', value });
    } else {
      winners[i] = Object.freeze({ replica, seq, wall, logical, key, type: 'delete' });
    }
  }
  if (valueAt !== sets) throw new DecodeError('snapshot set count does not match its ops');
  if (keys === undefined && keyAt !== joined.length) throw new DecodeError('snapshot keys do not match their lengths');
  return { base: validateBase(head.base), clock: validateClock(head.clock), winners };
}

/** Key encodings of a version-2 payload (its second byte). */
const KEYS_JOINED = 0;
const KEYS_JSON = 1;

/** True when the string has no lone surrogate (so UTF-8 carries it unchanged). */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function decodeText(bytes: Uint8Array, start: number, end: number, what: string): string {
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch (error) {
    throw new DecodeError(`snapshot ${what} section is not UTF-8: ${(error as Error).message}`);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A typed view of a column, without a copy when it is aligned (a whole snapshot file read into one buffer puts
 * the payload, and so its 8-aligned columns, at an aligned address); otherwise a copy into a fresh buffer.
 */
function columnView<T extends Float64Array | Uint32Array>(bytes: Uint8Array, start: number, length: number, Type: { new (buffer: ArrayBuffer, offset: number, length: number): T; readonly BYTES_PER_ELEMENT: number }): T {
  const at = bytes.byteOffset + start;
  if (at % Type.BYTES_PER_ELEMENT === 0) return new Type(bytes.buffer as ArrayBuffer, at, length);
  // Uint8Array's own slice copies (on a Node Buffer, slice() is a view).
  const copy = Uint8Array.prototype.slice.call(bytes, start, start + length * Type.BYTES_PER_ELEMENT);
  return new Type(copy.buffer, 0, length);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function parseSection(bytes: Uint8Array, start: number, end: number, what: string): unknown {
  const text = decodeText(bytes, start, end, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`snapshot ${what} section is not JSON: ${(error as Error).message}`);
  }
}

function validateReplicaTable(input: unknown): string[] {
  if (!Array.isArray(input)) throw new DecodeError('snapshot lacks its replica table');
  for (const id of input) if (typeof id !== 'string' || id.length === 0 || id.length > REPLICA_ID_LENGTH_MAX) throw new DecodeError('snapshot replica table holds an invalid id');
  return input as string[];
}

/**
 * Freezes a value JSON.parse just built, in place. It is a fresh tree nobody else holds, and
 * JSON.parse only makes JSON values (no cycles, no class instances), so unlike a caller's value
 * it needs no copy; only the depth limit still has to be enforced.
 */
function freezeParsed(value: JsonValue, depth: number): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= JSON_DEPTH_MAX) throw new DecodeError(`snapshot value nests deeper than ${JSON_DEPTH_MAX} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freezeParsed(value[i] as JsonValue, depth + 1);
  } else {
    for (const item of Object.values(value)) freezeParsed(item, depth + 1);
  }
  return Object.freeze(value);
}

function validateClock(clock: { wall?: unknown; logical?: unknown } | undefined): Snapshot['clock'] {
  const { wall, logical } = clock ?? {};
  if (!isValidTimestamp(wall, logical)) throw new DecodeError('snapshot clock is not an HLC timestamp');
  return { wall: wall as number, logical: logical as number };
}

function validateBase(input: unknown): Snapshot['base'] {
  try {
    return validateVersionVector(input);
  } catch (error) {
    throw new DecodeError(`snapshot base is not a version vector: ${(error as Error).message}`);
  }
}

/** The version-1 payload: one JSON object `{"v":1,"base","clock","winners":<encodeOps form>}`. */
function decodeSnapshotV1(bytes: Uint8Array): Snapshot {
  let parsed: { v?: unknown; base?: unknown; clock?: { wall?: unknown; logical?: unknown }; winners?: unknown };
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new DecodeError(`snapshot is not UTF-8 JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.v !== 1) throw new DecodeError('snapshot payload has an unknown version');
  const clock = validateClock(parsed.clock);
  return { base: validateBase(parsed.base), clock, winners: opsFromWire(parsed.winners) };
}

/** Encodes a snapshot in the version-1 JSON form (kept for tests of old databases). */
export function encodeSnapshotPayloadV1(snapshot: Snapshot): Uint8Array {
  return encoder.encode(JSON.stringify({ v: 1, base: snapshot.base, clock: { wall: snapshot.clock.wall, logical: snapshot.clock.logical }, winners: opsToWire(snapshot.winners) }));
}

/** The checksum of the meta fields: a flipped bit in the replica id must not silently make another replica. */
function metaChecksum(replicaId: string): number {
  return crc32c(encoder.encode(`${META_FORMAT}:${replicaId}`));
}

/** The bytes of `meta.json` (readable JSON, with a CRC32C of its fields). */
export function encodeMeta(meta: StorageMeta): Uint8Array {
  return encoder.encode(`${JSON.stringify({ format: META_FORMAT, replicaId: meta.replicaId, crc32c: metaChecksum(meta.replicaId) })}\n`);
}

/** Parses `meta.json`. @throws DecodeError */
export function decodeMeta(bytes: Uint8Array): StorageMeta {
  let parsed: { format?: unknown; replicaId?: unknown; crc32c?: unknown };
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new DecodeError(`meta.json is not UTF-8 JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.format !== META_FORMAT) throw new DecodeError('meta.json has an unknown format');
  if (typeof parsed.replicaId !== 'string' || parsed.replicaId.length === 0) throw new DecodeError('meta.json lacks a replica id');
  if (parsed.crc32c !== metaChecksum(parsed.replicaId)) throw new DecodeError('meta.json checksum mismatch');
  return { replicaId: parsed.replicaId };
}
