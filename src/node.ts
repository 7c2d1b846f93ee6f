/**
 * `tidelog/node`: everything in the main entry plus the Node-only parts
 * (file storage, the relay server, the CLI helpers).
 */
export * from './index.js';
export * from './storage/file/index.js';
/** The deterministic simulator (Node only: it lets promise work finish with `process.nextTick`, see sim/settle.ts). */
export * as sim from './sim/index.js';
/** Pluggable simulator targets: the adapter interface, the Tidelog/Yjs/Automerge adapters, `runTarget`. */
export * as simTargets from './sim/targets/index.js';
export { TargetUnavailableError } from './sim/targets/errors.js';
export * from './relay/index.js';
export { type NodeSyncedReplicaOptions, openSyncedReplicaNode } from './client/node.js';
export { nodeAead } from './crypto/node-aead.js';
export {
  IOREDIS_INSTALL,
  loadRedisConstructor,
  openRedisFanout,
  type RedisClient,
  type RedisConstructor,
  type RedisPipeline,
  type RedisCounters,
  type RedisFanout,
  type RedisFanoutOptions,
  RedisFrameStore,
  type RedisFrameStoreOptions,
  RedisRoomBus,
  type RedisRoomBusOptions,
  RedisStatus,
  validateRedisUrl,
} from './relay/redis/index.js';
