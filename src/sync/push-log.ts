/**
 * The push log: which of our own ops went to the whole room lately, and when. Pushes go to everyone, so a hello
 * that lags only behind them (a tick, a hello back) would otherwise be answered with a window of ops the peer is
 * about to receive anyway; the log lets an answer leave out the pushes still on their way.
 */
import type { HelloMessage } from './messages.js';
import type { PeerState } from './peer-table.js';

/** Most pushes remembered (one per local commit within `resendAfterMs`). */
export const PUSH_LOG_MAX = 4_096;

/** One push of local ops to the room: its first and last own seq, and when it went out. */
interface PushRecord {
  readonly fromSeq: number;
  readonly seq: number;
  readonly atMs: number;
}

/** Recent pushes of one replica's own ops, oldest first. */
export class PushLog {
  /** Highest own seq pushed (broadcast on commit). */
  top = 0;
  /** Pushes within `resendAfterMs`, plus the last one before them; at most {@link PUSH_LOG_MAX}. */
  private readonly records: PushRecord[] = [];

  constructor(
    private readonly replicaId: string,
    private readonly resendAfterMs: number,
  ) {}

  /** Records a push of own seqs `fromSeq..seq` at `atMs` (ignored unless it goes past every earlier push). */
  record(fromSeq: number, seq: number, atMs: number): void {
    if (seq <= this.top) return;
    this.top = seq;
    this.records.push({ fromSeq, seq, atMs });
    // Dropping the oldest entry only makes more pushes count as old, so more is resent: safe.
    if (this.records.length > PUSH_LOG_MAX) this.records.shift();
  }

  /**
   * Our own pushes that are presumably still on their way to `peer`, as an inclusive seq range, or undefined.
   * They count as on their way while they are recent (pushed within `resendAfterMs`) or the peer is still taking
   * them in (its entry for us moved since its previous hello), and only above everything it has from us: a hole
   * it reports (ops held past it) is answered as before. A lost last push is resent at the first hello that finds
   * both false, so it costs at most one more hello round (0.2x the ops per reader per tick in the relay bench).
   */
  onTheirWay(peer: PeerState | undefined, theirs: HelloMessage['versionVector'], held: HelloMessage['heldPastGaps'], nowMs: number): readonly [number, number] | undefined {
    if (peer === undefined || this.top === 0) return undefined;
    const entry = theirs[this.replicaId] ?? 0;
    const advanced = entry > peer.pushSeen;
    if (advanced) peer.pushSeen = entry;
    const ranges = held?.[this.replicaId];
    const heldTop = ranges === undefined || ranges.length === 0 ? 0 : (ranges[ranges.length - 1] as readonly [number, number])[1];
    // A peer that is not taking our stream in gets the pushes older than resendAfterMs again: they were lost.
    const from = Math.max(peer.pushFloor, entry, heldTop, advanced ? 0 : this.seqPushedBefore(nowMs - this.resendAfterMs)) + 1;
    return from <= this.top ? [from, this.top] : undefined;
  }

  /** The highest own seq pushed at or before `atMs`: ops up to it are no longer recent pushes. */
  private seqPushedBefore(atMs: number): number {
    const log = this.records;
    while (log.length > 1 && (log[1] as PushRecord).atMs <= atMs) log.shift();
    const first = log[0];
    if (first === undefined) return this.top;
    // When even the oldest entry kept is recent, what came before it (older, or dropped from the log) is old.
    return first.atMs <= atMs ? first.seq : first.fromSeq - 1;
  }
}
