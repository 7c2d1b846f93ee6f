/** A tiny in-memory broadcast hub implementing Transport, for crypto tests (delivery is async, in order). */
import type { Transport, TransportListener } from '../../src/sync/transport.js';

export class MemoryHub {
  readonly members = new Set<MemoryMember>();
  /** Every frame any member sent, as the "relay" saw it. */
  readonly wire: Uint8Array[] = [];

  join(): MemoryMember {
    const member = new MemoryMember(this);
    this.members.add(member);
    return member;
  }

  /** Injects a frame to every member (as a hostile relay would). */
  inject(bytes: Uint8Array, except?: MemoryMember): void {
    for (const member of this.members) if (member !== except) member.deliver(bytes);
  }
}

export class MemoryMember implements Transport {
  private listener: TransportListener | undefined;
  connected = true;
  constructor(private readonly hub: MemoryHub) {}
  send(bytes: Uint8Array): void {
    this.hub.wire.push(bytes.slice());
    this.hub.inject(bytes.slice(), this);
  }
  deliver(bytes: Uint8Array): void {
    queueMicrotask(() => this.listener?.frame(bytes));
  }
  listen(listener: TransportListener): void {
    this.listener = listener;
    if (this.connected) listener.up();
  }
  async close(): Promise<void> {
    this.hub.members.delete(this);
    this.connected = false;
  }
}
