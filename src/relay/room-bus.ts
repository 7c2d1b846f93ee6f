/**
 * The relay's fan-out, behind an interface so rooms can be shared between relay
 * processes through a broker (see `redis/`). The relay publishes every frame a
 * member sends and subscribes one handler per member; the bus never looks inside.
 */

/** Receives the frames of one room: the frame and the id of the connection that sent it. */
export type RoomFrameHandler = (frame: Uint8Array, originId: string) => void;

/** A room fan-out: what the relay needs from it, and all it needs. */
export interface RoomBus {
  /** Delivers `frame` to every handler of the room (the sender's own handler skips it by `originId`). Never throws. */
  publish(roomId: string, frame: Uint8Array, originId: string): void;
  /** Adds a handler for a room's frames. Returns the unsubscribe function. */
  subscribe(roomId: string, handler: RoomFrameHandler): () => void;
  /** Rooms with at least one local handler. */
  rooms(): string[];
  /** Stops delivering. */
  close(): Promise<void>;
}

/** The single-process fan-out: a map of rooms to handler sets. The default. */
export class InProcessRoomBus implements RoomBus {
  private readonly handlers = new Map<string, Set<RoomFrameHandler>>();
  private closed = false;

  /** Calls every handler of the room synchronously. */
  publish(roomId: string, frame: Uint8Array, originId: string): void {
    if (this.closed) return;
    const handlers = this.handlers.get(roomId);
    if (handlers === undefined) return;
    for (const handler of [...handlers]) handler(frame, originId);
  }

  /** Adds a handler; the room exists while it has one. */
  subscribe(roomId: string, handler: RoomFrameHandler): () => void {
    let handlers = this.handlers.get(roomId);
    if (handlers === undefined) {
      handlers = new Set();
      this.handlers.set(roomId, handlers);
    }
    handlers.add(handler);
    return () => {
      const set = this.handlers.get(roomId);
      if (set === undefined || !set.delete(handler) || set.size > 0) return;
      this.handlers.delete(roomId);
    };
  }

  /** Rooms with at least one handler. */
  rooms(): string[] {
    return [...this.handlers.keys()];
  }

  /** Drops every handler. */
  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
  }
}
