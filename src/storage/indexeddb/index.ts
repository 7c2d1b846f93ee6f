/** The IndexedDB storage adapter (browsers; no Node imports). */
export { IndexedDbStorage, type IndexedDbStorageOptions } from './idb-storage.js';
