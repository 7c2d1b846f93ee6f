/**
 * The bytes a relay publishes to a room's Redis channel: the frame a client sent,
 * tagged with the publishing relay and the sending connection. The relay tag lets a
 * relay skip its own messages when Redis echoes them back (it already delivered them
 * locally); the origin tag keeps "everyone but the sender" exact across relays.
 *
 * Layout (binary-safe, no text encoding of the frame):
 * `[version=1][relayIdLength u8][relayId utf8][originIdLength u8][originId utf8][frame...]`
 */
import { DecodeError, InvalidArgumentError } from '../../core/errors.js';

/** The envelope layout version written in byte 0. */
export const BUS_ENVELOPE_VERSION = 1;
/** Longest relay or origin id, in UTF-8 bytes (one length byte). */
export const BUS_ID_BYTES_MAX = 255;

/** A decoded bus envelope. */
export interface BusEnvelope {
  /** The relay that published it. */
  readonly relayId: string;
  /** The connection (on that relay) whose frame this is. */
  readonly originId: string;
  /** The client's frame, untouched. */
  readonly frame: Uint8Array;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function idBytes(id: string, what: string): Uint8Array {
  const bytes = utf8Encoder.encode(id);
  if (bytes.length === 0 || bytes.length > BUS_ID_BYTES_MAX) {
    throw new InvalidArgumentError(`${what} must be 1..${BUS_ID_BYTES_MAX} UTF-8 bytes`, { what, bytes: bytes.length });
  }
  return bytes;
}

/** Encodes one envelope. Throws {@link InvalidArgumentError} for an empty or oversized id. */
export function encodeBusEnvelope(envelope: BusEnvelope): Uint8Array {
  const relay = idBytes(envelope.relayId, 'relayId');
  const origin = idBytes(envelope.originId, 'originId');
  const out = new Uint8Array(3 + relay.length + origin.length + envelope.frame.length);
  out[0] = BUS_ENVELOPE_VERSION;
  out[1] = relay.length;
  out.set(relay, 2);
  out[2 + relay.length] = origin.length;
  out.set(origin, 3 + relay.length);
  out.set(envelope.frame, 3 + relay.length + origin.length);
  return out;
}

/**
 * Decodes one envelope. Anything that is not a well-formed version-1 envelope
 * (another writer on the channel, a truncated message) throws {@link DecodeError}.
 * The returned frame is a view into `bytes`: no copy.
 */
export function decodeBusEnvelope(bytes: Uint8Array): BusEnvelope {
  if (bytes.length < 3) throw new DecodeError('bus envelope too short', { bytes: bytes.length });
  if (bytes[0] !== BUS_ENVELOPE_VERSION) throw new DecodeError('unknown bus envelope version', { version: bytes[0] });
  const relayLength = bytes[1] as number;
  const originAt = 2 + relayLength;
  if (relayLength === 0 || originAt >= bytes.length) throw new DecodeError('bus envelope relay id truncated', { relayLength });
  const originLength = bytes[originAt] as number;
  const frameAt = originAt + 1 + originLength;
  if (originLength === 0 || frameAt > bytes.length) throw new DecodeError('bus envelope origin id truncated', { originLength });
  try {
    return {
      relayId: utf8Decoder.decode(bytes.subarray(2, originAt)),
      originId: utf8Decoder.decode(bytes.subarray(originAt + 1, frameAt)),
      frame: bytes.subarray(frameAt),
    };
  } catch (cause) {
    throw new DecodeError('bus envelope id is not UTF-8', { cause: String(cause) });
  }
}
