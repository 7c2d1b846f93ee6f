/** The IndexedDB storage adapter (browsers; no Node imports). */
export { IndexedDbStorage, type IndexedDbStorageOptions } from './idb-storage.js';
export type { LockManagerLike } from './web-lock.js';
