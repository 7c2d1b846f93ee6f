/** The relay's limit flags: each maps one-to-one onto a numeric `RelayServerOptions` field. */
import type { FlagSpec } from './args.js';

const RELAY_LIMIT_GROUP = 'Limits (per connection unless said)';
/** `relay` flags that map one-to-one onto a numeric `RelayServerOptions` field. */
export const RELAY_LIMIT_FLAGS: readonly (FlagSpec & { readonly option: string })[] = [
  { name: 'frame-bytes-max', option: 'frameBytesMax', kind: 'int', min: 1, value: 'bytes', help: 'largest frame; larger ones close the connection (default 1 MiB)' },
  { name: 'frames-per-second-max', option: 'framesPerSecondMax', kind: 'number', min: 0, value: 'N', help: 'sustained frames per second (default 1000)' },
  { name: 'bytes-per-second-max', option: 'bytesPerSecondMax', kind: 'number', min: 0, value: 'bytes', help: 'sustained bytes per second (default 32 MiB)' },
  { name: 'connections-per-room-max', option: 'connectionsPerRoomMax', kind: 'int', min: 1, value: 'N', help: 'members per room (default 256)' },
  { name: 'connections-max', option: 'connectionsMax', kind: 'int', min: 1, value: 'N', help: 'members in total (default 50000)' },
  { name: 'heartbeat-ms', option: 'heartbeatMs', kind: 'int', min: 1, value: 'ms', help: 'ping interval; a member silent for two is dropped (default 15000)' },
  { name: 'buffered-bytes-max', option: 'bufferedBytesMax', kind: 'int', min: 1, value: 'bytes', help: 'bytes queued to one slow receiver before it is dropped (default 16 MiB)' },
].map((flag) => ({ ...flag, group: RELAY_LIMIT_GROUP }) as FlagSpec & { readonly option: string });
