/**
 * An in-memory broadcast room: the test twin of the WebSocket relay. Frames are
 * delivered on a microtask (never re-entrantly inside `send`), in send order, to
 * every other connected member.
 */
import { ReplicaClosedError } from '../core/errors.js';
import type { Transport, TransportListener } from './transport.js';

/** A room of {@link MemoryTransport}s. */
export class MemoryRoom {
  private readonly members = new Set<MemoryTransport>();

  /** Adds a member; it starts connected. */
  join(): MemoryTransport {
    const member = new MemoryTransport(this);
    this.members.add(member);
    return member;
  }

  /** @internal Delivers a frame to every connected member but the sender. */
  broadcast(sender: MemoryTransport, bytes: Uint8Array): void {
    for (const member of this.members) if (member !== sender) member.deliver(bytes);
  }

  /** @internal */
  leave(member: MemoryTransport): void {
    this.members.delete(member);
  }
}

/** One member of a {@link MemoryRoom}. */
export class MemoryTransport implements Transport {
  private listener: TransportListener | undefined;
  private up = true;
  private closed = false;
  /** Frames sent by this member (for tests). */
  framesSent = 0;

  /** @internal Use {@link MemoryRoom.join}. */
  constructor(private readonly room: MemoryRoom) {}

  /** Whether the member is connected. */
  get connected(): boolean {
    return this.up && !this.closed;
  }

  /** Broadcasts a copy of the frame (receivers must not see later mutation). */
  send(bytes: Uint8Array): void {
    if (!this.connected) return;
    this.framesSent += 1;
    this.room.broadcast(this, bytes.slice());
  }

  /** Attaches the listener; calls `up` right away if connected. */
  listen(listener: TransportListener): void {
    if (this.closed) throw new ReplicaClosedError('the transport is closed');
    this.listener = listener;
    if (this.connected) queueMicrotask(() => this.listener === listener && this.connected && listener.up());
  }

  /** Cuts or restores the connection, telling the listener. */
  setConnected(up: boolean): void {
    if (this.closed || up === this.up) return;
    this.up = up;
    if (up) this.listener?.up();
    else this.listener?.down();
  }

  /** @internal */
  deliver(bytes: Uint8Array): void {
    if (!this.connected) return;
    queueMicrotask(() => {
      if (this.connected) this.listener?.frame(bytes);
    });
  }

  /** Leaves the room. */
  async close(): Promise<void> {
    this.closed = true;
    this.listener = undefined;
    this.room.leave(this);
  }
}
