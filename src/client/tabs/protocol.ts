/**
 * The messages the tabs of one database exchange over their `BroadcastChannel`. One leader (the tab holding
 * the database's Web Lock) commits; followers send it their writes and apply what it committed.
 */
import type { Op } from '../../core/op.js';
import type { VersionVector } from '../../core/version-vector.js';
import type { SyncState } from '../../sync/sync-state.js';

/** Everything one tab tells the others. `from` is the sender's tab id; `to`, where present, the one it is for. */
export type TabMessage =
  /** A follower asks the leader for what it lacks (on start, and whenever a new leader takes over). */
  | { readonly type: 'hello'; readonly from: string; readonly versionVector: VersionVector }
  /** The leader's answer to a hello: who the database is, the ops the follower lacks, and the sync state. */
  | {
      readonly type: 'state';
      readonly from: string;
      readonly to: string;
      readonly dbReplicaId: string;
      readonly ops: readonly Op[];
      readonly horizon: VersionVector;
      readonly completeSummary: boolean;
      readonly sync: SyncState;
    }
  /** A tab took the lock and is the leader now: followers say hello again and resend unacknowledged writes. */
  | { readonly type: 'leader'; readonly from: string; readonly dbReplicaId: string }
  /** Ops the leader committed (its own, merged from peers, or written by followers), in commit order. */
  | { readonly type: 'ops'; readonly from: string; readonly ops: readonly Op[] }
  /** A follower's write: ops it staged under its own writer id, to be committed by the leader, atomically. */
  | { readonly type: 'write'; readonly from: string; readonly writeId: number; readonly ops: readonly Op[] }
  /** The leader's answer to a write: durable (no error), or refused with a typed error's code and message. */
  | { readonly type: 'ack'; readonly from: string; readonly to: string; readonly writeId: number; readonly error?: { readonly code: string; readonly message: string } }
  /** The leader's sync state changed. */
  | { readonly type: 'sync'; readonly from: string; readonly state: SyncState }
  /** A tab is closing. */
  | { readonly type: 'bye'; readonly from: string };

/** The part of `BroadcastChannel` the tabs use (the platform's, or a test double). */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  close(): void;
}

const TYPES = new Set(['hello', 'state', 'leader', 'ops', 'write', 'ack', 'sync', 'bye']);

/** The message in `data`, or undefined when it is not one (another library's traffic on the same channel name). */
export function asTabMessage(data: unknown): TabMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { type, from } = data as { type?: unknown; from?: unknown };
  if (typeof type !== 'string' || !TYPES.has(type) || typeof from !== 'string') return undefined;
  const ops = (data as { ops?: unknown }).ops;
  if ((type === 'ops' || type === 'write' || type === 'state') && !Array.isArray(ops)) return undefined;
  return data as TabMessage;
}
