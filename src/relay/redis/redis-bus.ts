/**
 * A room fan-out shared by several relay processes through Redis pub/sub.
 *
 * Every frame a local member sends is delivered to the room's local members at once
 * (exactly as the in-process fan-out does) and published on the room's channel,
 * tagged with this relay's id; every other relay subscribed to that channel hands it
 * to its own members. Frames of one room sent in the same turn of the event loop go
 * out as one message (up to `batchBytesMax`): under load that divides the Redis
 * round trips, and a lone frame still leaves on the next turn. Redis echoes our own
 * messages back to us: the relay tag skips them. While Redis is unreachable, local delivery goes on unchanged and the frames
 * that could not cross are counted; the clients' anti-entropy repairs them later.
 */
import type { RoomBus, RoomFrameHandler } from '../room-bus.js';
import type { RedisClient } from './client.js';
import { type BusFrame, busFrameBytes, busIdBytes, decodeBusEnvelope, encodeBusEnvelope } from './envelope.js';
import type { RedisStatus } from './status.js';

/** Options for {@link RedisRoomBus}. */
export interface RedisRoomBusOptions {
  /** This relay's id, unique in the deployment (it tags what we publish). */
  readonly relayId: string;
  /** The command connection (publishes). */
  readonly publisher: RedisClient;
  /** The subscriber connection (channels of the rooms with local members). */
  readonly subscriber: RedisClient;
  /** Shared counters and connection state. */
  readonly status: RedisStatus;
  /** Channel names are `${keyPrefix}room:${roomId}`, so deployments can share one Redis. */
  readonly keyPrefix?: string;
  /** Most publishes awaiting a reply; past it frames are dropped and counted, never queued without bound. */
  readonly publishesInFlightMax?: number;
  /** Most frame bytes in one published message; a larger batch is sent at once. Default 256 KiB. */
  readonly batchBytesMax?: number;
  /** Whether {@link RedisRoomBus.close} also closes both connections (the relay closes its bus on shutdown). Default false. */
  readonly ownsConnections?: boolean;
}

/** Default {@link RedisRoomBusOptions.keyPrefix}. */
export const DEFAULT_KEY_PREFIX = 'tidelog:';

/** The Redis-backed room fan-out. */
export class RedisRoomBus implements RoomBus {
  readonly #options: RedisRoomBusOptions;
  readonly #prefix: string;
  readonly #inFlightMax: number;
  readonly #batchBytesMax: number;
  readonly #handlers = new Map<string, Set<RoomFrameHandler>>();
  /** Frames waiting for the end of this event-loop turn, per room, with their encoded size. */
  readonly #pending = new Map<string, { frames: BusFrame[]; bytes: number }>();
  #flushScheduled = false;
  #closed = false;

  constructor(options: RedisRoomBusOptions) {
    this.#options = options;
    this.#prefix = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}room:`;
    this.#inFlightMax = options.publishesInFlightMax ?? 10_000;
    this.#batchBytesMax = options.batchBytesMax ?? 256 * 1024;
    busIdBytes(options.relayId, 'relayId');
    options.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
    options.subscriber.on('ready', () => this.#resubscribe());
  }

  /** This relay's id. */
  get relayId(): string {
    return this.#options.relayId;
  }

  /** Delivers `frame` to the room's local handlers now and publishes it to the other relays. Never throws. */
  publish(roomId: string, frame: Uint8Array, originId: string): void {
    if (this.#closed) return;
    this.#deliverLocal(roomId, frame, originId);
    this.#publishRemote(roomId, frame, originId);
  }

  /** Adds a handler for a room's frames (local and remote); the first one subscribes the room's channel. Returns the unsubscribe. */
  subscribe(roomId: string, handler: RoomFrameHandler): () => void {
    let handlers = this.#handlers.get(roomId);
    if (handlers === undefined) {
      handlers = new Set();
      this.#handlers.set(roomId, handlers);
      // A SUBSCRIBE that fails (Redis down) is made good by #resubscribe when the connection is ready again.
      this.#options.subscriber.subscribe(this.#channel(roomId)).catch(() => undefined);
    }
    handlers.add(handler);
    return () => this.#unsubscribe(roomId, handler);
  }

  /** Rooms with at least one local handler. */
  rooms(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Stops delivering; closes the connections when it owns them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Frames already delivered locally still go out to the other relays.
    this.#flush();
    this.#closed = true;
    this.#handlers.clear();
    if (this.#options.ownsConnections !== true) return;
    const clients = [this.#options.publisher, this.#options.subscriber];
    // QUIT when connected; a connection still retrying is just stopped.
    await Promise.all(
      clients.map((client) =>
        client.status === 'ready'
          ? client.quit().then(
              () => undefined,
              () => client.disconnect(),
            )
          : client.disconnect(),
      ),
    );
  }

  #unsubscribe(roomId: string, handler: RoomFrameHandler): void {
    const handlers = this.#handlers.get(roomId);
    if (handlers === undefined || !handlers.delete(handler) || handlers.size > 0) return;
    this.#handlers.delete(roomId);
    this.#options.subscriber.unsubscribe(this.#channel(roomId)).catch(() => undefined);
  }

  /** After every (re)connect: a fresh connection has no subscriptions, so subscribe every room with local members. */
  #resubscribe(): void {
    if (this.#closed) return;
    const channels = [...this.#handlers.keys()].map((roomId) => this.#channel(roomId));
    for (let i = 0; i < channels.length; i += 1_000) {
      this.#options.subscriber.subscribe(...channels.slice(i, i + 1_000)).catch(() => undefined);
    }
  }

  #channel(roomId: string): string {
    return `${this.#prefix}${roomId}`;
  }

  #deliverLocal(roomId: string, frame: Uint8Array, originId: string): void {
    const handlers = this.#handlers.get(roomId);
    if (handlers === undefined) return;
    for (const handler of [...handlers]) handler(frame, originId);
  }

  #publishRemote(roomId: string, frame: Uint8Array, originId: string): void {
    if (!this.#options.status.commandUp) {
      // Counted now rather than queued: nothing waits in memory for Redis to come back.
      this.#options.status.publishFailed();
      return;
    }
    let bytes: number;
    try {
      bytes = busFrameBytes(busIdBytes(originId, 'originId'), frame);
    } catch {
      // An origin id the envelope can't carry (empty, over 255 bytes): local delivery only.
      this.#options.status.publishFailed();
      return;
    }
    let batch = this.#pending.get(roomId);
    if (batch !== undefined && batch.bytes + bytes > this.#batchBytesMax) {
      this.#send(roomId, batch.frames);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { frames: [], bytes: 0 };
      this.#pending.set(roomId, batch);
    }
    // The relay may reuse its receive buffer: keep a copy until the batch is encoded.
    batch.frames.push({ originId, frame: frame.slice() });
    batch.bytes += bytes;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batches = [...this.#pending];
    this.#pending.clear();
    for (const [roomId, batch] of batches) this.#send(roomId, batch.frames);
  }

  #send(roomId: string, frames: readonly BusFrame[]): void {
    this.#pending.delete(roomId);
    const { status, publisher, relayId } = this.#options;
    if (!status.commandUp || status.publishesInFlight >= this.#inFlightMax) {
      status.publishFailed(frames.length);
      return;
    }
    const message = encodeBusEnvelope({ relayId, frames });
    status.publishesInFlight += 1;
    publisher.publish(this.#channel(roomId), Buffer.from(message.buffer, message.byteOffset, message.byteLength)).then(
      () => {
        status.publishesInFlight -= 1;
        status.counters.framesPublished += frames.length;
      },
      () => {
        status.publishesInFlight -= 1;
        status.publishFailed(frames.length);
      },
    );
  }

  #onMessage(channel: Buffer, message: Buffer): void {
    if (this.#closed) return;
    const name = channel.toString('utf8');
    if (!name.startsWith(this.#prefix)) return;
    const roomId = name.slice(this.#prefix.length);
    const { status, relayId } = this.#options;
    let envelope: ReturnType<typeof decodeBusEnvelope>;
    try {
      envelope = decodeBusEnvelope(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    } catch {
      // Only DecodeError is expected here; nothing may unwind into ioredis' reply parser.
      status.counters.malformedMessages += 1;
      return;
    }
    if (envelope.relayId === relayId) {
      status.counters.ownFramesSkipped += envelope.frames.length;
      return;
    }
    const handlers = this.#handlers.get(roomId);
    if (handlers === undefined) {
      // A subscription that outlived its last member (its UNSUBSCRIBE failed): drop it now.
      this.#options.subscriber.unsubscribe(name).catch(() => undefined);
      return;
    }
    for (const { originId, frame } of envelope.frames) {
      status.counters.framesReceived += 1;
      // Origin ids are per relay; prefix them so they can never equal a local connection's id.
      const origin = `${envelope.relayId}/${originId}`;
      for (const handler of [...handlers]) {
        try {
          handler(frame, origin);
        } catch {
          // A throwing handler must not unwind into ioredis' reply parser, nor starve the other members.
          status.counters.deliveryErrors += 1;
        }
      }
    }
  }
}
