/**
 * `tidelog/browser`: everything in the main entry plus the browser storage
 * (IndexedDB). Nothing reachable from here imports a `node:` module.
 */
export * from './index.js';
export * from './storage/indexeddb/index.js';
