/**
 * The sync protocol's wire format. Every frame is `[version: u8][type: u8][body]`.
 *
 * Version 4 (written): the body is `[varint n][n bytes: UTF-8 JSON header object]`, and in ops and snapshot
 * frames the header lists the batch's replica ids (`r`) and a binary op block follows (`src/sync/op-block-v4.ts`:
 * varint columns with runs of one replica's seqs and clock folded into its tag byte, front-coded keys or a key
 * table, integer values in the columns, other values as one JSON array). Version 3 (still read, and written on
 * request): the same header, the block of `src/sync/op-block.ts` (varint columns plus one JSON array of keys and
 * values). Version 2 (still read): version 3 with every key inline. Version 1 (still read): the
 * body is one UTF-8 JSON object whose `o` field holds the batch in the shared JSON op encoding (`opsToWire`).
 *
 * The header comes first so a receiver can tell whom a frame is for ({@link peekEnvelope}) without decoding
 * its ops. The decoder is strict: a wrong version, an unknown type, bad UTF-8, bad JSON, a missing or mistyped
 * field, an unknown field, a truncated or overlong op block or a malformed op each raise a {@link DecodeError}.
 */
import { opsFromParsedJson } from '../core/codec.js';
import { DecodeError, MalformedOpError } from '../core/errors.js';
import { isValidTimestamp } from '../core/hlc.js';
import { ByteReader, ByteWriter, readOpBlock, writeOpBlock } from './op-block.js';
import { readOpBlockV4, writeOpBlockV4 } from './op-block-v4.js';
import type { Op } from '../core/op.js';
import { REPLICA_ID_LENGTH_MAX } from '../core/op.js';
import { validateVersionVector, type VersionVector } from '../core/version-vector.js';

/** Protocol version written in byte 0 of every frame (4: front-coded keys, integer values and clock runs in the op block). */
export const SYNC_PROTOCOL_VERSION = 4;
/** An older version the decoder still reads, and {@link encodeMessage} writes on request: numbers in columns, keys and values as JSON. */
export const SYNC_PROTOCOL_VERSION_KEYED_BLOCK = 3;
/** An older version the decoder still reads: the binary op block with every key inline. */
export const SYNC_PROTOCOL_VERSION_PLAIN_BLOCK = 2;
/** The oldest version the decoder still reads (JSON bodies; written by builds before the binary op block). */
export const SYNC_PROTOCOL_VERSION_JSON = 1;
/** Bytes before the JSON body. */
export const FRAME_HEADER_BYTES = 2;
/** Most ranges per replica in a hello's `heldPastGaps`. */
export const HELD_RANGES_MAX = 64;
/** Largest snapshot transfer, in parts: bounds what a receiver buffers per peer. */
export const SNAPSHOT_PARTS_MAX = 4096;

/** Message type codes (byte 1). */
export const MessageType = { hello: 1, ops: 2, snapshot: 3 } as const;

/** Fields every message carries. */
interface Envelope {
  /** Replica id of the sender. */
  readonly from: string;
  /** Replica id of the one receiver meant; absent means everyone in the room. */
  readonly to?: string;
}

/**
 * "Here is what I hold": the sender's version vector and compaction horizon.
 * A receiver sends back the ops the sender lacks, and a hello of its own when it
 * lacks something the sender has or when `replyWanted` is set.
 */
export interface HelloMessage extends Envelope {
  readonly type: 'hello';
  readonly versionVector: VersionVector;
  readonly horizon: VersionVector;
  /**
   * For each replica in `versionVector`, the HLC (wall, logical) of the op at that
   * sequence number, when held. A receiver holding the same op id with another
   * timestamp has found a reused id (a device restored from a stale backup).
   */
  readonly tips: Readonly<Record<string, readonly [number, number]>>;
  /**
   * Ops held past a hole, which the vector cannot describe: per replica, up to {@link HELD_RANGES_MAX} inclusive
   * `[fromSeq, toSeq]` ranges above its `versionVector` entry. Senders leave these out of their answers, so ops
   * stranded behind a hole nobody can fill are not sent back and forth forever. Optional (absent = none).
   */
  readonly heldPastGaps?: Readonly<Record<string, readonly (readonly [number, number])[]>>;
  readonly replyWanted: boolean;
  /**
   * Set when the hello is one part of a larger one, split so that every frame fits the relay's frame limit however
   * many replica ids exist: part `index` of `count` of the sender's hello `id`. Each part carries the entries of
   * its own replicas in every field; a receiver acts on the hello once all parts are in (`src/sync/hello-parts.ts`).
   */
  readonly part?: HelloPart;
}

/** Which part of a split hello a frame carries. */
export interface HelloPart {
  readonly id: number;
  readonly index: number;
  readonly count: number;
}

/** Most parts of one split hello. */
export const HELLO_PARTS_MAX = 4096;

/** A bounded batch of ops, all above the sender's horizon or already held by the receiver. */
export interface OpsMessage extends Envelope {
  readonly type: 'ops';
  readonly ops: readonly Op[];
}

/**
 * One part of a compaction summary for a receiver behind the sender's horizon.
 * The receiver buffers parts and applies them together with `horizon` once all
 * `parts` have arrived, so a lost or reordered part never leaves a hole below it.
 */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snapshot';
  readonly to: string;
  /** Identifies one transfer among the sender's transfers to this receiver. */
  readonly transferId: number;
  /** This part's index, from 0. */
  readonly part: number;
  /** Number of parts in the transfer, 1..{@link SNAPSHOT_PARTS_MAX}. */
  readonly parts: number;
  /** The sender's compaction horizon: the receiver adopts it with the summary. */
  readonly horizon: VersionVector;
  readonly ops: readonly Op[];
}

/** Every protocol message. */
export type SyncMessage = HelloMessage | OpsMessage | SnapshotMessage;

const textDecoder = new TextDecoder('utf-8', { fatal: true });
// One buffer reused for every frame (encoding is synchronous): a frame costs one exact copy.
const writer = new ByteWriter();

/**
 * Encodes a message as one frame: version {@link SYNC_PROTOCOL_VERSION}, or version 3
 * ({@link SYNC_PROTOCOL_VERSION_KEYED_BLOCK}) for a room that still holds builds that read no newer one.
 */
export function encodeMessage(message: SyncMessage, version: 3 | 4 = SYNC_PROTOCOL_VERSION): Uint8Array {
  if (version !== SYNC_PROTOCOL_VERSION && version !== SYNC_PROTOCOL_VERSION_KEYED_BLOCK) throw new RangeError(`sync frames are written as version 3 or 4, not ${String(version)}`);
  const header: Record<string, unknown> = { f: message.from };
  if (message.to !== undefined) header.t = message.to;
  let ops: readonly Op[] | undefined;
  switch (message.type) {
    case 'hello':
      header.vv = message.versionVector;
      header.h = message.horizon;
      header.tp = message.tips;
      if (message.heldPastGaps !== undefined && Object.keys(message.heldPastGaps).length > 0) header.gx = message.heldPastGaps;
      header.r = message.replyWanted ? 1 : 0;
      if (message.part !== undefined) header.hp = [message.part.id, message.part.index, message.part.count];
      break;
    case 'ops':
      ops = message.ops;
      break;
    case 'snapshot':
      header.x = message.transferId;
      header.i = message.part;
      header.n = message.parts;
      header.h = message.horizon;
      ops = message.ops;
      break;
    default:
      return assertNever(message);
  }
  writer.reset();
  writer.byte(version);
  writer.byte(MessageType[message.type]);
  if (ops === undefined) {
    writer.text(JSON.stringify(header));
  } else {
    const replicas: string[] = [];
    const index = new Map<string, number>();
    for (const op of ops) {
      if (!index.has(op.replica)) {
        index.set(op.replica, replicas.length);
        replicas.push(op.replica);
      }
    }
    header.r = replicas;
    writer.text(JSON.stringify(header));
    if (version === SYNC_PROTOCOL_VERSION) writeOpBlockV4(writer, ops, index);
    else writeOpBlock(writer, ops, index);
  }
  return writer.copy();
}

type FieldSpec = Record<SyncMessage['type'], { required: readonly string[]; optional: readonly string[] }>;

const FIELDS_JSON: FieldSpec = {
  hello: { required: ['f', 'vv', 'h', 'tp', 'r'], optional: ['t', 'gx', 'hp'] },
  ops: { required: ['f', 'o'], optional: ['t'] },
  snapshot: { required: ['f', 't', 'x', 'i', 'n', 'h', 'o'], optional: [] },
};

// Versions 2 and 3: the ops live in the block after the header, which names their replica table `r` instead.
const FIELDS: FieldSpec = {
  hello: FIELDS_JSON.hello,
  ops: { required: ['f', 'r'], optional: ['t'] },
  snapshot: { required: ['f', 't', 'x', 'i', 'n', 'h', 'r'], optional: [] },
};

/** Who a frame is from and for, as read by {@link peekEnvelope}. */
export interface FrameEnvelope {
  readonly type: SyncMessage['type'];
  readonly from: string;
  readonly to: string | undefined;
}

/**
 * Reads only the type, sender and recipient of a version 2 or 3 frame (its small JSON header), so a receiver can
 * skip an ops frame addressed to someone else without decoding the ops. Returns `undefined` when it cannot
 * tell cheaply (a version-1 frame) or the header is malformed: {@link decodeMessage} then says why.
 */
export function peekEnvelope(frame: Uint8Array): FrameEnvelope | undefined {
  if (!(frame instanceof Uint8Array) || frame.length < FRAME_HEADER_BYTES + 2 || (frame[0] !== SYNC_PROTOCOL_VERSION && frame[0] !== SYNC_PROTOCOL_VERSION_KEYED_BLOCK && frame[0] !== SYNC_PROTOCOL_VERSION_PLAIN_BLOCK)) return undefined;
  try {
    const type = typeName(frame[1] as number);
    const fields = headerFields(new ByteReader(frame, FRAME_HEADER_BYTES, frame.length), type);
    return { type, from: replicaIdField(fields.f, 'f'), to: fields.t === undefined ? undefined : replicaIdField(fields.t, 't') };
  } catch {
    return undefined;
  }
}

/**
 * Decodes one frame of either version. Untrusted input: every field is checked.
 * @throws DecodeError naming what is wrong.
 */
export function decodeMessage(frame: Uint8Array): SyncMessage {
  if (!(frame instanceof Uint8Array)) throw new DecodeError('frame is not bytes');
  if (frame.length < FRAME_HEADER_BYTES + 2) throw new DecodeError(`frame of ${frame.length} bytes is too short`);
  const version = frame[0];
  if (version !== SYNC_PROTOCOL_VERSION && version !== SYNC_PROTOCOL_VERSION_KEYED_BLOCK && version !== SYNC_PROTOCOL_VERSION_PLAIN_BLOCK && version !== SYNC_PROTOCOL_VERSION_JSON) {
    throw new DecodeError(`sync protocol version ${version} is not supported (expected ${SYNC_PROTOCOL_VERSION} to ${SYNC_PROTOCOL_VERSION_JSON})`, { version });
  }
  const type = typeName(frame[1] as number);
  if (version === SYNC_PROTOCOL_VERSION_JSON) {
    let body: unknown;
    try {
      body = JSON.parse(textDecoder.decode(frame.subarray(FRAME_HEADER_BYTES)));
    } catch (error) {
      throw new DecodeError(`${type} frame body is not UTF-8 JSON: ${(error as Error).message}`);
    }
    const fields = objectFields(body, type);
    checkFields(FIELDS_JSON, type, fields);
    return buildMessage(type, fields, () => opsFromParsedJson(fields.o));
  }
  const reader = new ByteReader(frame, FRAME_HEADER_BYTES, frame.length);
  const fields = headerFields(reader, type);
  if (type === 'hello' && reader.at !== reader.end) throw new DecodeError(`${reader.end - reader.at} bytes follow the hello header`);
  const replicas = (): string[] => replicaTableField(fields.r);
  if (version === SYNC_PROTOCOL_VERSION) return buildMessage(type, fields, () => readOpBlockV4(reader, replicas()));
  return buildMessage(type, fields, () => readOpBlock(reader, replicas(), version === SYNC_PROTOCOL_VERSION_KEYED_BLOCK));
}

function headerFields(reader: ByteReader, type: SyncMessage['type']): Record<string, unknown> {
  const text = reader.text(`${type} frame header`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`${type} frame header is not JSON: ${(error as Error).message}`);
  }
  const fields = objectFields(header, type);
  checkFields(FIELDS, type, fields);
  return fields;
}

function objectFields(body: unknown, type: SyncMessage['type']): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new DecodeError(`${type} frame body is not an object`);
  return body as Record<string, unknown>;
}

/** The message from checked header fields; `readOps` decodes the batch (called last, for ops and snapshots). */
function buildMessage(type: SyncMessage['type'], fields: Record<string, unknown>, readOps: () => Op[]): SyncMessage {
  const from = replicaIdField(fields.f, 'f');
  const to = fields.t === undefined ? undefined : replicaIdField(fields.t, 't');
  const envelope = to === undefined ? { from } : { from, to };
  switch (type) {
    case 'hello':
      if (fields.r !== 0 && fields.r !== 1) throw new DecodeError('hello field r must be 0 or 1');
    {
      const versionVector = vvField(fields.vv, 'vv');
      const hello: HelloMessage = { type, ...envelope, versionVector, horizon: vvField(fields.h, 'h'), tips: tipsField(fields.tp, versionVector), replyWanted: fields.r === 1 };
      const held = fields.gx === undefined ? hello : { ...hello, heldPastGaps: heldField(fields.gx, versionVector) };
      return fields.hp === undefined ? held : { ...held, part: helloPartField(fields.hp) };
    }
    case 'ops':
      return { type, ...envelope, ops: readOps() };
    case 'snapshot': {
      const parts = intField(fields.n, 'n', 1, SNAPSHOT_PARTS_MAX);
      const transferId = intField(fields.x, 'x', 0, Number.MAX_SAFE_INTEGER);
      const part = intField(fields.i, 'i', 0, parts - 1);
      const horizon = vvField(fields.h, 'h');
      return { type, from, to: to as string, transferId, part, parts, horizon, ops: readOps() };
    }
    default:
      return assertNever(type);
  }
}

function typeName(code: number): SyncMessage['type'] {
  // A switch, not a walk over MessageType's entries: this runs for every frame received (and peeked).
  switch (code) {
    case MessageType.hello:
      return 'hello';
    case MessageType.ops:
      return 'ops';
    case MessageType.snapshot:
      return 'snapshot';
    default:
      throw new DecodeError(`unknown sync message type ${code}`, { type: code });
  }
}

function checkFields(specs: FieldSpec, type: SyncMessage['type'], fields: Record<string, unknown>): void {
  const spec = specs[type];
  for (const name of spec.required) if (!(name in fields)) throw new DecodeError(`${type} message lacks field ${name}`, { field: name });
  for (const name of Object.keys(fields)) {
    if (!spec.required.includes(name) && !spec.optional.includes(name)) throw new DecodeError(`${type} message has unknown field ${name}`, { field: name });
  }
}

function replicaIdField(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > REPLICA_ID_LENGTH_MAX) {
    throw new DecodeError(`field ${name} must be a replica id of 1 to ${REPLICA_ID_LENGTH_MAX} characters`, { field: name });
  }
  return value;
}

function replicaTableField(value: unknown): string[] {
  if (!Array.isArray(value)) throw new DecodeError('field r must be an array of replica ids', { field: 'r' });
  for (const id of value) replicaIdField(id, 'r');
  return value as string[];
}

function vvField(value: unknown, name: string): VersionVector {
  try {
    return validateVersionVector(value);
  } catch (error) {
    if (error instanceof MalformedOpError) throw new DecodeError(`field ${name}: ${error.message}`, { field: name });
    throw error;
  }
}

function tipsField(value: unknown, versionVector: VersionVector): Record<string, readonly [number, number]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DecodeError('hello field tp must be an object');
  const tips: Record<string, readonly [number, number]> = {};
  for (const [replica, tip] of Object.entries(value)) {
    if (versionVector[replica] === undefined) throw new DecodeError(`hello tip for ${replica} has no version vector entry`, { field: 'tp' });
    if (!Array.isArray(tip) || tip.length !== 2 || !isValidTimestamp(tip[0], tip[1])) {
      throw new DecodeError(`hello tip for ${replica} must be [wall, logical]`, { field: 'tp' });
    }
    tips[replica] = [tip[0] as number, tip[1] as number];
  }
  return tips;
}

function heldField(value: unknown, versionVector: VersionVector): Record<string, readonly (readonly [number, number])[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DecodeError('hello field gx must be an object');
  const out: Record<string, readonly (readonly [number, number])[]> = {};
  for (const [replica, ranges] of Object.entries(value)) {
    if (replica.length === 0 || replica.length > REPLICA_ID_LENGTH_MAX) throw new DecodeError('hello field gx has an invalid replica id', { field: 'gx' });
    if (!Array.isArray(ranges) || ranges.length === 0 || ranges.length > HELD_RANGES_MAX) throw new DecodeError(`hello gx for ${replica} must hold 1 to ${HELD_RANGES_MAX} ranges`, { field: 'gx' });
    let floor = versionVector[replica] ?? 0;
    out[replica] = ranges.map((range) => {
      const ok = Array.isArray(range) && range.length === 2 && range.every((n) => typeof n === 'number' && Number.isSafeInteger(n));
      if (!ok || (range[0] as number) <= floor || (range[0] as number) > (range[1] as number)) {
        throw new DecodeError(`hello gx for ${replica} must hold ascending [from, to] ranges above its vector entry`, { field: 'gx' });
      }
      floor = range[1] as number;
      return [range[0] as number, range[1] as number] as const;
    });
  }
  return out;
}

function helloPartField(value: unknown): HelloPart {
  if (!Array.isArray(value) || value.length !== 3) throw new DecodeError('hello field hp must be [id, index, count]', { field: 'hp' });
  const count = intField(value[2], 'hp', 2, HELLO_PARTS_MAX);
  return { id: intField(value[0], 'hp', 0, Number.MAX_SAFE_INTEGER), index: intField(value[1], 'hp', 0, count - 1), count };
}

function intField(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new DecodeError(`field ${name} must be an integer from ${min} to ${max}`, { field: name });
  }
  return value;
}

function assertNever(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
