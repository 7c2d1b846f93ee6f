/**
 * The bytes a relay publishes to a room's Redis channel: the frames its members sent
 * in one turn of the event loop, tagged with the publishing relay and each sending
 * connection. The relay tag lets a relay skip its own messages when Redis echoes them
 * back (it already delivered them locally); the origin tags keep "everyone but the
 * sender" exact across relays. Several frames per message cut Redis round trips
 * under load without delaying a lone frame.
 *
 * Layout (binary-safe, frames are copied byte for byte):
 * `[version=1][relayIdLength u8][relayId utf8]` then, per frame,
 * `[originIdLength u8][originId utf8][frameLength u32 big-endian][frame]`.
 */
import { DecodeError, InvalidArgumentError } from '../../core/errors.js';

/** The envelope layout version written in byte 0. */
export const BUS_ENVELOPE_VERSION = 1;
/** Longest relay or origin id, in UTF-8 bytes (one length byte). */
export const BUS_ID_BYTES_MAX = 255;

/** One frame in an envelope. */
export interface BusFrame {
  /** The connection (on the publishing relay) that sent it. */
  readonly originId: string;
  /** The client's frame, untouched. */
  readonly frame: Uint8Array;
}

/** A decoded bus envelope. */
export interface BusEnvelope {
  /** The relay that published it. */
  readonly relayId: string;
  /** At least one frame, in the order they were sent. */
  readonly frames: readonly BusFrame[];
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 bytes of an id; throws {@link InvalidArgumentError} when empty or longer than {@link BUS_ID_BYTES_MAX}. */
export function busIdBytes(id: string, what: string): Uint8Array {
  const bytes = utf8Encoder.encode(id);
  if (bytes.length === 0 || bytes.length > BUS_ID_BYTES_MAX) {
    throw new InvalidArgumentError(`${what} must be 1..${BUS_ID_BYTES_MAX} UTF-8 bytes`, { what, bytes: bytes.length });
  }
  return bytes;
}

/** Bytes one frame takes in an envelope. */
export function busFrameBytes(originIdBytes: Uint8Array, frame: Uint8Array): number {
  return 1 + originIdBytes.length + 4 + frame.length;
}

/** Encodes one envelope. Throws {@link InvalidArgumentError} for no frames or an empty or oversized id. */
export function encodeBusEnvelope(envelope: BusEnvelope): Uint8Array {
  if (envelope.frames.length === 0) throw new InvalidArgumentError('a bus envelope carries at least one frame');
  const relay = busIdBytes(envelope.relayId, 'relayId');
  const origins = envelope.frames.map((f) => busIdBytes(f.originId, 'originId'));
  let length = 2 + relay.length;
  envelope.frames.forEach((f, i) => {
    length += busFrameBytes(origins[i] as Uint8Array, f.frame);
  });
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out[0] = BUS_ENVELOPE_VERSION;
  out[1] = relay.length;
  out.set(relay, 2);
  let at = 2 + relay.length;
  envelope.frames.forEach((f, i) => {
    const origin = origins[i] as Uint8Array;
    out[at] = origin.length;
    out.set(origin, at + 1);
    at += 1 + origin.length;
    view.setUint32(at, f.frame.length);
    out.set(f.frame, at + 4);
    at += 4 + f.frame.length;
  });
  return out;
}

function decodeId(bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new DecodeError(`bus envelope ${what} is not UTF-8`);
  }
}

/**
 * Decodes one envelope. Anything that is not a well-formed version-1 envelope
 * (another writer on the channel, a truncated message) throws {@link DecodeError}.
 * The frames are views into `bytes`: no copy.
 */
export function decodeBusEnvelope(bytes: Uint8Array): BusEnvelope {
  if (bytes.length < 2) throw new DecodeError('bus envelope too short', { bytes: bytes.length });
  if (bytes[0] !== BUS_ENVELOPE_VERSION) throw new DecodeError('unknown bus envelope version', { version: bytes[0] });
  const relayLength = bytes[1] as number;
  let at = 2 + relayLength;
  if (relayLength === 0 || at > bytes.length) throw new DecodeError('bus envelope relay id truncated', { relayLength });
  const relayId = decodeId(bytes.subarray(2, at), 'relay id');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: BusFrame[] = [];
  while (at < bytes.length) {
    const originLength = bytes[at] as number;
    const lengthAt = at + 1 + originLength;
    if (originLength === 0 || lengthAt + 4 > bytes.length) throw new DecodeError('bus envelope frame header truncated', { at });
    const frameLength = view.getUint32(lengthAt);
    const end = lengthAt + 4 + frameLength;
    if (end > bytes.length) throw new DecodeError('bus envelope frame truncated', { at, frameLength });
    frames.push({ originId: decodeId(bytes.subarray(at + 1, lengthAt), 'origin id'), frame: bytes.subarray(lengthAt + 4, end) });
    at = end;
  }
  if (frames.length === 0) throw new DecodeError('bus envelope carries no frame');
  return { relayId, frames };
}
