/**
 * The op batch encoding shared by storage adapters and the sync protocol.
 * Compact JSON: replica ids are listed once, each op is a short array.
 * `[replicaIndex, seq, wall, logical, key]` is a delete; a sixth element is a set's value.
 * JSON.parse is the fastest decoder a browser and Node both ship, and keeps the format readable.
 */
import { DecodeError, MalformedOpError } from './errors.js';
import type { JsonValue } from './json.js';
import { type Op, opFromParsedJson, validateOp } from './op.js';

/** Version tag written in every encoded batch. */
export const OP_CODEC_VERSION = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a batch of ops as UTF-8 bytes. */
export function encodeOps(ops: readonly Op[]): Uint8Array {
  return encoder.encode(JSON.stringify(opsToWire(ops)));
}

/** The JSON-ready form of a batch (for embedding in larger messages). */
export function opsToWire(ops: readonly Op[]): { v: number; r: string[]; o: unknown[][] } {
  const replicas: string[] = [];
  const index = new Map<string, number>();
  const rows: unknown[][] = new Array(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Op;
    let r = index.get(op.replica);
    if (r === undefined) {
      r = replicas.length;
      replicas.push(op.replica);
      index.set(op.replica, r);
    }
    rows[i] = op.type === 'set' ? [r, op.seq, op.wall, op.logical, op.key, op.value] : [r, op.seq, op.wall, op.logical, op.key];
  }
  return { v: OP_CODEC_VERSION, r: replicas, o: rows };
}

/** Strings JSON writes as they are, between quotes: no quote, backslash, control character or surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes
const JSON_PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function jsonString(value: string): string {
  return JSON_PLAIN_STRING.test(value) ? `"${value}"` : JSON.stringify(value);
}

function jsonValue(value: JsonValue | undefined): string {
  // A stored number is finite (validated), and then String() writes what JSON.stringify writes.
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return jsonString(value);
  return JSON.stringify(value);
}

/**
 * `JSON.stringify(opsToWire(ops))`, the same string, built without the intermediate rows: the file
 * log encodes every commit with it, and most keys and values need no escaping.
 */
export function encodeOpsJson(ops: readonly Op[]): string {
  const first = ops[0]?.replica;
  let index: Map<string, number> | undefined;
  const replicas: string[] = first === undefined ? [] : [first];
  let rows = '';
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Op;
    let r = 0;
    if (op.replica !== first) {
      index ??= new Map([[first as string, 0]]);
      let known = index.get(op.replica);
      if (known === undefined) {
        known = replicas.length;
        replicas.push(op.replica);
        index.set(op.replica, known);
      }
      r = known;
    }
    const value = op.type === 'set' ? `,${jsonValue(op.value)}` : '';
    rows += `${i === 0 ? '' : ','}[${r},${op.seq},${op.wall},${op.logical},${jsonString(op.key)}${value}]`;
  }
  return `{"v":${OP_CODEC_VERSION},"r":${JSON.stringify(replicas)},"o":[${rows}]}`;
}

/**
 * Decodes bytes made by {@link encodeOps}, validating every op.
 * @throws DecodeError on anything else: bad UTF-8, bad JSON, a wrong shape or a malformed op.
 */
export function decodeOps(bytes: Uint8Array): Op[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new DecodeError(`op batch is not UTF-8 JSON: ${(error as Error).message}`);
  }
  return opsFromParsedJson(parsed);
}

/** Rebuilds and validates ops from the JSON-ready form (values are copied: `wire` stays the caller's). @throws DecodeError */
export function opsFromWire(wire: unknown): Op[] {
  return rebuild(wire, (replica, row, index) =>
    validateOp(
      row.length === 6
        ? { replica, seq: row[1], wall: row[2], logical: row[3], key: row[4], type: 'set', value: row[5] as JsonValue }
        : { replica, seq: row[1], wall: row[2], logical: row[3], key: row[4], type: 'delete' },
      index,
    ),
  );
}

/**
 * {@link opsFromWire} for a batch fresh out of `JSON.parse` that nobody else holds (the core's and the sync
 * protocol's decoders; not exported from the package): the same checks, but values are frozen in place
 * instead of copied, and no intermediate object is built per op.
 * @throws DecodeError
 */
export function opsFromParsedJson(wire: unknown): Op[] {
  return rebuild(wire, (replica, row, index) => opFromParsedJson(replica, row[1], row[2], row[3], row[4], row.length === 6 ? 'set' : 'delete', row[5], index));
}

function rebuild(wire: unknown, build: (replica: unknown, row: readonly unknown[], index: number) => Op): Op[] {
  if (typeof wire !== 'object' || wire === null) throw new DecodeError('op batch is not an object');
  const { v, r, o } = wire as { v?: unknown; r?: unknown; o?: unknown };
  if (v !== OP_CODEC_VERSION) throw new DecodeError(`op batch version ${String(v)} is not supported (expected ${OP_CODEC_VERSION})`);
  if (!Array.isArray(r) || !Array.isArray(o)) throw new DecodeError('op batch lacks its replica table or op list');
  const ops: Op[] = new Array(o.length);
  for (let i = 0; i < o.length; i++) {
    const row: unknown = o[i];
    if (!Array.isArray(row) || (row.length !== 5 && row.length !== 6)) throw new DecodeError(`op ${i} is not a 5- or 6-element row`, { index: i });
    // An own index only: a row naming "constructor" or "__proto__" must not reach Array.prototype.
    const replica = typeof row[0] === 'number' && Number.isSafeInteger(row[0]) && row[0] >= 0 ? r[row[0]] : undefined;
    try {
      ops[i] = build(replica, row, i);
    } catch (error) {
      if (error instanceof MalformedOpError) throw new DecodeError(`op batch holds a malformed op: ${error.message}`, { index: i });
      throw error;
    }
  }
  return ops;
}
