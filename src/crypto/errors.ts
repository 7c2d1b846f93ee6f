/**
 * The typed errors of end-to-end encryption: every refused envelope or key is a {@link CryptoFailedError}
 * (code `CRYPTO_FAILED`) whose `reason` names the kind.
 */
import { TidelogError } from '../core/errors.js';

/** Why an envelope or a key was refused; the `reason` of every {@link CryptoFailedError}. */
export type CryptoFailureReason =
  | 'wrong-key'
  | 'tampered'
  | 'truncated'
  | 'wrong-sender'
  | 'unsupported-version'
  | 'key-exhausted'
  | 'invalid-key';

/** Base of every encryption failure (code `CRYPTO_FAILED`); switch on `reason` for the kind. */
export class CryptoFailedError extends TidelogError {
  /** The kind of failure. */
  readonly reason: CryptoFailureReason;

  constructor(reason: CryptoFailureReason, message: string, details: Record<string, unknown> = {}) {
    super('CRYPTO_FAILED', message, { ...details, reason });
    this.reason = reason;
  }
}

/** The envelope was sealed under another room key. */
export class WrongKeyError extends CryptoFailedError {
  constructor(message = 'the envelope was sealed with another key', details: Record<string, unknown> = {}) {
    super('wrong-key', message, details);
  }
}

/** The envelope failed authentication: a byte of it (or of its associated data) changed. */
export class TamperedEnvelopeError extends CryptoFailedError {
  constructor(message = 'the envelope failed authentication', details: Record<string, unknown> = {}) {
    super('tampered', message, details);
  }
}

/** The envelope is shorter than its own header and tag say it must be. */
export class TruncatedEnvelopeError extends CryptoFailedError {
  constructor(message = 'the envelope is truncated', details: Record<string, unknown> = {}) {
    super('truncated', message, details);
  }
}

/** The envelope names a sender it may not come from (for example our own id, reflected back). */
export class WrongSenderError extends CryptoFailedError {
  constructor(message = 'the envelope names an unexpected sender', details: Record<string, unknown> = {}) {
    super('wrong-sender', message, details);
  }
}

/** The envelope (or invite) uses a format version this build does not know. */
export class UnsupportedVersionError extends CryptoFailedError {
  constructor(message = 'unsupported envelope version', details: Record<string, unknown> = {}) {
    super('unsupported-version', message, details);
  }
}

/** A key reached its message bound; it must not seal more (rekey). */
export class KeyExhaustedError extends CryptoFailedError {
  constructor(message = 'the key reached its message bound', details: Record<string, unknown> = {}) {
    super('key-exhausted', message, details);
  }
}

/** Key material (an invite string, a raw key, a passphrase) is malformed. */
export class InvalidKeyMaterialError extends CryptoFailedError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid-key', message, details);
  }
}
