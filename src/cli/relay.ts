/** `tidelog relay`: runs the relay until SIGTERM or SIGINT, logging JSON lines to stderr. */
import { appendFileSync } from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import { DiskFrameStore } from '../relay/disk-frame-store.js';
import { jsonLogger, type LogLevel } from '../relay/log.js';
import { RelayServer, type RelayServerOptions } from '../relay/server.js';
import { type Command, parseArgs } from './command.js';
import { REDIS_RELAY_USAGE, redisRelayOptions } from './relay-redis.js';

const NUMERIC_OPTIONS: Record<string, keyof RelayServerOptions> = {
  'frame-bytes-max': 'frameBytesMax',
  'frames-per-second-max': 'framesPerSecondMax',
  'bytes-per-second-max': 'bytesPerSecondMax',
  'connections-per-room-max': 'connectionsPerRoomMax',
  'connections-max': 'connectionsMax',
  'heartbeat-ms': 'heartbeatMs',
  'buffered-bytes-max': 'bufferedBytesMax',
};

function numberOption(options: Map<string, string | true>, name: string): number | undefined {
  const raw = options.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === true || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError(`--${name} takes a non-negative number`);
  return value;
}

/** Builds the relay options from the command line. @throws InvalidArgumentError */
export async function relayOptionsFromArgs(args: readonly string[]): Promise<RelayServerOptions> {
  const { options } = parseArgs(args);
  const level = options.get('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(String(level))) throw new InvalidArgumentError('--log-level is debug, info, warn or error');
  const limits: Record<string, number> = {};
  for (const [flag, key] of Object.entries(NUMERIC_OPTIONS)) {
    const value = numberOption(options, flag);
    if (value !== undefined) limits[key] = value;
  }
  const storeDir = options.get('store');
  if (storeDir === true) throw new InvalidArgumentError('--store takes a directory');
  const storeBytes = numberOption(options, 'store-bytes-max');
  const storeAge = numberOption(options, 'store-age-ms-max');
  const host = options.get('host');
  const capture = options.get('capture');
  if (capture === true) throw new InvalidArgumentError('--capture takes a file');
  const log = jsonLogger(undefined, level as LogLevel);
  const redis = await redisRelayOptions(options, log);
  return {
    host: typeof host === 'string' ? host : '127.0.0.1',
    port: numberOption(options, 'port') ?? 8080,
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
            ...(storeAge === undefined ? {} : { ageMsMax: storeAge }),
          }),
        }),
    ...redis,
  };
}

/** The `relay` subcommand. */
export const relayCommand: Command = {
  name: 'relay',
  usage: `relay [--port 8080] [--host 127.0.0.1] [--store <dir>] [--capture <file>] [--log-level info] ${REDIS_RELAY_USAGE}`,
  summary: 'Run the end-to-end-encrypted sync relay (forwards ciphertext only)',
  async run(args) {
    const options = await relayOptionsFromArgs(args);
    const relay = await RelayServer.start(options);
    const store = options.store;
    let sweeper: ReturnType<typeof setInterval> | undefined;
    if (store instanceof DiskFrameStore) {
      // Rooms nobody wrote to within the age bound are deleted at start and every hour.
      const sweep = () => void store.sweep().catch(() => undefined);
      sweep();
      sweeper = setInterval(sweep, 3_600_000);
      sweeper.unref();
    }
    process.stdout.write(`tidelog relay listening on ${relay.url}/rooms/<roomId>\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    if (sweeper !== undefined) clearInterval(sweeper);
    await relay.close();
    return 0;
  },
};
