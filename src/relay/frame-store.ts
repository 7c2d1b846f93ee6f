/**
 * Store-and-forward: what the relay needs from a store of each room's recent frames, so that a device
 * that joins when its peers are gone still catches up. Two implementations: one file per room on disk
 * (`disk-frame-store.ts`) and one stream per room in Redis (`redis/redis-frame-store.ts`).
 *
 * Every stored frame gets a **position**, monotonic per room, so that replays can stream from one (and a
 * device can later resume from where it stopped, issue 15). Replays are pulled a page at a time: a reader
 * that stops pulling holds one page, never the room.
 */
import type { PrometheusWriter } from './prometheus.js';

/** A frame kept by a store, with its place in its room. */
export interface StoredFrame {
  /**
   * Larger than the position of every frame stored before it in the same room, across relay restarts and
   * across the room being evicted or expired and written again (a new room starts at its creation time in
   * ms x 1024, a safe integer until the year 2248).
   */
  readonly position: number;
  /** The frame, as the member sent it (a view into the page it was read with: no copy). */
  readonly frame: Uint8Array;
}

/** Which frames of a room a replay streams. */
export interface ReplayRange {
  /** Only frames with a larger position (a device's cursor). Default: from the oldest kept. */
  readonly afterPosition?: number;
  /** At most this many frames: the newest of the range. Default: all. */
  readonly framesMax?: number;
}

/** Bytes a replay page holds at most (a page always holds at least one frame, so a larger frame is a page of its own). */
export const REPLAY_PAGE_BYTES_MAX = 256 * 1024;

/** A room store, as the relay uses it. */
export interface FrameStore {
  /** Keeps a frame of the room. Resolves with its position, or `undefined` when it could not (never rejects). */
  append(roomId: string, frame: Uint8Array): Promise<number | undefined>;
  /**
   * Streams the room's kept frames of `range`, oldest first, in pages of at most
   * {@link REPLAY_PAGE_BYTES_MAX} (or one frame). Each page is read when it is pulled; ending the
   * iteration early (`break`, `return()`) releases what the replay held. Frames stored after the replay
   * started are not included (the relay delivers those live). Never rejects: a failing store ends the
   * stream early and counts the failure.
   */
  replay(roomId: string, range?: ReplayRange): AsyncIterable<readonly StoredFrame[]>;
  /** Adds the store's own families (sizes, evictions) to the relay's `/metrics`. */
  writeMetrics?(writer: PrometheusWriter): void;
  /** Flushes and releases resources. */
  close?(): Promise<void>;
}

/** Collects a whole replay into an array: tests and tools only (a relay streams, see {@link FrameStore.replay}). */
export async function collectReplay(store: FrameStore, roomId: string, range?: ReplayRange): Promise<StoredFrame[]> {
  const out: StoredFrame[] = [];
  for await (const page of store.replay(roomId, range)) out.push(...page);
  return out;
}

/** The first position of a room created at `nowMs` (see {@link StoredFrame.position}). */
export function firstPositionAt(nowMs: number): number {
  return Math.max(1, Math.floor(nowMs)) * 1024;
}
