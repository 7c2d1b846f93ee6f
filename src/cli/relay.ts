/** `tidelog relay`: runs the relay until SIGTERM or SIGINT, logging JSON lines to stderr. */
import { appendFileSync } from 'node:fs';
import { DiskFrameStore } from '../relay/disk-frame-store.js';
import { jsonLogger, type LogLevel } from '../relay/log.js';
import { RelayServer, type RelayServerOptions } from '../relay/server.js';
import type { ParsedArgs } from './args.js';
import { type Io, numberFlag, textFlag } from './command.js';
import { RELAY_LIMIT_FLAGS } from './relay-flags.js';
import { redisRelayOptions } from './relay-redis.js';

/** Builds the relay options from checked arguments. @throws InvalidArgumentError, MissingPeerDependencyError */
export async function relayOptionsFromArgs(args: ParsedArgs): Promise<RelayServerOptions> {
  const limits: Record<string, number> = {};
  for (const flag of RELAY_LIMIT_FLAGS) {
    const value = numberFlag(args, flag.name, undefined);
    if (value !== undefined) limits[flag.option] = value;
  }
  const storeDir = textFlag(args, 'store');
  const storeBytes = numberFlag(args, 'store-bytes-max', undefined);
  const storeTotalBytes = numberFlag(args, 'store-total-bytes-max', undefined);
  const storeAge = numberFlag(args, 'store-age-ms-max', undefined);
  const capture = textFlag(args, 'capture');
  const log = jsonLogger(undefined, (textFlag(args, 'log-level') ?? 'info') as LogLevel);
  const redis = await redisRelayOptions(args, log);
  return {
    host: textFlag(args, 'host') ?? '127.0.0.1',
    port: numberFlag(args, 'port', 8080),
    log,
    // Synchronous on purpose: the capture must survive the relay being killed right after.
    ...(capture === undefined ? {} : { tap: (_room: string, frame: Uint8Array) => appendFileSync(capture, frame) }),
    ...limits,
    ...(storeDir === undefined
      ? {}
      : {
          store: new DiskFrameStore({
            dir: storeDir,
            ...(storeBytes === undefined ? {} : { bytesPerRoomMax: storeBytes }),
            ...(storeTotalBytes === undefined ? {} : { totalBytesMax: storeTotalBytes }),
            ...(storeAge === undefined ? {} : { ageMsMax: storeAge }),
          }),
        }),
    ...redis,
  };
}

/** Runs `tidelog relay` until SIGTERM or SIGINT. */
export async function runRelayCommand(args: ParsedArgs, io: Io): Promise<number> {
  const options = await relayOptionsFromArgs(args);
  let relay: RelayServer;
  try {
    relay = await RelayServer.start(options);
  } catch (error) {
    await options.bus?.close();
    const code = (error as NodeJS.ErrnoException).code;
    // The usual reasons, in one line instead of Node's stack.
    if (code === 'EADDRINUSE') throw new Error(`port ${options.port} on ${options.host} is already in use (--port 0 picks a free one)`);
    if (code === 'EACCES') throw new Error(`no permission to listen on port ${options.port} (ports below 1024 need privileges)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new Error(`cannot listen on host '${options.host}': no such local address`);
    throw error;
  }
  const store = options.store;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  if (store instanceof DiskFrameStore) {
    // Rooms nobody wrote to within the age bound are deleted at start and every hour.
    const sweep = () => void store.sweep().catch(() => undefined);
    sweep();
    sweeper = setInterval(sweep, 3_600_000);
    sweeper.unref();
  }
  io.out(`tidelog relay listening on ${relay.url}/rooms/<roomId> (metrics: ${relay.url.replace(/^ws/, 'http')}/metrics)`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  if (sweeper !== undefined) clearInterval(sweeper);
  await relay.close();
  return 0;
}
