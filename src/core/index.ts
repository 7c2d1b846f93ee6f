/** The platform-free core: ops, merge, the replica handle and the storage contract. */
export { type Clock, ManualClock, systemClock } from './clock.js';
export { CommitQueue, type CommitQueueLimits } from './commit-queue.js';
export { decodeOps, encodeOps, OP_CODEC_VERSION, opsFromWire, opsToWire } from './codec.js';
export * from './errors.js';
export type { ReplicaAlert, RotationReason } from './alerts.js';
export { compareHlc, HLC_ZERO, type HlcTimestamp, HybridLogicalClock, isValidTimestamp, LOGICAL_MAX, MAX_DRIFT_MS_DEFAULT, WALL_MAX } from './hlc.js';
export { JSON_DEPTH_MAX, type JsonValue, jsonEqual, toJsonValue } from './json.js';
export { inKeyRange, type KeyRange } from './key-index.js';
export { type LiveSource, LiveQuery, LiveValue, type QueryEntry, type QueryOptions } from './live-query.js';
export { MemoryStorage } from './memory-storage.js';
export { compareOps, type Op, type OpInput, type OpType, opIdString, REPLICA_ID_LENGTH_MAX, SEQ_MAX, validateOp } from './op.js';
export { type Random, randomFloat, randomReplicaId, seededRandom, systemRandom } from './random.js';
export {
  type ApplyResult,
  type BatchWriter,
  type ChangeEvent,
  type OpsEvent,
  type CompactResult,
  KEY_LENGTH_MAX,
  Replica,
  type ReplicaOptions,
  type RotationResult,
  SEQ_GAP_MAX,
  type StatePoint,
  validateKey,
} from './replica.js';
export {
  type SchemaOutput,
  SchemaValidationError,
  type StandardSchemaIssue,
  type StandardSchemaProps,
  type StandardSchemaResult,
  type StandardSchemaV1,
} from './standard-schema.js';
export { compareKeys, type KeyChange, winnersOf } from './state.js';
export type { Snapshot, Storage, StorageMeta, StoredLog } from './storage.js';
export { validateVersionVector, type VersionVector, vvCovers, vvDominates, vvEqual, vvMerge, vvTotal } from './version-vector.js';
