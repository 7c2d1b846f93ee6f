/** The relay (Node only): a dumb, hardened WebSocket fan-out of ciphertext frames. */
export { defaultSocketsMax, openFileLimit } from './admission.js';
export { DiskFrameStore, type DiskFrameStoreOptions, type DiskFrameStoreStats } from './disk-frame-store.js';
export { collectReplay, type FrameStore, REPLAY_PAGE_BYTES_MAX, type ReplayRange, type StoredFrame } from './frame-store.js';
export { jsonLogger, type LogLevel, type RelayLogger, silentLogger } from './log.js';
export { type DisconnectReason, type DropReason, type RelayGauges, RelayMetrics, type RejectionReason, type ThrottleScope } from './metrics.js';
export { type MetricLabels, type MetricType, PrometheusWriter } from './prometheus.js';
export { InProcessRoomBus, type RoomBus, type RoomFrameHandler } from './room-bus.js';
export { ROOM_ID_PATTERN, RelayServer, type RelayServerOptions } from './server.js';
export { TokenBucket } from './token-bucket.js';
