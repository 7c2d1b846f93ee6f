/** The typed errors the storage adapters share (beyond the core's `STORAGE_*` failures). */
import { TidelogError } from '../core/errors.js';

/** Another process (or handle) holds the database open for writing. */
export class StorageLockedError extends TidelogError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('STORAGE_LOCKED', message, details);
  }
}
