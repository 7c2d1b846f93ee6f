/**
 * The relay: a `ws` server that forwards ciphertext frames between the members of
 * a room and knows nothing else. A member joins with `GET /rooms/<roomId>` (upgrade);
 * each binary frame it sends goes to the room's other members through the {@link RoomBus}.
 * Every resource has a bound: frame size, frames and bytes per second per connection,
 * connections per room and in total, bytes buffered per receiver; dead peers are found
 * by ping/pong. `/healthz` and `/metrics` are served on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { InvalidArgumentError } from '../core/errors.js';
import { type RelayLogger, silentLogger } from './log.js';
import { type DisconnectReason, RelayMetrics, type RejectionReason } from './metrics.js';
import { type FrameStore, InProcessRoomBus, type RoomBus } from './room-bus.js';
import { TokenBucket } from './token-bucket.js';

/** A room id the relay accepts: 16 to 128 base64url characters (clients send a derived, opaque id). */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** Options of {@link RelayServer.start}. Every bound has a default. */
export interface RelayServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Largest frame accepted, in bytes (larger ones close the connection with 1009). Default 1 MiB. */
  readonly frameBytesMax?: number;
  /** Sustained frames per second per connection. Default 1,000. */
  readonly framesPerSecondMax?: number;
  /** Sustained bytes per second per connection. Default 32 MiB. */
  readonly bytesPerSecondMax?: number;
  /** Bucket size, in seconds of the sustained rates. Default 2. */
  readonly burstSeconds?: number;
  /** Rate-limited frames in a row before the connection is closed as a flood. Default 1,000. */
  readonly floodDropsMax?: number;
  /** Members per room. Default 256. */
  readonly connectionsPerRoomMax?: number;
  /** Members in total. Default 50,000. */
  readonly connectionsMax?: number;
  /** Ping interval; a member that has not answered the previous ping by the next one is dropped. Default 15 s. */
  readonly heartbeatMs?: number;
  /** Bytes buffered towards one receiver before it is disconnected as too slow. Default 16 MiB. */
  readonly bufferedBytesMax?: number;
  /** How long `close` waits for members to acknowledge the close before terminating them. Default 2 s. */
  readonly drainMs?: number;
  /** The fan-out; in-process by default. */
  readonly bus?: RoomBus;
  /** Store-and-forward; off by default. */
  readonly store?: FrameStore;
  /** Stored frames replayed to a joining member. Default 100,000. */
  readonly replayFramesMax?: number;
  /** Structured log sink. Silent by default (the CLI logs JSON to stderr). */
  readonly log?: RelayLogger;
  /** Wall clock in ms (rate limits). */
  readonly nowMs?: () => number;
  /** Sees every frame a member sends, before any check (audits: `--capture` proves the relay only ever gets ciphertext). */
  readonly tap?: (roomId: string, frame: Uint8Array) => void;
  /** Extra Prometheus lines appended to `/metrics` (for example the Redis fan-out's). */
  readonly extraMetrics?: () => string;
  /** Extra fields for `/healthz`; a `status` other than `ok` is reported as given. */
  readonly extraHealth?: () => Record<string, unknown>;
}

interface Member {
  readonly id: string;
  readonly roomId: string;
  readonly ws: WebSocket;
  readonly frames: TokenBucket;
  readonly bytes: TokenBucket;
  readonly unsubscribe: () => void;
  alive: boolean;
  floodDrops: number;
}

function bound(value: number | undefined, fallback: number, name: string, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new InvalidArgumentError(`${name} must be a number >= ${min}`, { [name]: value });
  return v;
}

/** A running relay. */
export class RelayServer {
  /** The relay's counters. */
  readonly metrics = new RelayMetrics();
  private readonly members = new Map<string, Member>();
  private readonly rooms = new Map<string, Set<Member>>();
  private readonly wss: WebSocketServer;
  private readonly bus: RoomBus;
  private readonly log: RelayLogger;
  private readonly nowMs: () => number;
  private readonly limits: Required<
    Pick<
      RelayServerOptions,
      | 'frameBytesMax'
      | 'framesPerSecondMax'
      | 'bytesPerSecondMax'
      | 'burstSeconds'
      | 'floodDropsMax'
      | 'connectionsPerRoomMax'
      | 'connectionsMax'
      | 'heartbeatMs'
      | 'bufferedBytesMax'
      | 'drainMs'
      | 'replayFramesMax'
    >
  >;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private nextMemberId = 0;
  private closing: Promise<void> | undefined;
  private readonly startedMs: number;
  private listeningPort = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: RelayServerOptions,
  ) {
    this.limits = {
      frameBytesMax: bound(options.frameBytesMax, 1024 * 1024, 'frameBytesMax'),
      framesPerSecondMax: bound(options.framesPerSecondMax, 1_000, 'framesPerSecondMax'),
      bytesPerSecondMax: bound(options.bytesPerSecondMax, 32 * 1024 * 1024, 'bytesPerSecondMax'),
      burstSeconds: bound(options.burstSeconds, 2, 'burstSeconds', 0.001),
      floodDropsMax: bound(options.floodDropsMax, 1_000, 'floodDropsMax'),
      connectionsPerRoomMax: bound(options.connectionsPerRoomMax, 256, 'connectionsPerRoomMax'),
      connectionsMax: bound(options.connectionsMax, 50_000, 'connectionsMax'),
      heartbeatMs: bound(options.heartbeatMs, 15_000, 'heartbeatMs', 10),
      bufferedBytesMax: bound(options.bufferedBytesMax, 16 * 1024 * 1024, 'bufferedBytesMax'),
      drainMs: bound(options.drainMs, 2_000, 'drainMs', 0),
      replayFramesMax: bound(options.replayFramesMax, 100_000, 'replayFramesMax', 0),
    };
    this.bus = options.bus ?? new InProcessRoomBus();
    this.log = options.log ?? silentLogger;
    this.nowMs = options.nowMs ?? Date.now;
    this.startedMs = this.nowMs();
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.frameBytesMax, perMessageDeflate: false });
  }

  /** Starts a relay and resolves once it listens. */
  static async start(options: RelayServerOptions = {}): Promise<RelayServer> {
    const server = createServer();
    const relay = new RelayServer(server, options);
    server.on('request', (req, res) => relay.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => relay.onUpgrade(req, socket as Socket, head));
    // Half-open or stalled HTTP clients must not hold sockets forever.
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    relay.listeningPort = (server.address() as AddressInfo).port;
    relay.heartbeat = setInterval(() => relay.beat(), relay.limits.heartbeatMs);
    relay.heartbeat.unref();
    relay.log('info', 'relay_listening', { port: relay.port, host: options.host ?? '127.0.0.1', store: options.store !== undefined });
    return relay;
  }

  /** The TCP port the relay listens on. */
  get port(): number {
    return this.listeningPort;
  }

  /** `ws://host:port`, the base URL clients join rooms under. */
  get url(): string {
    return `ws://${this.options.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** Current member count. */
  get connectionCount(): number {
    return this.members.size;
  }

  /** Stops accepting, closes every member with 1001 (terminating those that do not answer within `drainMs`). */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.log('info', 'relay_shutdown', { connections: this.members.size });
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const members = [...this.members.values()];
    const gone = Promise.all(members.map((m) => new Promise<void>((resolve) => (m.ws.readyState === WebSocket.CLOSED ? resolve() : m.ws.once('close', () => resolve())))));
    for (const member of members) {
      this.metrics.disconnect('shutdown');
      member.ws.close(1001, 'relay shutting down');
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.limits.drainMs)))]);
    clearTimeout(timer);
    for (const member of this.members.values()) member.ws.terminate();
    this.server.closeAllConnections();
    await closed;
    await this.bus.close();
    await this.options.store?.close?.();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const extra = this.options.extraHealth?.() ?? {};
      const status = this.closing !== undefined ? 'shutting_down' : ((extra.status as string | undefined) ?? 'ok');
      const body = { ...extra, status, connections: this.members.size, rooms: this.rooms.size, uptimeSeconds: Math.round((this.nowMs() - this.startedMs) / 1000) };
      res.writeHead(this.closing === undefined ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      const text = this.metrics.render(this.rooms.size) + (this.options.extraMetrics?.() ?? '');
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  private reject(socket: Socket, status: number, text: string, reason: RejectionReason): void {
    this.metrics.reject(reason);
    this.log('warn', 'connection_rejected', { reason, remote: socket.remoteAddress });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => undefined);
    const refusal = this.refusal(req.url ?? '');
    if (refusal !== undefined) {
      this.reject(socket, ...refusal);
      return;
    }
    const roomId = (req.url ?? '').slice('/rooms/'.length).split('?')[0] as string;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.admit(ws, roomId, socket.remoteAddress));
  }

  /** Why an upgrade to `url` is refused, or undefined when it is admitted. */
  private refusal(url: string): [number, string, RejectionReason] | undefined {
    const match = /^\/rooms\/([^/?]*)(?:\?.*)?$/.exec(url);
    if (this.closing !== undefined) return [503, 'Service Unavailable', 'shutting_down'];
    if (match === null) return [404, 'Not Found', 'bad_path'];
    const roomId = match[1] as string;
    if (!ROOM_ID_PATTERN.test(roomId)) return [400, 'Bad Request', 'bad_room'];
    if (this.members.size >= this.limits.connectionsMax) return [503, 'Service Unavailable', 'server_full'];
    if ((this.rooms.get(roomId)?.size ?? 0) >= this.limits.connectionsPerRoomMax) return [429, 'Too Many Requests', 'room_full'];
    return undefined;
  }

  private admit(ws: WebSocket, roomId: string, remote: string | undefined): void {
    const id = `m${++this.nextMemberId}`;
    const { framesPerSecondMax, bytesPerSecondMax, burstSeconds } = this.limits;
    let member: Member | undefined;
    const unsubscribe = this.bus.subscribe(roomId, (frame, originId) => {
      if (member !== undefined && originId !== member.id) this.deliver(member, frame);
    });
    member = {
      id,
      roomId,
      ws,
      frames: new TokenBucket(framesPerSecondMax, framesPerSecondMax * burstSeconds, this.nowMs),
      bytes: new TokenBucket(bytesPerSecondMax, bytesPerSecondMax * burstSeconds, this.nowMs),
      unsubscribe,
      alive: true,
      floodDrops: 0,
    };
    const joined = member;
    this.members.set(id, joined);
    let room = this.rooms.get(roomId);
    if (room === undefined) {
      room = new Set();
      this.rooms.set(roomId, room);
    }
    room.add(joined);
    this.metrics.connections = this.members.size;
    this.metrics.connectionsAccepted += 1;
    this.log('debug', 'member_joined', { member: id, room: roomId, remote });
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => this.onFrame(joined, data, isBinary));
    ws.on('pong', () => {
      joined.alive = true;
    });
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.metrics.reject('oversized');
      else this.metrics.disconnect('protocol');
      this.log('warn', 'member_error', { member: id, code: error.code, message: error.message });
    });
    ws.on('close', () => this.leave(joined));
    if (this.options.store !== undefined) void this.replay(joined);
  }

  private leave(member: Member): void {
    if (!this.members.delete(member.id)) return;
    member.unsubscribe();
    const room = this.rooms.get(member.roomId);
    room?.delete(member);
    if (room !== undefined && room.size === 0) this.rooms.delete(member.roomId);
    this.metrics.connections = this.members.size;
    this.log('debug', 'member_left', { member: member.id, room: member.roomId });
  }

  private onFrame(member: Member, data: RawData, isBinary: boolean): void {
    // Frames already buffered when the relay cut a member off still arrive: ignore them.
    if (!this.members.has(member.id)) return;
    member.alive = true;
    this.options.tap?.(member.roomId, toBytes(data));
    if (!isBinary) {
      this.metrics.reject('text_frame');
      this.disconnect(member, 'protocol', 1003, 'binary frames only');
      return;
    }
    const frame = toBytes(data);
    if (!member.frames.take(1) || !member.bytes.take(frame.length)) {
      this.metrics.drop('rate_limited');
      member.floodDrops += 1;
      if (member.floodDrops >= this.limits.floodDropsMax) this.disconnect(member, 'flood', 1008, 'rate limit exceeded');
      return;
    }
    member.floodDrops = 0;
    this.metrics.framesReceived += 1;
    this.metrics.bytesReceived += frame.length;
    this.bus.publish(member.roomId, frame, member.id);
    const store = this.options.store;
    if (store !== undefined) {
      void store.append(member.roomId, frame).then((ok) => {
        if (ok) this.metrics.framesStored += 1;
        else this.metrics.drop('store_full');
      });
    }
  }

  private deliver(member: Member, frame: Uint8Array): void {
    const ws = member.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount + frame.length > this.limits.bufferedBytesMax) {
      // A receiver that cannot keep up is cut off rather than buffered without bound; its
      // client reconnects and anti-entropy fills the frames it missed.
      this.metrics.drop('backpressure');
      this.disconnect(member, 'slow_receiver');
      return;
    }
    ws.send(frame, { binary: true });
    this.metrics.framesRelayed += 1;
    this.metrics.bytesRelayed += frame.length;
  }

  private async replay(member: Member): Promise<void> {
    const frames = await (this.options.store as FrameStore).recent(member.roomId, this.limits.replayFramesMax);
    for (const frame of frames) {
      const ws = member.ws;
      if (ws.readyState !== WebSocket.OPEN) return;
      // Replays can be large: wait for the socket to drain instead of tripping the slow-receiver bound.
      if (ws.bufferedAmount + frame.length > this.limits.bufferedBytesMax / 2) await new Promise<void>((resolve) => ws.send(frame, { binary: true }, () => resolve()));
      else ws.send(frame, { binary: true });
      this.metrics.framesReplayed += 1;
      this.metrics.bytesRelayed += frame.length;
    }
  }

  private disconnect(member: Member, reason: DisconnectReason, code?: number, text?: string): void {
    if (!this.members.has(member.id)) return;
    this.metrics.disconnect(reason);
    this.log('info', 'member_disconnected', { member: member.id, room: member.roomId, reason });
    if (code === undefined) member.ws.terminate();
    else {
      member.ws.close(code, text);
      // Do not wait for a misbehaving peer's close handshake.
      setTimeout(() => member.ws.terminate(), 1_000).unref();
    }
    this.leave(member);
  }

  private beat(): void {
    for (const member of [...this.members.values()]) {
      if (!member.alive) {
        this.disconnect(member, 'heartbeat');
        continue;
      }
      member.alive = false;
      member.ws.ping();
    }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
