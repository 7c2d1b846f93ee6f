/**
 * Fairness: the budgets a frame must fit before the relay forwards it. Each member has its own (frames
 * and bytes per second); each room has one shared by its members, counted in deliveries (a frame to nine
 * receivers costs nine), because a room's cost to the relay is its fan-out. A frame that does not fit is
 * not dropped: the relay stops reading that member's socket until the budget refills, so TCP pushes back
 * on the sender, and its frames go on in order afterwards. A room that floods thus gets its budget of the
 * relay's time and no more, and every other room keeps its latency.
 *
 * A room also gets at most {@link ROOM_DELIVERIES_PER_TURN_MAX} deliveries per turn of the event loop,
 * whatever its bucket holds: one turn reads every ready socket, so without it ten flooders' socket reads
 * made one turn of ~50 ms of work (seconds of wall time on a loaded machine) that every other room waited
 * behind.
 */
import type { ThrottleScope } from './metrics.js';
import { TokenBucket } from './token-bucket.js';

/** A member's own budget. */
export interface MemberBudget {
  readonly frames: TokenBucket;
  readonly bytes: TokenBucket;
}

/** Deliveries a room may make in one turn of the event loop (about 5-10 ms of this project's 2-core machine). */
export const ROOM_DELIVERIES_PER_TURN_MAX = 1_000;

/** A room's budget, shared by its members. */
export interface RoomBudget {
  readonly deliveries: TokenBucket;
  readonly bytes: TokenBucket;
  /** Deliveries made in the current turn; reset by the next `setImmediate`. */
  turnDeliveries: number;
}

/** The rates behind the budgets, per second, and the burst in seconds of them. */
export interface BudgetRates {
  readonly framesPerSecondMax: number;
  readonly bytesPerSecondMax: number;
  readonly roomDeliveriesPerSecondMax: number;
  readonly roomBytesPerSecondMax: number;
  readonly burstSeconds: number;
  readonly roomBurstSeconds: number;
}

/** A member's budget, full. */
export function memberBudget(rates: BudgetRates, nowMs: () => number): MemberBudget {
  return {
    frames: new TokenBucket(rates.framesPerSecondMax, rates.framesPerSecondMax * rates.burstSeconds, nowMs),
    bytes: new TokenBucket(rates.bytesPerSecondMax, rates.bytesPerSecondMax * rates.burstSeconds, nowMs),
  };
}

/** A room's budget, full. */
export function roomBudget(rates: BudgetRates, nowMs: () => number): RoomBudget {
  return {
    deliveries: new TokenBucket(rates.roomDeliveriesPerSecondMax, rates.roomDeliveriesPerSecondMax * rates.roomBurstSeconds, nowMs),
    bytes: new TokenBucket(rates.roomBytesPerSecondMax, rates.roomBytesPerSecondMax * rates.roomBurstSeconds, nowMs),
    turnDeliveries: 0,
  };
}

/** Why a frame must wait, and how long its budget needs to refill. */
export interface Refusal {
  readonly scope: ThrottleScope;
  readonly waitMs: number;
}

/**
 * Charges a frame of `frameBytes` to `receivers` to both budgets, or to neither: returns undefined when
 * it may go now, else whose budget is short and for how long.
 */
export function charge(member: MemberBudget, room: RoomBudget, frameBytes: number, receivers: number): Refusal | undefined {
  // A frame to nobody still costs one delivery: the relay reads it and may store it.
  const deliveries = Math.max(1, receivers);
  const deliveredBytes = frameBytes * deliveries;
  if (!member.frames.has(1) || !member.bytes.has(frameBytes)) {
    return { scope: 'connection', waitMs: Math.max(member.frames.msUntil(1), member.bytes.msUntil(frameBytes), 1) };
  }
  if (!room.deliveries.has(deliveries) || !room.bytes.has(deliveredBytes)) {
    return { scope: 'room', waitMs: Math.max(room.deliveries.msUntil(deliveries), room.bytes.msUntil(deliveredBytes), 1) };
  }
  // The first frame of a turn always goes (a frame to 256 members is more than a turn's worth on its own).
  if (room.turnDeliveries > 0 && room.turnDeliveries + deliveries > ROOM_DELIVERIES_PER_TURN_MAX) return { scope: 'room', waitMs: 1 };
  if (room.turnDeliveries === 0) {
    setImmediate(() => {
      room.turnDeliveries = 0;
    });
  }
  room.turnDeliveries += deliveries;
  member.frames.take(1);
  member.bytes.take(frameBytes);
  room.deliveries.take(deliveries);
  room.bytes.take(deliveredBytes);
  return undefined;
}
