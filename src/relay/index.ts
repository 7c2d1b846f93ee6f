/** The relay (Node only): a dumb, hardened WebSocket fan-out of ciphertext frames. */
export { DiskFrameStore, type DiskFrameStoreOptions } from './disk-frame-store.js';
export { jsonLogger, type LogLevel, type RelayLogger, silentLogger } from './log.js';
export { type DisconnectReason, type DropReason, RelayMetrics, type RejectionReason } from './metrics.js';
export { type FrameStore, InProcessRoomBus, type RoomBus, type RoomFrameHandler } from './room-bus.js';
export { ROOM_ID_PATTERN, RelayServer, type RelayServerOptions } from './server.js';
export { TokenBucket } from './token-bucket.js';
