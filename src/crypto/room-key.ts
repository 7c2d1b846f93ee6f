/**
 * Room keys. A room is defined by one 32-byte secret; everything else is
 * derived from it with HKDF-SHA256 under distinct labels, so the id the relay
 * routes by reveals nothing about the key, the passphrase or a room name.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { InvalidKeyMaterialError, UnsupportedVersionError } from './errors.js';
import { fromBase64Url, toBase64Url } from './base64url.js';
import { type RandomBytes, systemRandomBytes } from './random-bytes.js';

/** Bytes of a room secret. */
export const ROOM_KEY_BYTES = 32;
/** Bytes of the room id (128 bits: collisions between rooms are out of reach). */
export const ROOM_ID_BYTES = 16;
/** Prefix of invite strings; the digit is the invite format version. */
export const INVITE_PREFIX = 'tidelog1:';
/** Bytes of the checksum appended to an invite, to catch typos and truncated copies. */
const INVITE_CHECK_BYTES = 4;

const encoder = new TextEncoder();
const label = (text: string): Uint8Array => encoder.encode(text);

/** A room's secret and the values derived from it. */
export interface RoomKey {
  /** The 32-byte room secret. Never leaves the client. */
  readonly secret: Uint8Array;
  /** The routing id the relay sees: base64url of 16 derived bytes. */
  readonly roomId: string;
  /** The key that seals sync envelopes (per-sender subkeys are derived from it). */
  readonly envelopeKey: Uint8Array;
  /** The key that seals data at rest. */
  readonly atRestKey: Uint8Array;
  /** 8 bytes every envelope carries so a receiver can tell "wrong key" from "tampered"; public like the room id. */
  readonly fingerprint: Uint8Array;
}

/** Builds a {@link RoomKey} from a 32-byte secret. @throws InvalidKeyMaterialError */
export function roomKeyFromSecret(secret: Uint8Array): RoomKey {
  if (!(secret instanceof Uint8Array) || secret.length !== ROOM_KEY_BYTES) {
    throw new InvalidKeyMaterialError(`a room secret is ${ROOM_KEY_BYTES} bytes`, { length: (secret as Uint8Array | undefined)?.length });
  }
  const own = secret.slice();
  const idBytes = hkdf(sha256, own, undefined, label('tidelog/room-id/v1'), ROOM_ID_BYTES);
  return Object.freeze({
    secret: own,
    roomId: toBase64Url(idBytes),
    envelopeKey: hkdf(sha256, own, undefined, label('tidelog/envelope-key/v1'), 32),
    atRestKey: hkdf(sha256, own, undefined, label('tidelog/at-rest-key/v1'), 32),
    fingerprint: idBytes.slice(0, 8),
  });
}

/** A new random room key. */
export function generateRoomKey(randomBytes: RandomBytes = systemRandomBytes): RoomKey {
  return roomKeyFromSecret(randomBytes.bytes(ROOM_KEY_BYTES));
}

/** The invite string that carries a room key: `tidelog1:` + base64url(secret || 4-byte SHA-256 check). */
export function roomKeyToInvite(key: RoomKey): string {
  const body = new Uint8Array(ROOM_KEY_BYTES + INVITE_CHECK_BYTES);
  body.set(key.secret);
  body.set(sha256(key.secret).subarray(0, INVITE_CHECK_BYTES), ROOM_KEY_BYTES);
  return INVITE_PREFIX + toBase64Url(body);
}

/**
 * Parses an invite string (surrounding whitespace allowed).
 * @throws UnsupportedVersionError for another `tidelogN:` version, InvalidKeyMaterialError for anything malformed.
 */
export function roomKeyFromInvite(invite: string): RoomKey {
  if (typeof invite !== 'string') throw new InvalidKeyMaterialError('an invite is a string');
  const text = invite.trim();
  if (!text.startsWith(INVITE_PREFIX)) {
    if (/^tidelog\d+:/.test(text)) throw new UnsupportedVersionError('this invite uses a newer format', { prefix: text.slice(0, text.indexOf(':') + 1) });
    throw new InvalidKeyMaterialError(`an invite starts with ${INVITE_PREFIX}`);
  }
  const body = fromBase64Url(text.slice(INVITE_PREFIX.length));
  if (body.length !== ROOM_KEY_BYTES + INVITE_CHECK_BYTES) throw new InvalidKeyMaterialError('the invite has the wrong length', { bytes: body.length });
  const secret = body.subarray(0, ROOM_KEY_BYTES);
  const check = sha256(secret).subarray(0, INVITE_CHECK_BYTES);
  for (let i = 0; i < INVITE_CHECK_BYTES; i++) {
    if (check[i] !== body[ROOM_KEY_BYTES + i]) throw new InvalidKeyMaterialError('the invite checksum does not match (a typo or a truncated copy?)');
  }
  return roomKeyFromSecret(secret);
}

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. Default 2^15 (32 MiB with r = 8). */
  readonly N?: number;
  /** Block size. Default 8. */
  readonly r?: number;
  /** Parallelism. Default 1. */
  readonly p?: number;
}

/**
 * Derives a room key from a passphrase with scrypt. Everyone in the room must use the
 * same passphrase, salt and parameters; a room name makes a good salt (it never leaves
 * the client: the relay only sees the derived room id).
 * @throws InvalidKeyMaterialError for an empty passphrase or salt.
 */
export async function roomKeyFromPassphrase(passphrase: string, salt: string | Uint8Array, params: ScryptParams = {}): Promise<RoomKey> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new InvalidKeyMaterialError('the passphrase must be a non-empty string');
  const saltBytes = typeof salt === 'string' ? encoder.encode(salt) : salt;
  if (!(saltBytes instanceof Uint8Array) || saltBytes.length === 0) throw new InvalidKeyMaterialError('the salt must be a non-empty string or byte array');
  const domainSalt = new Uint8Array([...label('tidelog/passphrase/v1:'), ...saltBytes]);
  const secret = await scryptAsync(encoder.encode(passphrase.normalize('NFKC')), domainSalt, {
    N: params.N ?? 2 ** 15,
    r: params.r ?? 8,
    p: params.p ?? 1,
    dkLen: ROOM_KEY_BYTES,
    maxmem: 2 ** 30,
  });
  return roomKeyFromSecret(secret);
}
