/** The crash-safe file log (Node only). */
export { crc32c } from '../../core/crc32c.js';
export { type DurabilityMode, FileStorage, type FileStorageOptions, type FileStorageStats } from './file-storage.js';
export { FILE_FORMAT_VERSION, RECORD_PAYLOAD_BYTES_MAX } from './format.js';
export { DAMAGED_DIR, type DamageFinding, type RecoveryReport } from './recovery.js';
export { type VerifyReport, verifyDirectory } from './verify.js';
