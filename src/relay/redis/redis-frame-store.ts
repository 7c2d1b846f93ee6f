/**
 * Store-and-forward in Redis: each room's recent ciphertext frames in a capped
 * stream, so any relay of the deployment can replay them to a device that comes
 * back online, whichever relay the frames first arrived at.
 *
 * Bounds: `XADD ... MAXLEN ~ framesPerRoomMax` caps the count; `XTRIM ... MINID ~`
 * (on Redis' clock), a key expiry and a filter on read cap the age (stream ids start
 * with a millisecond time); each frame is at most the relay's frame size. Redis never sees anything but ciphertext.
 */
import type { RedisClient } from './client.js';
import { DEFAULT_KEY_PREFIX } from './redis-bus.js';
import type { RedisStatus } from './status.js';

/** Options for {@link RedisFrameStore}. */
export interface RedisFrameStoreOptions {
  /** The command connection. */
  readonly client: RedisClient;
  /** Shared counters and connection state. */
  readonly status: RedisStatus;
  /** Stream keys are `${keyPrefix}frames:${roomId}`. */
  readonly keyPrefix?: string;
  /** Frames kept per room (approximate: Redis trims whole nodes). */
  readonly framesPerRoomMax?: number;
  /** Oldest frame kept, in ms. */
  readonly ageMsMax?: number;
  /** The wall clock in ms (tests move it). */
  readonly nowMs?: () => number;
}

/** Default per-room frame cap. */
export const DEFAULT_STORED_FRAMES_PER_ROOM_MAX = 10_000;
/** Default age cap: seven days. */
export const DEFAULT_STORED_FRAME_AGE_MS_MAX = 7 * 24 * 3_600_000;

/** Recent frames of every room, kept in Redis streams. */
export class RedisFrameStore {
  readonly #client: RedisClient;
  readonly #status: RedisStatus;
  readonly #prefix: string;
  readonly #framesMax: number;
  readonly #ageMsMax: number;
  readonly #nowMs: () => number;

  constructor(options: RedisFrameStoreOptions) {
    this.#client = options.client;
    this.#status = options.status;
    this.#prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}frames:`;
    this.#framesMax = options.framesPerRoomMax ?? DEFAULT_STORED_FRAMES_PER_ROOM_MAX;
    this.#ageMsMax = options.ageMsMax ?? DEFAULT_STORED_FRAME_AGE_MS_MAX;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /**
   * Appends a frame to the room's stream. Resolves `false` (and counts a store failure)
   * when Redis is unreachable: the frame then lives only in the clients, which resend
   * it through anti-entropy. Never rejects.
   */
  async append(roomId: string, frame: Uint8Array): Promise<boolean> {
    if (!this.#status.commandUp) {
      this.#status.counters.storeFailures += 1;
      return false;
    }
    const key = this.#key(roomId);
    try {
      const id = await this.#client.xadd(key, 'MAXLEN', '~', this.#framesMax, '*', 'f', Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      this.#status.counters.framesStored += 1;
      // Trim by age on Redis' clock (the id it just assigned), so a relay whose clock runs
      // ahead can't trim fresh frames. Best effort: the TTL and the read filter also bound age.
      const idMs = Number.parseInt(String(id).split('-')[0] ?? '', 10);
      const pipeline = this.#client.pipeline();
      pipeline.pexpire(key, this.#ageMsMax);
      if (Number.isFinite(idMs)) pipeline.xtrim(key, 'MINID', '~', `${Math.max(0, idMs - this.#ageMsMax)}-0`);
      await pipeline.exec();
      return true;
    } catch {
      this.#status.counters.storeFailures += 1;
      return false;
    }
  }

  /**
   * The room's stored frames younger than the age cap, oldest first, at most `countMax`.
   * Resolves `[]` (and counts a store failure) when Redis is unreachable. Never rejects.
   */
  async recent(roomId: string, countMax = this.#framesMax): Promise<Uint8Array[]> {
    if (!this.#status.commandUp) {
      this.#status.counters.storeFailures += 1;
      return [];
    }
    try {
      // Newest first, so COUNT keeps the most recent frames; reversed below to oldest first.
      const entries = await this.#client.xrevrangeBuffer(this.#key(roomId), '+', this.#minId(), 'COUNT', countMax);
      const frames: Uint8Array[] = [];
      for (const [, fields] of entries.reverse()) {
        // Fields alternate name, value; we write exactly one ('f').
        const value = fields[1];
        if (value !== undefined) frames.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      }
      return frames;
    } catch {
      this.#status.counters.storeFailures += 1;
      return [];
    }
  }

  #key(roomId: string): string {
    return `${this.#prefix}${roomId}`;
  }

  #minId(): string {
    return `${Math.max(0, Math.floor(this.#nowMs() - this.#ageMsMax))}-0`;
  }
}
