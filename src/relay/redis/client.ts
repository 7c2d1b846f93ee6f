/**
 * The slice of an ioredis client the relay uses, and the loader of ioredis itself.
 *
 * ioredis is an optional peer dependency: only `--redis` (the Redis fan-out) needs it,
 * so a browser app or a single-process relay installs none of it. The public types
 * below are our own, structural, so `tidelog/node`'s declarations never name
 * ioredis: they type-check with `skipLibCheck: false` whether it is installed or not,
 * and an ioredis `Redis` instance is assignable to {@link RedisClient}.
 */
import { MissingPeerDependencyError } from '../../core/errors.js';

/** A pipeline of queued commands (only the ones the frame store queues). */
export interface RedisPipeline {
  /** Queues `PEXPIRE key ms`. */
  pexpire(key: string, milliseconds: number): unknown;
  /** Queues `XTRIM key MINID ~ threshold`. */
  xtrim(key: string, minid: 'MINID', approximately: '~', threshold: string): unknown;
  /** Sends the queued commands. */
  exec(): Promise<unknown>;
}

/** The commands and events of one Redis connection that the relay uses (an ioredis `Redis` is one). */
export interface RedisClient {
  /** `'ready'` once connected and usable; ioredis' connection state otherwise. */
  readonly status: string;
  /** Adds an event listener (`ready`, `close`, `end`, `error`, `messageBuffer`). */
  on(event: string, listener: (...args: never[]) => void): unknown;
  /** Adds a one-shot event listener. */
  once(event: string, listener: (...args: never[]) => void): unknown;
  /** `SUBSCRIBE channel...`. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** `UNSUBSCRIBE channel...`. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** `PUBLISH channel message`. */
  publish(channel: string, message: Buffer): Promise<unknown>;
  /** `XADD key ...args`; resolves with the new entry's id. */
  xadd(key: string, ...args: (string | number | Buffer)[]): Promise<string | null>;
  /** `XREVRANGE key end start COUNT n`, with binary fields. */
  xrevrangeBuffer(key: string, end: string, start: string, countToken: 'COUNT', count: number): Promise<[id: Buffer, fields: Buffer[]][]>;
  /** `XRANGE key start end COUNT n`, with binary fields. */
  xrangeBuffer(key: string, start: string, end: string, countToken: 'COUNT', count: number): Promise<[id: Buffer, fields: Buffer[]][]>;
  /** Defines a Lua script as a command method of this client (`EVALSHA`, falling back to `EVAL`). */
  defineCommand(name: string, definition: { readonly numberOfKeys: number; readonly lua: string }): void;
  /** Starts a pipeline. */
  pipeline(): RedisPipeline;
  /** `QUIT`: closes after pending replies. */
  quit(): Promise<unknown>;
  /** Closes at once (also stops reconnecting). */
  disconnect(): void;
}

/** The ioredis `Redis` constructor, as far as the relay calls it. */
export type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisClient;

/** What to run when ioredis is missing. */
export const IOREDIS_INSTALL = 'npm install ioredis@^6';

/**
 * Imports ioredis. A missing package is a {@link MissingPeerDependencyError} that names
 * what to install; any other failure (a broken install) is rethrown as it is.
 * `specifier` exists for tests.
 */
export async function loadRedisConstructor(specifier = 'ioredis'): Promise<RedisConstructor> {
  let module: { Redis?: unknown; default?: unknown };
  try {
    module = (await import(specifier)) as typeof module;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingPeerDependencyError(`the Redis fan-out (--redis) needs the optional peer dependency '${specifier}', which is not installed: ${IOREDIS_INSTALL}`, {
      specifier,
      install: IOREDIS_INSTALL,
      cause: (error as Error).message,
    });
  }
  const Redis = module.Redis ?? module.default;
  if (typeof Redis !== 'function') throw new MissingPeerDependencyError(`'${specifier}' exports no Redis class (ioredis 5 or 6 expected): ${IOREDIS_INSTALL}`, { specifier });
  return Redis as RedisConstructor;
}
