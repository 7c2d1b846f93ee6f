/**
 * The {@link Transport} a simulated node's sync session uses: frames go out
 * through the simulated network's broadcast room, and come in when the run
 * delivers them.
 */
import { MessageType } from '../../sync/messages.js';
import type { Transport, TransportListener } from '../../sync/transport.js';
import type { SimNetwork } from '../network.js';

/** A sync frame's message type (byte 1 of every frame, see sync/messages.ts). */
export function frameTypeOf(frame: Uint8Array): number {
  return frame[1] as number;
}

/** The sync `Transport` of one simulated node. */
export class SimTransport implements Transport {
  private listener: TransportListener | undefined;
  private up = false;

  constructor(
    private readonly network: SimNetwork,
    private readonly node: number,
  ) {}

  get connected(): boolean {
    return this.up;
  }

  /**
   * Broadcasts a copy of `bytes` (one for all receivers: the contract lets a sender reuse its buffer, and the
   * real transports put the bytes on the wire at once). Hellos carry no ops: the convergence watch does not wait for them.
   */
  send(bytes: Uint8Array): void {
    if (this.up) this.network.broadcast(this.node, bytes.slice(), frameTypeOf(bytes) !== MessageType.hello);
  }

  listen(listener: TransportListener): void {
    this.listener = listener;
    if (this.up) listener.up();
  }

  /** Brings the link up (a process start) or down. */
  setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (up) this.listener?.up();
    else this.listener?.down();
  }

  /** Hands a delivered frame to the session. */
  receive(bytes: Uint8Array): void {
    if (this.up) this.listener?.frame(bytes);
  }

  async close(): Promise<void> {
    this.up = false;
    this.listener = undefined;
  }
}
