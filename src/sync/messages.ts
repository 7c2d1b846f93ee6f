/**
 * The sync protocol's wire format. Every frame is
 * `[version: u8][type: u8][body: UTF-8 JSON object]`; op lists inside use the
 * shared op batch encoding (`opsToWire`). The decoder is strict: a wrong
 * version, an unknown type, bad UTF-8, bad JSON, a missing or mistyped field,
 * an unknown field or a malformed op each raise a {@link DecodeError}.
 */
import { opsFromParsedJson, opsToWire } from '../core/codec.js';
import { DecodeError, MalformedOpError } from '../core/errors.js';
import type { Op } from '../core/op.js';
import { REPLICA_ID_LENGTH_MAX } from '../core/op.js';
import { validateVersionVector, type VersionVector } from '../core/version-vector.js';

/** Protocol version written in byte 0 of every frame. */
export const SYNC_PROTOCOL_VERSION = 1;
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
}

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

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a message as one frame. */
export function encodeMessage(message: SyncMessage): Uint8Array {
  const body: Record<string, unknown> = { f: message.from };
  if (message.to !== undefined) body.t = message.to;
  switch (message.type) {
    case 'hello':
      body.vv = message.versionVector;
      body.h = message.horizon;
      body.tp = message.tips;
      if (message.heldPastGaps !== undefined && Object.keys(message.heldPastGaps).length > 0) body.gx = message.heldPastGaps;
      body.r = message.replyWanted ? 1 : 0;
      break;
    case 'ops':
      body.o = opsToWire(message.ops);
      break;
    case 'snapshot':
      body.x = message.transferId;
      body.i = message.part;
      body.n = message.parts;
      body.h = message.horizon;
      body.o = opsToWire(message.ops);
      break;
    default:
      return assertNever(message);
  }
  const json = textEncoder.encode(JSON.stringify(body));
  const frame = new Uint8Array(FRAME_HEADER_BYTES + json.length);
  frame[0] = SYNC_PROTOCOL_VERSION;
  frame[1] = MessageType[message.type];
  frame.set(json, FRAME_HEADER_BYTES);
  return frame;
}

const FIELDS: Record<SyncMessage['type'], { required: readonly string[]; optional: readonly string[] }> = {
  hello: { required: ['f', 'vv', 'h', 'tp', 'r'], optional: ['t', 'gx'] },
  ops: { required: ['f', 'o'], optional: ['t'] },
  snapshot: { required: ['f', 't', 'x', 'i', 'n', 'h', 'o'], optional: [] },
};

/**
 * Decodes one frame. Untrusted input: every field is checked.
 * @throws DecodeError naming what is wrong.
 */
export function decodeMessage(frame: Uint8Array): SyncMessage {
  if (!(frame instanceof Uint8Array)) throw new DecodeError('frame is not bytes');
  if (frame.length < FRAME_HEADER_BYTES + 2) throw new DecodeError(`frame of ${frame.length} bytes is too short`);
  if (frame[0] !== SYNC_PROTOCOL_VERSION) throw new DecodeError(`sync protocol version ${frame[0]} is not supported (expected ${SYNC_PROTOCOL_VERSION})`, { version: frame[0] });
  const type = typeName(frame[1] as number);
  let body: unknown;
  try {
    body = JSON.parse(textDecoder.decode(frame.subarray(FRAME_HEADER_BYTES)));
  } catch (error) {
    throw new DecodeError(`${type} frame body is not UTF-8 JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new DecodeError(`${type} frame body is not an object`);
  const fields = body as Record<string, unknown>;
  checkFields(type, fields);
  const from = replicaIdField(fields.f, 'f');
  const to = fields.t === undefined ? undefined : replicaIdField(fields.t, 't');
  const envelope = to === undefined ? { from } : { from, to };
  switch (type) {
    case 'hello':
      if (fields.r !== 0 && fields.r !== 1) throw new DecodeError('hello field r must be 0 or 1');
    {
      const versionVector = vvField(fields.vv, 'vv');
      const hello = { type, ...envelope, versionVector, horizon: vvField(fields.h, 'h'), tips: tipsField(fields.tp, versionVector), replyWanted: fields.r === 1 };
      return fields.gx === undefined ? hello : { ...hello, heldPastGaps: heldField(fields.gx, versionVector) };
    }
    case 'ops':
      return { type, ...envelope, ops: opsFromParsedJson(fields.o) };
    case 'snapshot': {
      const parts = intField(fields.n, 'n', 1, SNAPSHOT_PARTS_MAX);
      return {
        type,
        from,
        to: to as string,
        transferId: intField(fields.x, 'x', 0, Number.MAX_SAFE_INTEGER),
        part: intField(fields.i, 'i', 0, parts - 1),
        parts,
        horizon: vvField(fields.h, 'h'),
        ops: opsFromParsedJson(fields.o),
      };
    }
    default:
      return assertNever(type);
  }
}

function typeName(code: number): SyncMessage['type'] {
  for (const [name, value] of Object.entries(MessageType)) if (value === code) return name as SyncMessage['type'];
  throw new DecodeError(`unknown sync message type ${code}`, { type: code });
}

function checkFields(type: SyncMessage['type'], fields: Record<string, unknown>): void {
  const spec = FIELDS[type];
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
    if (!Array.isArray(tip) || tip.length !== 2 || !tip.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) {
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

function intField(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new DecodeError(`field ${name} must be an integer from ${min} to ${max}`, { field: name });
  }
  return value;
}

function assertNever(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
