/**
 * One member's store replay: pulls pages from the store only as fast as the member's socket flushes
 * them. At most `windowBytes` of replayed frames wait in the relay for that socket (plus the one page
 * being sent), whatever the room's size and however slowly, or not at all, the member reads; a replay
 * that stops moving is reported by {@link MemberReplay.stalledForMs} so the relay can cut the member as
 * a slow receiver.
 */
import { WebSocket } from 'ws';
import type { StoredFrame } from './frame-store.js';

/** Counts what a replay sent. */
export interface ReplayCounters {
  /** Called per frame handed to the socket. */
  readonly sent: (frameBytes: number) => void;
}

/** A running replay. */
export class MemberReplay {
  private sentBytes = 0;
  private flushedBytes = 0;
  private lastProgressMs: number;
  private waking: (() => void) | undefined;
  private stopped = false;
  /** True while it waits for the socket to flush before sending more. */
  private waiting = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly windowBytes: number,
    private readonly nowMs: () => number,
  ) {
    this.lastProgressMs = nowMs();
  }

  /** Replayed bytes handed to the socket and not yet flushed to the kernel. */
  get bytesInFlight(): number {
    return this.sentBytes - this.flushedBytes;
  }

  /** How long it has waited for a socket that flushed nothing, in ms (0 when it is not waiting). */
  stalledForMs(): number {
    return this.waiting ? this.nowMs() - this.lastProgressMs : 0;
  }

  /** Stops after the frame being sent (the member left); the store's pages are released. */
  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Sends every frame of `pages`, in order, waiting for the socket whenever the window is full. */
  async run(pages: AsyncIterable<readonly StoredFrame[]>, counters: ReplayCounters): Promise<void> {
    for await (const page of pages) {
      for (const { frame } of page) {
        if (this.stopped || this.ws.readyState !== WebSocket.OPEN) return;
        // A frame larger than the window goes alone once everything before it is flushed.
        while (this.bytesInFlight > 0 && this.bytesInFlight + frame.length > this.windowBytes) {
          await this.flushed();
          if (this.stopped || this.ws.readyState !== WebSocket.OPEN) return;
        }
        this.sentBytes += frame.length;
        this.ws.send(frame, { binary: true }, () => {
          this.flushedBytes += frame.length;
          this.lastProgressMs = this.nowMs();
          this.wake();
        });
        counters.sent(frame.length);
      }
    }
  }

  private flushed(): Promise<void> {
    this.waiting = true;
    return new Promise<void>((resolve) => {
      this.waking = resolve;
    }).finally(() => {
      this.waiting = false;
    });
  }

  private wake(): void {
    const waking = this.waking;
    this.waking = undefined;
    waking?.();
  }
}
