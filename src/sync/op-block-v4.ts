/**
 * The op block of sync frame version 4: what a session sends for every batch, and what snapshots hold.
 *
 * Layout (unsigned LEB128 varints, minimal, at most 8 bytes; `zz` is zigzag: 0, -1, 1, -2 -> 0, 1, 2, 3):
 *
 * ```
 * [count][keyCount][keyMode]                      keyMode 0: keys front-coded in the block; 1: keys in the JSON text
 * keyMode 0 and keyCount > 0: keyCount x [shared][suffixUnits]           the key table, each against the one before
 * count x [tag]                                   replicaIndex*16 + int*8 + clockNext*4 + seqNext*2 + isSet
 *         [zz(seq - previous seq)]                unless seqNext (seq = previous seq + 1)
 *         [wallCode][logical]                     unless clockNext (same wall as the previous op, logical + 1)
 *         [zz(keyIndex - previous keyIndex)]      when keyCount > 0
 *         [shared][suffixUnits]                   when keyCount = 0 and keyMode 0: the key against the previous op's
 *         [zz(value)]                             when int: the set's value, an integer of magnitude < 2^52
 * [suffixBytes][UTF-8: every key suffix, table first, then the ops' own]
 * [textBytes][UTF-8 JSON array: the keys (keyMode 1: the table, or every op's key), then every set value not written as int]
 * ```
 *
 * `wallCode` is zz(wall - previous wall) for a jump of less than 2^52 ms, else 2^53 - 1 followed by the wall itself.
 * A key is the first `shared` UTF-16 units of the key before it (the previous table entry, or the previous op's
 * key) followed by its next `suffixUnits` units of the suffix text. The previous op of the first op has seq 0,
 * wall 0 and logical -1; the key before the first is empty; the previous key index of the first op is 0.
 *
 * Why this shape, against version 3 (numbers in columns, keys and values as one JSON array): a sync frame of
 * distinct keys spent 9-10 bytes per op on its key in JSON and 7 on a number value in decimal; a run of one
 * replica's writes spends one byte on its id, seq and clock together; sequential keys (`user/1041`,
 * `user/1042`) cost 3 bytes front-coded; integers 1-3 bytes. 100K ops over 10K keys through a session: 18.8 ->
 * about 7 bytes per op. Values other than integers stay JSON: measured against msgpackr and cbor-x on this data
 * (see docs/sync-protocol.md), they gave 10-27% fewer bytes for strings and objects at no gain in speed, and a
 * strict reader would have had to walk every decoded value again (both libraries return byte arrays, dates,
 * NaN and 64-bit integers, and msgpackr renames a `__proto__` key), where `JSON.parse` yields JSON by construction.
 *
 * The reader is strict: counts the block cannot hold, a key index outside the table, a shared prefix longer
 * than the key before, suffix and text sections that do not add up exactly, an int flag on a delete, keys
 * that decode to more text than 64 x the block's bytes (a few bytes must not make megabytes of keys), and every
 * malformed op are {@link DecodeError}s.
 */
import { DecodeError, MalformedOpError } from '../core/errors.js';
import { KEY_LENGTH_MAX, type Op, opFromParsedJson } from '../core/op.js';
import { type KeyTable, keyTableFor } from './key-table.js';
import { type ByteReader, ByteWriter } from './op-block.js';

/** Fewest bytes one op takes (its tag). */
const OP_BYTES_MIN = 1;
/** Largest magnitude of an integer value written in the columns (its zigzag stays a safe integer). */
const INT_VALUE_MAX = 2 ** 52 - 1;
/** Largest wall jump written as a zigzag delta; larger ones are escaped. */
const WALL_DELTA_MAX = 2 ** 52 - 1;
/** The wall code that says "the wall itself follows". */
const WALL_ESCAPE = Number.MAX_SAFE_INTEGER;
/** Decoded key text may be at most this many UTF-16 units per byte of block (plus one longest key). */
const KEY_UNITS_PER_BYTE_MAX = 64;

const TAG_SET = 1;
const TAG_SEQ_NEXT = 2;
const TAG_CLOCK_NEXT = 4;
const TAG_INT = 8;
const TAG_REPLICA = 16;

const KEYS_FRONT_CODED = 0;
const KEYS_IN_TEXT = 1;

/** A surrogate without its pair: UTF-8 cannot carry it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function isIntValue(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value <= INT_VALUE_MAX && value >= -INT_VALUE_MAX;
}

/** Units of `key` shared with `previous`, never splitting a surrogate pair. */
function sharedUnits(previous: string, key: string): number {
  const max = Math.min(previous.length, key.length);
  let shared = 0;
  while (shared < max && previous.charCodeAt(shared) === key.charCodeAt(shared)) shared += 1;
  if (shared > 0 && shared < key.length) {
    const last = key.charCodeAt(shared - 1);
    if (last >= 0xd800 && last <= 0xdbff) shared -= 1;
  }
  return shared;
}

// Per-encode scratch, reused.
const scratch = new ByteWriter(16 * 1024);

/**
 * Front-codes `keys` into `out` (shared, suffix units per key) and returns the suffix text, or undefined when
 * the keys must go as JSON instead: a key that is not well-formed UTF-16 (UTF-8 cannot carry a lone
 * surrogate), or keys that would decode to more text than a reader accepts for this block.
 */
function frontCode(out: ByteWriter, keys: readonly string[], unitsMax: number): string | undefined {
  let previous = '';
  let suffixes = '';
  let units = 0;
  for (const key of keys) {
    if (LONE_SURROGATE.test(key)) return undefined;
    const shared = sharedUnits(previous, key);
    const suffix = shared === 0 ? key : key.slice(shared);
    out.varint(shared);
    out.varint(suffix.length);
    suffixes += suffix;
    units += key.length;
    previous = key;
  }
  return units > unitsMax ? undefined : suffixes;
}

/** Appends the version-4 block for `ops`; `replicaIndex` maps every op's replica id to its index in the caller's table. */
export function writeOpBlockV4(out: ByteWriter, ops: readonly Op[], replicaIndex: ReadonlyMap<string, number>): void {
  const keyed = keyTableFor(ops);
  const table = keyed?.keys;
  const keys = table ?? ops.map((op) => op.key);
  // The key columns go to a scratch writer first: whether they are front-coded is known only once they are written.
  scratch.reset();
  const keyText = frontCode(scratch, keys, KEY_UNITS_PER_BYTE_MAX * (ops.length * 2 + 64));
  const keyMode = keyText === undefined ? KEYS_IN_TEXT : KEYS_FRONT_CODED;
  out.varint(ops.length);
  out.varint(table === undefined ? 0 : table.length);
  out.varint(keyMode);
  const text: unknown[] = keyMode === KEYS_IN_TEXT ? keys.slice() : [];
  if (table !== undefined && keyMode === KEYS_FRONT_CODED) out.bytes(scratch);
  // Inline front-coded keys are re-read from the scratch per op: [shared][suffixUnits] pairs in op order.
  let keyAt = 0;
  const keyBytes = scratch.view();
  let previousSeq = 0;
  let previousWall = 0;
  let previousLogical = -1;
  let previousKeyIndex = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Op;
    const set = op.type === 'set';
    const int = set && isIntValue(op.value);
    const seqNext = op.seq === previousSeq + 1;
    const clockNext = op.wall === previousWall && op.logical === previousLogical + 1;
    out.varint((replicaIndex.get(op.replica) as number) * TAG_REPLICA + (int ? TAG_INT : 0) + (clockNext ? TAG_CLOCK_NEXT : 0) + (seqNext ? TAG_SEQ_NEXT : 0) + (set ? TAG_SET : 0));
    if (!seqNext) out.varint(zigzag(op.seq - previousSeq));
    if (!clockNext) {
      const jump = op.wall - previousWall;
      if (jump > WALL_DELTA_MAX || jump < -WALL_DELTA_MAX) {
        out.varint(WALL_ESCAPE);
        out.varint(op.wall);
      } else {
        out.varint(zigzag(jump));
      }
      out.varint(op.logical);
    }
    previousSeq = op.seq;
    previousWall = op.wall;
    previousLogical = op.logical;
    if (table !== undefined) {
      const index = (keyed as KeyTable).indexes[i] as number;
      out.varint(zigzag(index - previousKeyIndex));
      previousKeyIndex = index;
    } else if (keyMode === KEYS_FRONT_CODED) {
      // Copy this op's two varints from the scratch.
      const start = keyAt;
      while ((keyBytes[keyAt++] as number) >= 0x80);
      while ((keyBytes[keyAt++] as number) >= 0x80);
      out.raw(keyBytes, start, keyAt);
    }
    if (int) out.varint(zigzag(op.value as number));
    else if (set) text.push(op.value);
  }
  out.text(keyText ?? '');
  out.text(JSON.stringify(text));
}

/** Rebuilds `count` front-coded keys from their varints and the suffix text (read later): returns the pairs. */
function readFrontCodes(reader: ByteReader, count: number, into: Uint32Array, at: number): void {
  for (let i = 0; i < count; i++) {
    const shared = reader.varint('key shared prefix');
    const length = reader.varint('key suffix length');
    if (shared > KEY_LENGTH_MAX || length > KEY_LENGTH_MAX) throw new DecodeError(`a key of more than ${KEY_LENGTH_MAX} units`);
    into[(at + i) * 2] = shared;
    into[(at + i) * 2 + 1] = length;
  }
}

/**
 * Reads one version-4 block (it must end exactly at `reader.end`) and builds validated, frozen ops.
 * @throws DecodeError on any malformed input.
 */
export function readOpBlockV4(reader: ByteReader, replicas: readonly string[]): Op[] {
  const blockBytes = reader.end - reader.at;
  const count = reader.varint('op count');
  if (count * OP_BYTES_MIN > blockBytes) throw new DecodeError(`op count ${count} does not fit in the frame`, { count });
  const keyCount = reader.varint('key count');
  if (keyCount > count) throw new DecodeError(`key table of ${keyCount} keys for ${count} ops`, { keyCount, count });
  const keyMode = reader.varint('key mode');
  if (keyMode !== KEYS_FRONT_CODED && keyMode !== KEYS_IN_TEXT) throw new DecodeError(`key mode ${keyMode} is not 0 or 1`);
  const frontCoded = keyMode === KEYS_FRONT_CODED;
  // Front codes of the table (keyCount entries) or of every op (count entries).
  const codedKeys = frontCoded ? (keyCount > 0 ? keyCount : count) : 0;
  const codes = new Uint32Array(codedKeys * 2);
  if (frontCoded && keyCount > 0) readFrontCodes(reader, keyCount, codes, 0);
  const replicaOf = new Array<string | undefined>(count);
  const tags = new Uint8Array(count);
  const seqs = new Float64Array(count);
  const walls = new Float64Array(count);
  const logicals = new Float64Array(count);
  const keyOf = keyCount > 0 ? new Uint32Array(count) : undefined;
  const ints = new Float64Array(count);
  let textValues = 0;
  let seq = 0;
  let wall = 0;
  let logical = -1;
  let keyIndex = 0;
  for (let i = 0; i < count; i++) {
    const tag = reader.varint('op tag');
    const flags = tag % TAG_REPLICA;
    tags[i] = flags;
    // An own index only (`replicas` is an array of strings): anything else leaves the op without a replica.
    replicaOf[i] = replicas[(tag - flags) / TAG_REPLICA];
    const set = (flags & TAG_SET) !== 0;
    if ((flags & TAG_INT) !== 0 && !set) throw new DecodeError(`op ${i} is a delete with an int value`, { index: i });
    seq = (flags & TAG_SEQ_NEXT) !== 0 ? seq + 1 : seq + unzigzag(reader.varint('seq delta'));
    if ((flags & TAG_CLOCK_NEXT) !== 0) {
      logical += 1;
    } else {
      const code = reader.varint('wall code');
      wall = code === WALL_ESCAPE ? reader.varint('wall') : wall + unzigzag(code);
      logical = reader.varint('logical');
    }
    seqs[i] = seq;
    walls[i] = wall;
    logicals[i] = logical;
    if (keyOf !== undefined) {
      keyIndex += unzigzag(reader.varint('key index delta'));
      if (keyIndex < 0 || keyIndex >= keyCount) throw new DecodeError(`op ${i} names key ${keyIndex} of a ${keyCount}-key table`, { index: i });
      keyOf[i] = keyIndex;
    } else if (frontCoded) {
      readFrontCodes(reader, 1, codes, i);
    }
    if ((flags & TAG_INT) !== 0) ints[i] = unzigzag(reader.varint('int value'));
    else if (set) textValues += 1;
  }
  const suffixes = reader.text('key suffixes');
  const text = reader.text('op text');
  if (reader.at !== reader.end) throw new DecodeError(`${reader.end - reader.at} bytes follow the op batch`, { offset: reader.at });
  const keys = frontCoded ? rebuildKeys(codes, codedKeys, suffixes, KEY_UNITS_PER_BYTE_MAX * blockBytes + KEY_LENGTH_MAX) : undefined;
  if (!frontCoded && suffixes.length > 0) throw new DecodeError('key suffixes in a block whose keys are in its text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`op text is not JSON: ${(error as Error).message}`);
  }
  const keysInText = frontCoded ? 0 : keyCount > 0 ? keyCount : count;
  if (!Array.isArray(parsed) || parsed.length !== keysInText + textValues) throw new DecodeError(`op text must be an array of ${keysInText} keys and ${textValues} values`);
  const keyList: readonly unknown[] = keys ?? parsed;
  // Every key in the text must be a key, used or not.
  for (let i = 0; i < keysInText; i++) {
    const key: unknown = parsed[i];
    if (typeof key !== 'string' || key.length === 0 || key.length > KEY_LENGTH_MAX) throw new DecodeError(`key ${i} of the op text is not a key`, { index: i });
  }
  const ops: Op[] = new Array(count);
  let value = keysInText;
  for (let i = 0; i < count; i++) {
    const key = keyList[keyOf === undefined ? i : (keyOf[i] as number)];
    const flags = tags[i] as number;
    try {
      ops[i] =
        (flags & TAG_SET) === 0
          ? opFromParsedJson(replicaOf[i], seqs[i], walls[i], logicals[i], key, 'delete', undefined, i)
          : opFromParsedJson(replicaOf[i], seqs[i], walls[i], logicals[i], key, 'set', (flags & TAG_INT) !== 0 ? ints[i] : parsed[value++], i);
    } catch (error) {
      if (error instanceof MalformedOpError) throw new DecodeError(`op batch holds a malformed op: ${error.message}`, { index: i });
      throw error;
    }
  }
  return ops;
}

/** The keys of `count` front codes over `suffixes`, which they must use up exactly. @throws DecodeError */
function rebuildKeys(codes: Uint32Array, count: number, suffixes: string, unitsMax: number): string[] {
  const keys: string[] = new Array(count);
  let previous = '';
  let at = 0;
  let units = 0;
  for (let i = 0; i < count; i++) {
    const shared = codes[i * 2] as number;
    const length = codes[i * 2 + 1] as number;
    if (shared > previous.length) throw new DecodeError(`key ${i} shares ${shared} units with a key of ${previous.length}`, { index: i });
    if (length > suffixes.length - at) throw new DecodeError(`key ${i} runs past the key suffixes`, { index: i });
    const key = length === 0 ? (shared === previous.length ? previous : previous.slice(0, shared)) : shared === 0 ? suffixes.slice(at, at + length) : previous.slice(0, shared) + suffixes.slice(at, at + length);
    at += length;
    if (key.length === 0 || key.length > KEY_LENGTH_MAX) throw new DecodeError(`key ${i} is ${key.length} units long`, { index: i });
    units += key.length;
    if (units > unitsMax) throw new DecodeError(`keys decode to more than ${unitsMax} units of text`, { index: i });
    keys[i] = key;
    previous = key;
  }
  if (at !== suffixes.length) throw new DecodeError(`${suffixes.length - at} units of key suffixes are not used by any key`);
  return keys;
}
