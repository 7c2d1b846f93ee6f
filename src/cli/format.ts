/** How the CLI prints times and sizes. */
import type { HlcTimestamp } from '../core/hlc.js';

/** An HLC timestamp as people read it: the wall clock in UTC, then the logical counter when it is not 0. */
export function hlcText(time: HlcTimestamp): string {
  const wall = Number.isFinite(time.wall) && Math.abs(time.wall) <= 8.64e15 ? new Date(time.wall).toISOString() : `${time.wall} ms`;
  return time.logical === 0 ? wall : `${wall} +${time.logical}`;
}
