/**
 * The transport contract of the sync protocol. A transport is a broadcast
 * channel among the members of one room: a frame sent reaches every other
 * member that is connected (or none, or some, when the network misbehaves).
 * The simulator, the WebSocket client and in-memory test pairs implement it.
 */

/** What a transport reports to the sync session that uses it. */
export interface TransportListener {
  /** A frame from another member. Bytes are untrusted. */
  frame(bytes: Uint8Array): void;
  /** The transport (re)connected: the session should run anti-entropy. */
  up(): void;
  /** The transport lost its connection; frames sent meanwhile may be lost. */
  down(): void;
}

/** A broadcast channel of binary frames. */
export interface Transport {
  /** Sends one frame to the other members. Never throws for network reasons; frames may be lost. */
  send(bytes: Uint8Array): void;
  /** Attaches the single listener. If the transport is already up, `up` is called right away. */
  listen(listener: TransportListener): void;
  /** Whether frames sent now are likely to go out. */
  readonly connected: boolean;
  /** Stops delivering and releases resources. */
  close(): Promise<void>;
}
