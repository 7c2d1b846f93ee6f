/**
 * Typed errors. Every expected failure (bad input, corrupt bytes, a closed
 * handle) is a {@link TidelogError} with a stable `code`, so callers can
 * switch on it; broken internal invariants throw plain `Error`s.
 */

/** Stable machine-readable codes for every expected failure. */
export type TidelogErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_VALUE'
  | 'INVALID_ARGUMENT'
  | 'MALFORMED_OP'
  | 'OP_ID_CONFLICT'
  | 'REPLICA_CLOSED'
  | 'HISTORY_TRUNCATED'
  | 'STORAGE_FAILED'
  | 'STORAGE_CORRUPT'
  | 'STORAGE_LOCKED'
  | 'DECODE_FAILED'
  | 'CRYPTO_FAILED'
  | 'TRANSPORT_FAILED'
  | 'TARGET_UNAVAILABLE';

/** Base class of every error Tidelog throws on purpose. */
export class TidelogError extends Error {
  /** The stable code to switch on. */
  readonly code: TidelogErrorCode;
  /** Structured context (offsets, indexes, names) for logs and tools. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: TidelogErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A key that is not a non-empty string. */
export class InvalidKeyError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_KEY', message, details);
  }
}

/** A value that is not a JSON value (function, cycle, NaN, BigInt, undefined, class instance...). */
export class InvalidValueError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_VALUE', message, details);
  }
}

/** An option or argument outside what the API accepts. */
export class InvalidArgumentError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_ARGUMENT', message, details);
  }
}

/** A remote op (or a batch containing one) that does not have the shape of an op. */
export class MalformedOpError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('MALFORMED_OP', message, details);
  }
}

/**
 * Two different ops carry the same id (replica, seq). This happens when a device is
 * restored from a stale backup and writes again before it has synced: the id was
 * already used for another op that peers have seen.
 */
export class OpIdConflictError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('OP_ID_CONFLICT', message, details);
  }
}

/** The replica (or storage, or transport) was used after `close()`. */
export class ReplicaClosedError extends TidelogError {
  constructor(message = 'the replica is closed') {
    super('REPLICA_CLOSED', message);
  }
}

/** `stateAt` or `history` was asked about a point older than the retained history. */
export class HistoryTruncatedError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('HISTORY_TRUNCATED', message, details);
  }
}

/** The storage medium failed (I/O error, quota). Nothing of the failed commit was applied. */
export class StorageFailedError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('STORAGE_FAILED', message, details, options);
  }
}

/** Stored bytes failed verification (checksum, framing) somewhere they cannot be repaired silently. */
export class StorageCorruptError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('STORAGE_CORRUPT', message, details);
  }
}

/** Bytes (a sync message, an encoded op batch) that do not decode. */
export class DecodeError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('DECODE_FAILED', message, details);
  }
}

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

/** Another process (or handle) holds the database open for writing. */
export class StorageLockedError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('STORAGE_LOCKED', message, details);
  }
}

/** A simulator target that cannot be loaded: its CRDT package is not installed, or a module exports no adapter. */
export class TargetUnavailableError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('TARGET_UNAVAILABLE', message, details);
  }
}
