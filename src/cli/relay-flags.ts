/** The relay's limit flags: each maps one-to-one onto a numeric `RelayServerOptions` field. */
import type { FlagSpec } from './args.js';

const RELAY_LIMIT_GROUP = 'Limits (per connection unless said)';
/** `relay` flags that map one-to-one onto a numeric `RelayServerOptions` field. */
export const RELAY_LIMIT_FLAGS: readonly (FlagSpec & { readonly option: string })[] = [
  { name: 'frame-bytes-max', option: 'frameBytesMax', kind: 'int', min: 1, value: 'bytes', help: 'largest frame; larger ones close the connection (default 1 MiB)' },
  { name: 'frames-per-second-max', option: 'framesPerSecondMax', kind: 'number', min: 0, value: 'N', help: 'sustained frames per second (default 1000)' },
  { name: 'bytes-per-second-max', option: 'bytesPerSecondMax', kind: 'number', min: 0, value: 'bytes', help: 'sustained bytes per second (default 32 MiB)' },
  { name: 'room-deliveries-per-second-max', option: 'roomDeliveriesPerSecondMax', kind: 'number', min: 1, value: 'N', help: 'deliveries per second per room, a frame to 9 members is 9 (default 20000)' },
  { name: 'room-bytes-per-second-max', option: 'roomBytesPerSecondMax', kind: 'number', min: 1, value: 'bytes', help: 'bytes delivered per second per room (default 64 MiB)' },
  { name: 'connections-per-room-max', option: 'connectionsPerRoomMax', kind: 'int', min: 1, value: 'N', help: 'members per room (default 256)' },
  { name: 'connections-max', option: 'connectionsMax', kind: 'int', min: 1, value: 'N', help: 'members in total (default 50000)' },
  { name: 'sockets-max', option: 'socketsMax', kind: 'int', min: 2, value: 'N', help: 'accepted sockets of any kind (default 90% of the open-file limit less 32)' },
  { name: 'upgrade-timeout-ms', option: 'upgradeTimeoutMs', kind: 'int', min: 10, value: 'ms', help: 'a socket not a member this long is closed (default 10000)' },
  { name: 'heartbeat-ms', option: 'heartbeatMs', kind: 'int', min: 1, value: 'ms', help: 'ping interval; a member silent for two is dropped (default 15000)' },
  { name: 'buffered-bytes-max', option: 'bufferedBytesMax', kind: 'int', min: 1, value: 'bytes', help: 'bytes queued to one slow receiver before it is dropped (default 16 MiB)' },
  { name: 'buffered-frames-max', option: 'bufferedFramesMax', kind: 'int', min: 1, value: 'N', help: 'frames queued to one slow receiver before it is dropped (default 4096)' },
  { name: 'replay-frames-max', option: 'replayFramesMax', kind: 'int', min: 0, value: 'N', help: 'stored frames replayed to a joining member, the newest (default 100000)' },
  { name: 'replay-buffered-bytes-max', option: 'replayBufferedBytesMax', kind: 'int', min: 1, value: 'bytes', help: 'replayed bytes waiting for one member (default 1 MiB)' },
].map((flag) => ({ ...flag, group: RELAY_LIMIT_GROUP }) as FlagSpec & { readonly option: string });
