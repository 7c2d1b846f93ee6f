/**
 * Store-and-forward in Redis: each room's recent ciphertext frames in a capped
 * stream, so any relay of the deployment can replay them to a device that comes
 * back online, whichever relay the frames first arrived at.
 *
 * Positions: each frame's stream id is `<position>-0`, assigned by a script on Redis (one
 * more than the stream's last id; a new stream starts at Redis' time in ms x 1024), so
 * positions are monotonic per room whichever relay appends, and a replay from a position
 * is one `XRANGE`. Streams written before positions existed have time-based ids; their
 * entries read with the id's milliseconds as position (entries of the same millisecond
 * share one) and new entries continue above them.
 *
 * Bounds: `XADD ... MAXLEN ~ framesPerRoomMax` caps the count; the append script also
 * deletes the oldest entries stored (on Redis' clock) longer ago than the age cap, up to
 * 16 per append, a key expiry drops idle rooms, and reads filter by age. Each frame is at
 * most the relay's frame size. Across rooms, Redis' own `maxmemory` with an eviction
 * policy bounds the total (docs/deployment.md). Redis never sees anything but ciphertext.
 */
import { type FrameStore, firstPositionAt, REPLAY_PAGE_BYTES_MAX, type ReplayRange, type StoredFrame } from '../frame-store.js';
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

/** The append, atomic on Redis: next position, XADD, age trim, expiry. Returns the position as a string. */
const APPEND_SCRIPT = `
local key = KEYS[1]
local framesMax = ARGV[1]
local ageMs = tonumber(ARGV[2])
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local position = nil
if redis.call('EXISTS', key) == 1 then
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then position = tonumber(string.match(info[i + 1], '^(%d+)')) + 1 end
  end
end
if position == nil then position = nowMs * ${firstPositionAt(1)} end
redis.call('XADD', key, 'MAXLEN', '~', framesMax, string.format('%.0f-0', position), 't', nowMs, 'f', ARGV[3])
local expired = {}
for _, entry in ipairs(redis.call('XRANGE', key, '-', '+', 'COUNT', 16)) do
  local at = nil
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 't' then at = tonumber(fields[i + 1]) end
  end
  if at == nil then at = tonumber(string.match(entry[1], '^(%d+)')) end
  if at >= nowMs - ageMs then break end
  table.insert(expired, entry[1])
end
if #expired > 0 then redis.call('XDEL', key, unpack(expired)) end
redis.call('PEXPIRE', key, ageMs)
return string.format('%.0f', position)
`;

type ScriptedRedis = RedisClient & { tidelogAppendFrame?(key: string, framesMax: number, ageMsMax: number, frame: Buffer): Promise<string> };

/** Recent frames of every room, kept in Redis streams. */
export class RedisFrameStore implements FrameStore {
  readonly #client: ScriptedRedis;
  readonly #status: RedisStatus;
  readonly #prefix: string;
  readonly #framesMax: number;
  readonly #ageMsMax: number;
  readonly #nowMs: () => number;

  constructor(options: RedisFrameStoreOptions) {
    const client = options.client as ScriptedRedis;
    if (typeof client.tidelogAppendFrame !== 'function') client.defineCommand('tidelogAppendFrame', { numberOfKeys: 1, lua: APPEND_SCRIPT });
    this.#client = client;
    this.#status = options.status;
    this.#prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}frames:`;
    this.#framesMax = options.framesPerRoomMax ?? DEFAULT_STORED_FRAMES_PER_ROOM_MAX;
    this.#ageMsMax = options.ageMsMax ?? DEFAULT_STORED_FRAME_AGE_MS_MAX;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /**
   * Appends a frame to the room's stream; resolves with its position. Resolves `undefined` (and
   * counts a store failure) when Redis is unreachable: the frame then lives only in the clients,
   * which resend it through anti-entropy. Never rejects.
   */
  async append(roomId: string, frame: Uint8Array): Promise<number | undefined> {
    if (!this.#status.commandUp) {
      this.#status.counters.storeFailures += 1;
      return undefined;
    }
    try {
      const position = await (this.#client.tidelogAppendFrame as NonNullable<ScriptedRedis['tidelogAppendFrame']>).call(this.#client, this.#key(roomId), this.#framesMax, this.#ageMsMax, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      this.#status.counters.framesStored += 1;
      return Number(position);
    } catch {
      this.#status.counters.storeFailures += 1;
      return undefined;
    }
  }

  /**
   * Streams the room's stored frames of `range` younger than the age cap, oldest first, a page
   * (`XRANGE ... COUNT n`, n sized to about 256 KiB) per pull; frames appended after the replay
   * started are left to the live fan-out. Ends early (and counts a store failure) when Redis fails.
   * Never rejects.
   */
  async *replay(roomId: string, range: ReplayRange = {}): AsyncGenerator<StoredFrame[]> {
    if (!this.#status.commandUp) {
      this.#status.counters.storeFailures += 1;
      return;
    }
    const key = this.#key(roomId);
    try {
      const last = await this.#client.xrevrangeBuffer(key, '+', '-', 'COUNT', 1);
      const lastId = last[0] === undefined ? undefined : String(last[0][0]);
      if (lastId === undefined) return;
      let from = range.afterPosition === undefined ? 0 : range.afterPosition + 1;
      if (range.framesMax !== undefined) from = Math.max(from, positionOf(lastId) - range.framesMax + 1);
      if (from > positionOf(lastId)) return;
      let start = from <= 0 ? '-' : `${from}-0`;
      let count = 16;
      for (;;) {
        const entries: [Buffer, Buffer[]][] = await this.#client.xrangeBuffer(key, start, lastId, 'COUNT', count);
        if (entries.length === 0) return;
        const oldestMs = this.#nowMs() - this.#ageMsMax;
        const page: StoredFrame[] = [];
        let bytes = 0;
        for (const [id, fields] of entries) {
          const entry = readEntry(String(id), fields);
          bytes += entry.frame.length;
          if (entry.storedAtMs >= oldestMs) page.push({ position: entry.position, frame: entry.frame });
        }
        if (page.length > 0) yield page;
        const lastRead: string = String((entries.at(-1) as [Buffer, Buffer[]])[0]);
        if (lastRead === lastId || entries.length < count) return;
        start = `(${lastRead}`;
        count = Math.max(1, Math.min(1_024, Math.floor(REPLAY_PAGE_BYTES_MAX / Math.max(1, bytes / entries.length))));
      }
    } catch {
      this.#status.counters.storeFailures += 1;
    }
  }

  #key(roomId: string): string {
    return `${this.#prefix}${roomId}`;
  }
}

function positionOf(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** One stream entry: fields `t` (stored at, Redis ms; absent on entries from before positions) and `f` (the frame). */
function readEntry(id: string, fields: Buffer[]): { position: number; storedAtMs: number; frame: Uint8Array } {
  let storedAtMs = positionOf(id);
  let frame: Uint8Array = new Uint8Array(0);
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = String(fields[i]);
    const value = fields[i + 1] as Buffer;
    if (name === 't') storedAtMs = Number(String(value));
    else if (name === 'f') frame = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return { position: positionOf(id), storedAtMs, frame };
}
