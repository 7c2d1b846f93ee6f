/**
 * The compact binary op batch of sync frames: numbers as varints, text as one JSON array.
 *
 * Layout of the keyed block (frame version 3), appended to a buffer by {@link writeOpBlock}:
 * `[count][baseWall][keyCount]` then per op `[replicaIndex*2 + isSet][zigzag(seq - previous seq)][wall - baseWall][logical]`,
 * followed by `[keyIndex]` when keyCount > 0 (unsigned LEB128 varints, at most 8 bytes each), then `[tailBytes]`
 * and the tail: one UTF-8 JSON array. With keyCount > 0 it holds the key table (each distinct key once, in
 * order of first use) and then the value of every set, in order; with keyCount = 0 it holds every op's key,
 * in order, and then the values. The table pays when keys repeat (a log's history, a catch-up): the encoder
 * uses it when at most half the ops bring a new key. Version 2 frames hold the plain block: the same without
 * `[keyCount]` and `[keyIndex]`, keys inline.
 *
 * Why this shape: a reader spends its time in `JSON.parse`, and parsing one array of strings and values is
 * several times faster than parsing one small array per op with its numbers written out in decimal; the
 * numeric columns are tiny (a run of one replica's ops costs 4-6 bytes per op) and decode with no allocation.
 * Replica ids are not in the block: the caller passes its table (the frame header lists it).
 * The reader is strict: a truncated, overlong or inconsistent block, or a malformed op, is a {@link DecodeError}.
 */
import { DecodeError, MalformedOpError } from '../core/errors.js';
import { type Op, opFromParsedJson } from '../core/op.js';
import { type KeyTable, keyTableFor } from './key-table.js';

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** Fewest bytes one op takes in a block (four one-byte varints); bounds the count a reader trusts. */
const OP_BYTES_MIN = 4;
/** Longest varint accepted: 8 x 7 bits covers every safe integer. */
const VARINT_BYTES_MAX = 8;

/** A growable byte buffer for one frame; reused by the encoder so frames cost one exact copy. */
export class ByteWriter {
  private buffer: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  constructor(bytesInitial = 64 * 1024) {
    this.buffer = new Uint8Array(bytesInitial);
  }

  /** Makes room for `bytes` more. */
  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  /** Appends one byte. */
  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** Appends an unsigned varint (any safe integer >= 0). */
  varint(value: number): void {
    this.reserve(VARINT_BYTES_MAX);
    const buffer = this.buffer;
    let at = this.length;
    let rest = value;
    while (rest >= 0x80) {
      buffer[at++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    buffer[at++] = rest;
    this.length = at;
  }

  /** Appends `text` as UTF-8, preceded by its byte length as a varint. */
  text(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; encode after a gap sized for the longest length varint.
    const bytesMax = text.length * 3;
    this.reserve(VARINT_BYTES_MAX + bytesMax);
    const gapBytes = varintBytes(bytesMax);
    const { written } = textEncoder.encodeInto(text, this.buffer.subarray(this.length + gapBytes));
    const lengthBytes = varintBytes(written);
    if (lengthBytes !== gapBytes) this.buffer.copyWithin(this.length + lengthBytes, this.length + gapBytes, this.length + gapBytes + written);
    this.varint(written);
    this.length += written;
  }

  /** Appends `bytes[start..end)`. */
  raw(bytes: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = start; i < end; i++) buffer[at++] = bytes[i] as number;
    this.length = at;
  }

  /** Appends everything `other` holds. */
  bytes(other: ByteWriter): void {
    this.reserve(other.length);
    this.buffer.set(other.view(), this.length);
    this.length += other.length;
  }

  /** What was written so far, without a copy (valid until the next write or reset). */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** An exact copy of what was written. */
  copy(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** Empties the writer for the next frame; a buffer grown past `bytesKeptMax` is let go rather than kept. */
  reset(bytesKeptMax = 4 * 1024 * 1024): void {
    this.length = 0;
    if (this.buffer.length > bytesKeptMax) this.buffer = new Uint8Array(64 * 1024);
  }
}

function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/**
 * Appends the keyed block (frame version 3) for `ops`; `replicaIndex` maps every op's replica id to its
 * index in the caller's table.
 */
export function writeOpBlock(out: ByteWriter, ops: readonly Op[], replicaIndex: ReadonlyMap<string, number>): void {
  let baseWall = Number.MAX_SAFE_INTEGER;
  for (const op of ops) if (op.wall < baseWall) baseWall = op.wall;
  const table = keyTableFor(ops);
  const keys = table?.keys;
  out.varint(ops.length);
  out.varint(ops.length === 0 ? 0 : baseWall);
  out.varint(keys === undefined ? 0 : keys.length);
  // The text: the key table (or every key, filled in below), then the values, appended in a second pass
  // instead of through an array of their own (a million-op catch-up would build it only to copy it).
  const text: unknown[] = keys ?? new Array(ops.length);
  let previousSeq = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Op;
    out.varint((replicaIndex.get(op.replica) as number) * 2 + (op.type === 'set' ? 1 : 0));
    const delta = op.seq - previousSeq;
    out.varint(delta >= 0 ? delta * 2 : -delta * 2 - 1);
    previousSeq = op.seq;
    out.varint(op.wall - baseWall);
    out.varint(op.logical);
    if (keys === undefined) text[i] = op.key;
    else out.varint((table as KeyTable).indexes[i] as number);
  }
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Op;
    if (op.type === 'set') text.push(op.value);
  }
  out.text(JSON.stringify(text));
}


/** A position in a frame, for the readers below. */
export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    /** Next byte to read. */
    public at: number,
    /** End of the readable range (exclusive). */
    readonly end: number,
  ) {}

  /** Reads an unsigned varint. @throws DecodeError when truncated, overlong or past 2^53. */
  varint(what: string): number {
    const bytes = this.bytes;
    let at = this.at;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < VARINT_BYTES_MAX; i++) {
      if (at >= this.end) throw new DecodeError(`${what} is truncated`, { offset: at });
      const byte = bytes[at++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) throw new DecodeError(`${what} is not minimally encoded`, { offset: at - 1 });
        if (value > Number.MAX_SAFE_INTEGER) throw new DecodeError(`${what} is above 2^53`, { offset: at - 1 });
        this.at = at;
        return value;
      }
      scale *= 0x80;
    }
    throw new DecodeError(`${what} is longer than ${VARINT_BYTES_MAX} bytes`, { offset: at });
  }

  /** Reads a varint byte length and that many bytes as UTF-8. @throws DecodeError */
  text(what: string): string {
    const length = this.varint(`${what} length`);
    if (length > this.end - this.at) throw new DecodeError(`${what} is truncated`, { offset: this.at });
    const start = this.at;
    this.at += length;
    try {
      return textDecoder.decode(this.bytes.subarray(start, start + length));
    } catch {
      throw new DecodeError(`${what} is not UTF-8`, { offset: start });
    }
  }
}

/**
 * Reads one block (it must end exactly at `reader.end`) and builds validated, frozen ops: the keyed block of
 * frame version 3, or the plain block of version 2 when `keyed` is false.
 * @throws DecodeError on any malformed input.
 */
export function readOpBlock(reader: ByteReader, replicas: readonly string[], keyed = true): Op[] {
  const count = reader.varint('op count');
  if (count * OP_BYTES_MIN > reader.end - reader.at) throw new DecodeError(`op count ${count} does not fit in the frame`, { count });
  const baseWall = reader.varint('base wall');
  const keyCount = keyed ? reader.varint('key count') : 0;
  if (keyCount > count) throw new DecodeError(`key table of ${keyCount} keys for ${count} ops`, { keyCount, count });
  const replicaOf = new Array<string | undefined>(count);
  const isSet = new Uint8Array(count);
  const seqs = new Float64Array(count);
  const walls = new Float64Array(count);
  const logicals = new Float64Array(count);
  const keyOf = keyCount > 0 ? new Uint32Array(count) : undefined;
  let sets = 0;
  let seq = 0;
  for (let i = 0; i < count; i++) {
    const tag = reader.varint('op tag');
    const set = tag % 2;
    isSet[i] = set;
    sets += set;
    // An own index only (`replicas` is an array of strings): anything else leaves the op without a replica.
    replicaOf[i] = replicas[(tag - set) / 2];
    const zigzag = reader.varint('seq delta');
    seq += zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
    seqs[i] = seq;
    walls[i] = baseWall + reader.varint('wall offset');
    logicals[i] = reader.varint('logical');
    if (keyOf !== undefined) {
      const key = reader.varint('key index');
      if (key >= keyCount) throw new DecodeError(`op ${i} names key ${key} of a ${keyCount}-key table`, { index: i });
      keyOf[i] = key;
    }
  }
  const text = reader.text('op text');
  if (reader.at !== reader.end) throw new DecodeError(`${reader.end - reader.at} bytes follow the op batch`, { offset: reader.at });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`op text is not JSON: ${(error as Error).message}`);
  }
  const keysInText = keyOf === undefined ? count : keyCount;
  if (!Array.isArray(parsed) || parsed.length !== keysInText + sets) throw new DecodeError(`op text must be an array of ${keysInText} keys and ${sets} values`);
  const ops: Op[] = new Array(count);
  let value = keysInText;
  for (let i = 0; i < count; i++) {
    const key = parsed[keyOf === undefined ? i : (keyOf[i] as number)];
    try {
      ops[i] =
        isSet[i] === 1
          ? opFromParsedJson(replicaOf[i], seqs[i], walls[i], logicals[i], key, 'set', parsed[value++], i)
          : opFromParsedJson(replicaOf[i], seqs[i], walls[i], logicals[i], key, 'delete', undefined, i);
    } catch (error) {
      if (error instanceof MalformedOpError) throw new DecodeError(`op batch holds a malformed op: ${error.message}`, { index: i });
      throw error;
    }
  }
  return ops;
}
