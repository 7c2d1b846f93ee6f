/**
 * Every TCP socket the relay accepts, counted against one bound, whatever it turns out to be: a member,
 * a socket still to upgrade, an HTTP request (`/healthz`, `/metrics`). A socket that has not become a
 * member within `upgradeTimeoutMs` of its accept (or of its last answered request) is closed, checked
 * by the relay's own timer every `upgradeTimeoutMs / 8` (at most 250 ms), not by Node's header timeout,
 * which is only checked every 30 s.
 *
 * When every slot is taken, a new socket takes the slot of the oldest socket still to upgrade that has
 * sent nothing yet (or, if every one has sent something, of the oldest): silent sockets cannot keep
 * honest clients out, because an honest client sends its request at once and upgrades within
 * milliseconds, while a stranger's silent socket is always older and always first in line. Members may
 * use all slots but a reserve, so a relay full of members still answers `/healthz` and still lets joins
 * reach the "server full" answer.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/** The soft limit on open files of this process (Linux: /proc/self/limits), or undefined where unknown. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The default socket bound: 90% of the open-file limit less 32 (the rest is for store files, Redis and
 * the process itself), or `connectionsMax` + 1,024 where the limit is unknown.
 */
export function defaultSocketsMax(connectionsMax: number, fileLimit = openFileLimit()): number {
  if (fileLimit === undefined) return connectionsMax + 1_024;
  return Math.max(64, Math.floor(fileLimit * 0.9) - 32);
}

/** The bounds of a {@link SocketGate}. */
export interface SocketGateLimits {
  /** Accepted sockets held at once. */
  readonly socketsMax: number;
  /** Slots members may not take. */
  readonly reserve: number;
  /** A socket that is not a member this long after its accept (or its last answered request) is closed. */
  readonly upgradeTimeoutMs: number;
}

/** Why the gate closed a socket. */
export type GateCloseReason = 'upgrade_timeout' | 'evicted_pending' | 'sockets_full';

/** Counts and times every accepted socket. */
export class SocketGate {
  /** Sockets that are not members, oldest first, with when their time started. */
  private readonly pending = new Map<Socket, number>();
  private readonly members = new Set<Socket>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly limits: SocketGateLimits,
    private readonly nowMs: () => number,
    private readonly onClose: (reason: GateCloseReason, socket: Socket) => void,
  ) {}

  /** Accepted sockets right now. */
  get sockets(): number {
    return this.pending.size + this.members.size;
  }

  /** Accepted sockets that are not members. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether one more member fits (members may not take the reserve). */
  get memberFits(): boolean {
    return this.members.size < this.limits.socketsMax - this.limits.reserve;
  }

  /** A socket the server just accepted. Returns false when it was closed at once (no slot could be freed). */
  accept(socket: Socket): boolean {
    if (this.sockets >= this.limits.socketsMax) {
      const victim = this.evictable();
      if (victim === undefined) {
        this.onClose('sockets_full', socket);
        socket.destroy();
        return false;
      }
      this.drop(victim, 'evicted_pending');
    }
    this.pending.set(socket, this.nowMs());
    socket.once('close', () => {
      this.pending.delete(socket);
      this.members.delete(socket);
    });
    this.timer ??= setInterval(() => this.sweep(), Math.max(5, Math.min(250, Math.floor(this.limits.upgradeTimeoutMs / 8))));
    this.timer.unref();
    return true;
  }

  /** The socket became a member: it no longer has a deadline. */
  upgraded(socket: Socket): void {
    if (socket.destroyed || !this.pending.delete(socket)) return;
    this.members.add(socket);
  }

  /** An HTTP request on the socket was answered: its time starts again (keep-alive). */
  answered(socket: Socket): void {
    if (!this.pending.delete(socket) || socket.destroyed) return;
    this.pending.set(socket, this.nowMs());
  }

  /** Stops the timer (the server closes the sockets). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The oldest pending socket that has sent nothing (looking at the 256 oldest), else the oldest. */
  private evictable(): Socket | undefined {
    let oldest: Socket | undefined;
    let looked = 0;
    for (const socket of this.pending.keys()) {
      oldest ??= socket;
      if (socket.bytesRead === 0) return socket;
      if (++looked >= 256) break;
    }
    return oldest;
  }

  private sweep(): void {
    const deadline = this.nowMs() - this.limits.upgradeTimeoutMs;
    for (const [socket, since] of this.pending) {
      if (since > deadline) break; // oldest first: the rest are younger
      this.drop(socket, 'upgrade_timeout');
    }
  }

  private drop(socket: Socket, reason: GateCloseReason): void {
    this.pending.delete(socket);
    this.onClose(reason, socket);
    socket.destroy();
  }
}
