/**
 * `tidelog/node`: everything in the main entry plus the Node-only parts
 * (file storage, the relay server, the CLI helpers).
 */
export * from './index.js';
export * from './storage/file/index.js';
export * from './relay/index.js';
export { type NodeSyncedReplicaOptions, openSyncedReplicaNode } from './client/node.js';
