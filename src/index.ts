/**
 * `tidelog`: the isomorphic entry. Loads unchanged in Node and in browsers;
 * nothing reachable from here imports a `node:` module.
 */
export * from './core/index.js';
export * from './sync/index.js';
export * from './storage/errors.js';
export * from './storage/indexeddb/index.js';
export * from './crypto/index.js';
export * from './client/index.js';
export {
  reconnectDelayMs,
  type WebSocketConstructor,
  type WebSocketLike,
  WebSocketTransport,
  type WebSocketTransportOptions,
  type WebSocketTransportState,
  type WebSocketTransportStats,
} from './sync/websocket-transport.js';
