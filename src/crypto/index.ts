/** End-to-end encryption: room keys, AES-256-GCM envelopes and the encrypting transport decorator. Browser-safe. */
export { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, type Aead, type AeadKey, defaultAead, nobleAead, webCryptoAead } from './aead.js';
export { fromBase64Url, toBase64Url } from './base64url.js';
export * from './errors.js';
export { EncryptedTransport, type EncryptedTransportOptions, type EncryptedTransportStats } from './encrypted-transport.js';
export {
  ENVELOPE_OVERHEAD_BYTES,
  ENVELOPE_VERSION,
  EnvelopeOpener,
  EnvelopeSealer,
  KEY_SALT_BYTES,
  MESSAGES_PER_KEY_MAX,
  type OpenedEnvelope,
  type OpenerOptions,
  type SealerOptions,
  SENDER_ID_BYTES_MAX,
} from './envelope.js';
export { type RandomBytes, seededRandomBytes, systemRandomBytes } from './random-bytes.js';
export {
  generateRoomKey,
  INVITE_PREFIX,
  ROOM_ID_BYTES,
  ROOM_KEY_BYTES,
  type RoomKey,
  roomKeyFromInvite,
  roomKeyFromPassphrase,
  roomKeyFromSecret,
  roomKeyToInvite,
  type ScryptParams,
} from './room-key.js';
export { AT_REST_PREFIX, EncryptedStorage, type EncryptedStorageOptions } from './encrypted-storage.js';
