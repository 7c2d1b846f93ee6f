/**
 * Envelopes: one AES-256-GCM sealed frame with a small cleartext header.
 *
 * Layout (version 1), all integers big-endian:
 * `[version u8][fingerprint 8][keySalt 16][nonce 12][plaintextBytes u32][senderBytes u8][sender][ciphertext || tag 16]`
 *
 * Every sender seals under its own subkey, HKDF(envelopeKey, keySalt, room id + sender id),
 * with a fresh random `keySalt` per sealer and per rekey; nonces are 96-bit random values.
 * A subkey seals at most `messagesPerKeyMax` (default 2^31) envelopes, below the 2^32
 * random-nonce bound of GCM, and the sealer rekeys itself when it gets there.
 * The associated data is a domain label, the room id and the whole header, so an envelope
 * cannot move to another room, be credited to another sender or change its claimed length.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { InvalidKeyMaterialError, KeyExhaustedError, TruncatedEnvelopeError, UnsupportedVersionError, WrongKeyError, WrongSenderError } from './errors.js';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, type Aead, type AeadKey, defaultAead } from './aead.js';
import { type RandomBytes, systemRandomBytes } from './random-bytes.js';
import type { RoomKey } from './room-key.js';

/** The envelope format version this build writes and reads. */
export const ENVELOPE_VERSION = 1;
/** Bytes of the per-sealer key salt. */
export const KEY_SALT_BYTES = 16;
/** Longest sender id, in UTF-8 bytes. */
export const SENDER_ID_BYTES_MAX = 64;
/** Envelopes one subkey may seal before the sealer rekeys (2^31: half the GCM random-nonce bound of 2^32). */
export const MESSAGES_PER_KEY_MAX = 2 ** 31;

const FINGERPRINT_AT = 1;
const SALT_AT = FINGERPRINT_AT + 8;
const NONCE_AT = SALT_AT + KEY_SALT_BYTES;
const LENGTH_AT = NONCE_AT + AEAD_NONCE_BYTES;
const SENDER_LENGTH_AT = LENGTH_AT + 4;
const SENDER_AT = SENDER_LENGTH_AT + 1;
/** Bytes of an envelope around its plaintext, without the sender id. */
export const ENVELOPE_OVERHEAD_BYTES = SENDER_AT + AEAD_TAG_BYTES;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const AD_LABEL = encoder.encode('tidelog/envelope/v1');

/** A sealed envelope's cleartext, once opened. */
export interface OpenedEnvelope {
  /** The sender id the envelope is authenticated for. */
  readonly sender: string;
  /** The decrypted frame. */
  readonly plaintext: Uint8Array;
}

function subkeyBytes(key: RoomKey, salt: Uint8Array, sender: Uint8Array): Uint8Array {
  const room = encoder.encode(key.roomId);
  const info = new Uint8Array([...encoder.encode('tidelog/sender-key/v1'), 0, ...room, 0, ...sender]);
  return hkdf(sha256, key.envelopeKey, salt, info, 32);
}

function associatedData(key: RoomKey, header: Uint8Array, extra: Uint8Array): Uint8Array {
  const room = encoder.encode(key.roomId);
  const ad = new Uint8Array(AD_LABEL.length + 1 + room.length + header.length + extra.length);
  ad.set(AD_LABEL);
  ad[AD_LABEL.length] = room.length;
  ad.set(room, AD_LABEL.length + 1);
  ad.set(header, AD_LABEL.length + 1 + room.length);
  ad.set(extra, AD_LABEL.length + 1 + room.length + header.length);
  return ad;
}

const NO_BYTES = new Uint8Array(0);

/** Checks a sender id and returns its UTF-8 bytes. @throws InvalidKeyMaterialError */
export function encodeSenderId(sender: string): Uint8Array {
  const bytes = encoder.encode(sender);
  if (typeof sender !== 'string' || bytes.length === 0 || bytes.length > SENDER_ID_BYTES_MAX) {
    throw new InvalidKeyMaterialError(`a sender id is 1 to ${SENDER_ID_BYTES_MAX} UTF-8 bytes`, { bytes: bytes.length });
  }
  return bytes;
}

/** Options of {@link EnvelopeSealer}. */
export interface SealerOptions {
  /** The AES-GCM engine; WebCrypto when present, else @noble/ciphers. */
  readonly aead?: Aead;
  /** Source of key salts and nonces; the platform CSPRNG by default. */
  readonly randomBytes?: RandomBytes;
  /** Envelopes per subkey before rekeying; at most {@link MESSAGES_PER_KEY_MAX}. */
  readonly messagesPerKeyMax?: number;
}

interface Epoch {
  readonly salt: Uint8Array;
  readonly key: Promise<AeadKey>;
  sealed: number;
}

/** Seals frames for one sender in one room. Safe to call concurrently; output order follows completion. */
export class EnvelopeSealer {
  private readonly aead: Aead;
  private readonly randomBytes: RandomBytes;
  private readonly messagesPerKeyMax: number;
  private readonly senderBytes: Uint8Array;
  private epoch: Epoch;
  private epochs = 0;

  constructor(
    private readonly key: RoomKey,
    /** The sender id bound into every envelope. */
    readonly sender: string,
    options: SealerOptions = {},
  ) {
    this.aead = options.aead ?? defaultAead();
    this.randomBytes = options.randomBytes ?? systemRandomBytes;
    const bound = options.messagesPerKeyMax ?? MESSAGES_PER_KEY_MAX;
    if (!Number.isSafeInteger(bound) || bound < 1 || bound > MESSAGES_PER_KEY_MAX) {
      throw new InvalidKeyMaterialError(`messagesPerKeyMax must be an integer in [1, ${MESSAGES_PER_KEY_MAX}]`);
    }
    this.messagesPerKeyMax = bound;
    this.senderBytes = encodeSenderId(sender);
    this.epoch = this.newEpoch();
  }

  /** How many subkeys this sealer has used so far (1 + the number of rekeys). */
  get keyEpochs(): number {
    return this.epochs;
  }

  private newEpoch(): Epoch {
    const salt = this.randomBytes.bytes(KEY_SALT_BYTES);
    this.epochs += 1;
    return { salt, key: this.aead.importKey(subkeyBytes(this.key, salt, this.senderBytes)), sealed: 0 };
  }

  /** Seals one frame; `context` (not stored) must be given again, byte for byte, to open it. */
  async seal(plaintext: Uint8Array, context: Uint8Array = NO_BYTES): Promise<Uint8Array> {
    if (this.epoch.sealed >= this.messagesPerKeyMax) this.epoch = this.newEpoch();
    const epoch = this.epoch;
    // The count is taken synchronously, so concurrent seals can never push a subkey past its bound.
    epoch.sealed += 1;
    if (epoch.sealed > this.messagesPerKeyMax) throw new KeyExhaustedError('a subkey went past its message bound', { sealed: epoch.sealed });
    const header = new Uint8Array(SENDER_AT + this.senderBytes.length);
    header[0] = ENVELOPE_VERSION;
    header.set(this.key.fingerprint, FINGERPRINT_AT);
    header.set(epoch.salt, SALT_AT);
    header.set(this.randomBytes.bytes(AEAD_NONCE_BYTES), NONCE_AT);
    new DataView(header.buffer).setUint32(LENGTH_AT, plaintext.length);
    header[SENDER_LENGTH_AT] = this.senderBytes.length;
    header.set(this.senderBytes, SENDER_AT);
    const sealed = await (await epoch.key).seal(header.subarray(NONCE_AT, LENGTH_AT), associatedData(this.key, header, context), plaintext);
    const out = new Uint8Array(header.length + sealed.length);
    out.set(header);
    out.set(sealed, header.length);
    return out;
  }
}

/** Options of {@link EnvelopeOpener}. */
export interface OpenerOptions {
  /** The AES-GCM engine; WebCrypto when present, else @noble/ciphers. */
  readonly aead?: Aead;
  /** Subkeys kept imported (one per live sender epoch). Default 256. */
  readonly subkeysCachedMax?: number;
}

/** Opens envelopes of one room, from any sender. */
export class EnvelopeOpener {
  private readonly aead: Aead;
  private readonly subkeysCachedMax: number;
  private readonly subkeys = new Map<string, Promise<AeadKey>>();

  constructor(
    private readonly key: RoomKey,
    options: OpenerOptions = {},
  ) {
    this.aead = options.aead ?? defaultAead();
    this.subkeysCachedMax = options.subkeysCachedMax ?? 256;
  }

  /**
   * Verifies and decrypts one envelope. `refusedSender`, when given, is a sender id
   * that must not appear (our own: a relay reflecting our frames back); `context` is the
   * extra associated data the envelope was sealed with.
   * @throws TruncatedEnvelopeError, UnsupportedVersionError, WrongKeyError, WrongSenderError, TamperedEnvelopeError
   */
  async open(envelope: Uint8Array, refusedSender?: string, context: Uint8Array = NO_BYTES): Promise<OpenedEnvelope> {
    if (!(envelope instanceof Uint8Array) || envelope.length < 1) throw new TruncatedEnvelopeError('the envelope is empty');
    if (envelope[0] !== ENVELOPE_VERSION) throw new UnsupportedVersionError(`envelope version ${envelope[0]} is not supported`, { version: envelope[0] });
    if (envelope.length < ENVELOPE_OVERHEAD_BYTES + 1) throw new TruncatedEnvelopeError('the envelope is shorter than its header', { bytes: envelope.length });
    for (let i = 0; i < 8; i++) {
      if (envelope[FINGERPRINT_AT + i] !== this.key.fingerprint[i]) throw new WrongKeyError();
    }
    const senderLength = envelope[SENDER_LENGTH_AT] as number;
    const headerEnd = SENDER_AT + senderLength;
    const plaintextBytes = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength).getUint32(LENGTH_AT);
    if (senderLength === 0 || senderLength > SENDER_ID_BYTES_MAX) throw new TruncatedEnvelopeError('the sender id length is out of range', { senderLength });
    if (envelope.length !== headerEnd + plaintextBytes + AEAD_TAG_BYTES) {
      throw new TruncatedEnvelopeError('the envelope length does not match its header', { bytes: envelope.length, expected: headerEnd + plaintextBytes + AEAD_TAG_BYTES });
    }
    const header = envelope.subarray(0, headerEnd);
    const senderBytes = envelope.subarray(SENDER_AT, headerEnd);
    let sender: string;
    try {
      sender = decoder.decode(senderBytes);
    } catch {
      throw new WrongSenderError('the sender id is not UTF-8');
    }
    if (refusedSender !== undefined && sender === refusedSender) throw new WrongSenderError('the envelope claims our own sender id', { sender });
    const key = await this.subkey(envelope.subarray(SALT_AT, NONCE_AT), senderBytes);
    const plaintext = await key.open(envelope.subarray(NONCE_AT, LENGTH_AT), associatedData(this.key, header, context), envelope.subarray(headerEnd));
    return { sender, plaintext };
  }

  private subkey(salt: Uint8Array, sender: Uint8Array): Promise<AeadKey> {
    const id = `${Array.from(salt).join(',')}|${Array.from(sender).join(',')}`;
    const cached = this.subkeys.get(id);
    if (cached !== undefined) {
      // Re-insert to keep the map in least-recently-used order.
      this.subkeys.delete(id);
      this.subkeys.set(id, cached);
      return cached;
    }
    const key = this.aead.importKey(subkeyBytes(this.key, salt.slice(), sender));
    this.subkeys.set(id, key);
    if (this.subkeys.size > this.subkeysCachedMax) this.subkeys.delete(this.subkeys.keys().next().value as string);
    return key;
  }
}
