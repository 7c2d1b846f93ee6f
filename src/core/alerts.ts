/**
 * Alerts: what a replica tells its application when a peer (or its own clock) lies to it. Each alert carries the
 * typed error that was raised, so an application can switch on `type` and show, log or count it; sync sessions
 * also count them in their status. Nothing here changes data: by the time an alert is told, the refusal (or the
 * move to a fresh id) has happened.
 */
import type { ClockDriftError, ForgedOwnOpError, OpIdConflictError, SeqGapError } from './errors.js';

/** Why a replica moved to a fresh id while running. */
export type RotationReason =
  /** A peer sent, or claims to hold, an op under this replica's id that it never wrote (forgery, or a restore of this device). */
  | 'forged-own-op'
  /** A peer holds an op under this replica's id with other content than this replica wrote (equivocation). */
  | 'own-id-conflict'
  /** The application asked for it (`Replica.rotateIdentity`). */
  | 'requested';

/** One alert of {@link Replica.subscribeAlerts}. */
export type ReplicaAlert =
  | {
      /** Ops (or a local write) refused for a timestamp beyond `maxDriftMs`: the batch was refused whole. */
      readonly type: 'clock-drift';
      readonly origin: 'local' | 'remote';
      readonly error: ClockDriftError;
    }
  | {
      /**
       * This replica writes under a fresh id from now on: its old id was forged or reused by someone else, so
       * writes under it could collide with ops peers already hold (and be refused everywhere). Its winning writes
       * at or after the first suspect seq are written again under the new id (`reissued`), so they reach peers.
       */
      readonly type: 'identity-rotated';
      readonly from: string;
      readonly to: string;
      readonly reason: RotationReason;
      readonly reissued: number;
      readonly error?: ForgedOwnOpError | OpIdConflictError;
    }
  | {
      /** An op id (replica, seq) seen with two different contents (equivocation, or a device restored from a stale backup). */
      readonly type: 'op-id-conflict';
      readonly error: OpIdConflictError;
    }
  | {
      /** Ops too far past a gap in their writer's sequence: not stored (a later sync brings them in order). */
      readonly type: 'seq-gap';
      readonly error: SeqGapError;
    };

/** Calls every listener with `alert`; a listener that throws is reported asynchronously and does not stop the others. */
export function tellAlert(listeners: ReadonlySet<(alert: ReplicaAlert) => void>, alert: ReplicaAlert): void {
  for (const listener of listeners) {
    try {
      listener(alert);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
