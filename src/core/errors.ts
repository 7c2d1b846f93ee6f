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
  | 'CLOCK_DRIFT'
  | 'FORGED_OWN_OP'
  | 'SEQ_GAP'
  | 'REPLICA_ID_BUDGET'
  | 'REPLICA_CLOSED'
  | 'HISTORY_TRUNCATED'
  | 'STORAGE_FAILED'
  | 'STORAGE_CORRUPT'
  | 'STORAGE_LOCKED'
  | 'DECODE_FAILED'
  | 'CRYPTO_FAILED'
  | 'TRANSPORT_FAILED'
  | 'TARGET_UNAVAILABLE'
  | 'PEER_DEPENDENCY_MISSING'
  | 'SIMULATION_FAILED';

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

/**
 * A timestamp more than `maxDriftMs` ahead of this replica's clock: a remote op from a device whose clock is wrong
 * (or that lies), or a local write after this device's clock went back past times it had already used. Nothing of
 * the refused batch was applied. `details` names the op (`replica`, `seq`), its `wall`, the clock reading `nowMs`,
 * the bound `maxDriftMs`, the latest wall accepted now (`limitWall`) and how long until the op would pass (`waitMs`).
 */
export class ClockDriftError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CLOCK_DRIFT', message, details);
  }
}

/**
 * An op under this replica's own id that it never wrote, from outside (a peer forging the id, or the ops of an
 * earlier device that used the id: a wiped device re-created under its old id, a restored backup). Refused; the
 * replica then writes under a fresh id (see `Replica.subscribeAlerts`), so the forged ids cannot collide with its writes.
 */
export class ForgedOwnOpError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('FORGED_OWN_OP', message, details);
  }
}

/**
 * An op whose sequence number lies more than `SEQ_GAP_MAX` past what this replica holds of its writer: more than the
 * writer could have sent in order. It is not stored (a later sync brings it once the gap is filled).
 */
export class SeqGapError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SEQ_GAP', message, details);
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

/** An optional peer dependency (ioredis for the Redis fan-out) that a feature needs is not installed; `details.install` says what to run. */
export class MissingPeerDependencyError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('PEER_DEPENDENCY_MISSING', message, details);
  }
}

/** Bytes (a sync message, an encoded op batch) that do not decode. */
export class DecodeError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('DECODE_FAILED', message, details);
  }
}
