/**
 * History and time travel over a replica's log: every op held on a key, and the whole visible state as of a
 * version vector or an HLC timestamp. Read-only; the compaction summary stands in for the ops folded into it.
 */
import type { ReplicaData } from './commit-pipeline.js';
import { HistoryTruncatedError, InvalidArgumentError } from './errors.js';
import { compareHlc, type HlcTimestamp } from './hlc.js';
import type { JsonValue } from './json.js';
import { compareOps, type Op } from './op.js';
import { compareKeys, winnersOf } from './state.js';
import { validateVersionVector, type VersionVector, vvCovers, vvDominates } from './version-vector.js';

/** A point in time for `Replica.stateAt`: a version vector or an HLC timestamp. */
export type StatePoint = { readonly versionVector: VersionVector } | { readonly timestamp: HlcTimestamp };

/** Every op on `key` still held, in merge order (the oldest may be the compacted winner). */
export function historyOf(data: ReplicaData, key: string): Op[] {
  const ops: Op[] = [];
  data.log.forEach((op) => {
    if (op.key === key) ops.push(op);
  });
  const compacted = data.summary.winner(key);
  if (compacted !== undefined) ops.push(compacted);
  return ops.sort(compareOps);
}

/**
 * The whole visible state as of `point`, sorted by key.
 * @throws HistoryTruncatedError when the point is older than the retained history.
 */
export function stateAt(data: ReplicaData, point: StatePoint): Map<string, JsonValue> {
  const include = inclusionAt(data, point);
  const winners = data.summary.winnerMap();
  const selected: Op[] = [];
  data.log.forEach((op) => {
    if (include(op)) selected.push(op);
  });
  winnersOf(selected, winners);
  const out = new Map<string, JsonValue>();
  for (const key of [...winners.keys()].sort(compareKeys)) {
    const op = winners.get(key) as Op;
    if (op.type === 'set') out.set(key, op.value as JsonValue);
  }
  return out;
}

/** Which held ops a point includes. */
function inclusionAt(data: ReplicaData, point: StatePoint): (op: Op) => boolean {
  if (typeof point !== 'object' || point === null) throw new InvalidArgumentError('stateAt takes { versionVector } or { timestamp }');
  if ('versionVector' in point) {
    const vv = validateVersionVector(point.versionVector);
    if (!vvDominates(vv, data.log.base())) {
      throw new HistoryTruncatedError('history before the compaction horizon was compacted away', { horizon: data.log.base() });
    }
    return (op) => vvCovers(vv, op.replica, op.seq);
  }
  const at = validateTimestamp((point as { timestamp?: unknown }).timestamp);
  const earliest = data.summary.clock;
  if (compareHlc(at, earliest) < 0) {
    throw new HistoryTruncatedError(`history before ${earliest.wall}.${earliest.logical} was compacted away`, { earliest });
  }
  return (op) => compareHlc(op, at) <= 0;
}

function validateTimestamp(input: unknown): HlcTimestamp {
  const { wall, logical } = (typeof input === 'object' && input !== null ? input : {}) as Partial<Record<'wall' | 'logical', unknown>>;
  if (typeof wall !== 'number' || typeof logical !== 'number' || !Number.isFinite(wall) || !Number.isFinite(logical)) {
    throw new InvalidArgumentError('timestamp must be { wall, logical } with finite numbers');
  }
  return { wall, logical };
}
