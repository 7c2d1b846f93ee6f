/**
 * The relay: a `ws` server that forwards ciphertext frames between the members of
 * a room and knows nothing else. A member joins with `GET /rooms/<roomId>` (upgrade);
 * each binary frame it sends goes to the room's other members through the {@link RoomBus}.
 * Every resource has a bound: sockets of any kind and how long one may stay silent
 * (`admission.ts`), frame size, each member's and each room's rate (`fair-share.ts`),
 * members per room and in total, bytes buffered per receiver, replay memory per member
 * (`replay.ts`); dead peers are found by ping/pong. `/healthz` and `/metrics` are served
 * on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { SocketGate } from './admission.js';
import { charge, type MemberBudget, memberBudget, type Refusal, type RoomBudget, roomBudget } from './fair-share.js';
import { type RelayLogger, silentLogger } from './log.js';
import { type DisconnectReason, RelayMetrics, type RejectionReason } from './metrics.js';
import { type RelayLimits, type RelayServerOptions, resolveLimits } from './options.js';
import { PrometheusWriter } from './prometheus.js';
import { MemberReplay } from './replay.js';
import { InProcessRoomBus, type RoomBus } from './room-bus.js';

export type { RelayServerOptions } from './options.js';

/** A room id the relay accepts: 16 to 128 base64url characters (clients send a derived, opaque id). */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Bytes a member's socket may hold queued before the relay keeps further frames for it in its own
 * outbox instead. Node hands a socket's whole queue to one `writev` each time a write completes, so tens
 * of thousands of small frames queued on a slow socket cost ~100 ms of event loop per write (measured in
 * a flood); the outbox is an array, flushed a socket's worth at a time on 'drain'.
 */
const SOCKET_QUEUE_BYTES = 256 * 1024;

/** The error a cut-off socket is destroyed with: one shared object, so the writes still queued on it fail without building an error each. */
const CUT_OFF = Object.assign(new Error('cut off by the relay'), { code: 'TIDELOG_RELAY_CUT_OFF' });

interface Room {
  readonly members: Set<Member>;
  readonly budget: RoomBudget;
}

interface Member {
  readonly id: string;
  readonly roomId: string;
  readonly room: Room;
  readonly ws: WebSocket;
  readonly socket: Socket;
  readonly budget: MemberBudget;
  readonly unsubscribe: () => void;
  alive: boolean;
  /** Frames read while over a budget, forwarded in order once it refills (at most one socket read's worth). */
  readonly held: Uint8Array[];
  heldHead: number;
  /** Set while the relay is not reading this member. */
  resumeTimer: ReturnType<typeof setTimeout> | undefined;
  replay: MemberReplay | undefined;
  /** Frames for this member waiting for its socket to drain (see SOCKET_QUEUE_BYTES), and their bytes. */
  readonly outbox: Uint8Array[];
  outboxHead: number;
  outboxBytes: number;
  /** A 'drain' listener is waiting to flush the outbox. */
  flushPending: boolean;
}

/** A running relay. */
export class RelayServer {
  /** The relay's counters. */
  readonly metrics = new RelayMetrics();
  private readonly members = new Map<string, Member>();
  private readonly rooms = new Map<string, Room>();
  /** Budgets of rooms that emptied less than a burst ago: leaving and rejoining does not refill a room. */
  private readonly emptiedRooms = new Map<string, { budget: RoomBudget; emptiedMs: number }>();
  private readonly wss: WebSocketServer;
  private readonly bus: RoomBus;
  private readonly log: RelayLogger;
  private readonly nowMs: () => number;
  private readonly limits: RelayLimits;
  private readonly gate: SocketGate;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private nextMemberId = 0;
  private throttled = 0;
  private closing: Promise<void> | undefined;
  private readonly startedMs: number;
  private listeningPort = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: RelayServerOptions,
  ) {
    this.limits = resolveLimits(options);
    this.bus = options.bus ?? new InProcessRoomBus();
    this.log = options.log ?? silentLogger;
    this.nowMs = options.nowMs ?? Date.now;
    this.startedMs = this.nowMs();
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.frameBytesMax, perMessageDeflate: false });
    this.gate = new SocketGate(
      { socketsMax: this.limits.socketsMax, reserve: this.limits.socketsReserve, upgradeTimeoutMs: this.limits.upgradeTimeoutMs },
      this.nowMs,
      (reason, socket) => {
        if (reason === 'sockets_full') this.metrics.reject('sockets_full');
        else this.metrics.disconnect(reason);
        this.log('debug', 'socket_closed', { reason, remote: socket.remoteAddress });
      },
    );
  }

  /** Starts a relay and resolves once it listens. @throws InvalidArgumentError for a bad bound. */
  static async start(options: RelayServerOptions = {}): Promise<RelayServer> {
    const server = createServer();
    const relay = new RelayServer(server, options);
    server.on('connection', (socket: Socket) => relay.onSocket(socket));
    server.on('request', (req, res) => relay.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => relay.onUpgrade(req, socket as Socket, head));
    // Node's own timeouts stay as a backstop; the gate closes silent sockets on its own, finer clock.
    server.headersTimeout = relay.limits.upgradeTimeoutMs;
    server.requestTimeout = relay.limits.upgradeTimeoutMs + 5_000;
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
    const { socketsMax, connectionsMax } = relay.limits;
    relay.log('info', 'relay_listening', { port: relay.port, host: options.host ?? '127.0.0.1', store: options.store !== undefined, socketsMax, connectionsMax });
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
    this.gate.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const members = [...this.members.values()];
    const gone = Promise.all(members.map((m) => new Promise<void>((resolve) => (m.ws.readyState === WebSocket.CLOSED ? resolve() : m.ws.once('close', () => resolve())))));
    for (const member of members) {
      this.metrics.disconnect('shutdown');
      member.replay?.stop();
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

  private onSocket(socket: Socket): void {
    socket.on('error', () => undefined);
    this.metrics.socketsAccepted += 1;
    this.gate.accept(socket);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.once('finish', () => this.gate.answered(req.socket));
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const extra = this.options.extraHealth?.() ?? {};
      const status = this.closing !== undefined ? 'shutting_down' : ((extra.status as string | undefined) ?? 'ok');
      const body = { ...extra, status, connections: this.members.size, rooms: this.rooms.size, sockets: this.gate.sockets, uptimeSeconds: Math.round((this.nowMs() - this.startedMs) / 1000) };
      res.writeHead(this.closing === undefined ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.metricsText());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  /** The whole `/metrics` page: the relay's families, the store's and the extras', through one writer. */
  private metricsText(): string {
    const writer = new PrometheusWriter();
    let replaysActive = 0;
    let replayBytesInFlight = 0;
    for (const member of this.members.values()) {
      if (member.replay === undefined) continue;
      replaysActive += 1;
      replayBytesInFlight += member.replay.bytesInFlight;
    }
    this.metrics.write(writer, { rooms: this.rooms.size, sockets: this.gate.sockets, socketsPending: this.gate.pendingCount, replaysActive, replayBytesInFlight, throttled: this.throttled });
    this.options.store?.writeMetrics?.(writer);
    this.options.extraMetrics?.(writer);
    return writer.text();
  }

  private reject(socket: Socket, status: number, text: string, reason: RejectionReason): void {
    this.metrics.reject(reason);
    this.log('warn', 'connection_rejected', { reason, remote: socket.remoteAddress });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refusal = this.refusal(req.url ?? '');
    if (refusal !== undefined) {
      this.reject(socket, ...refusal);
      return;
    }
    const roomId = (req.url ?? '').slice('/rooms/'.length).split('?')[0] as string;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.admit(ws, socket, roomId));
  }

  /** Why an upgrade to `url` is refused, or undefined when it is admitted. */
  private refusal(url: string): [number, string, RejectionReason] | undefined {
    const match = /^\/rooms\/([^/?]*)(?:\?.*)?$/.exec(url);
    if (this.closing !== undefined) return [503, 'Service Unavailable', 'shutting_down'];
    if (match === null) return [404, 'Not Found', 'bad_path'];
    const roomId = match[1] as string;
    if (!ROOM_ID_PATTERN.test(roomId)) return [400, 'Bad Request', 'bad_room'];
    if (this.members.size >= this.limits.connectionsMax || !this.gate.memberFits) return [503, 'Service Unavailable', 'server_full'];
    if ((this.rooms.get(roomId)?.members.size ?? 0) >= this.limits.connectionsPerRoomMax) return [429, 'Too Many Requests', 'room_full'];
    return undefined;
  }

  private roomFor(roomId: string): Room {
    let room = this.rooms.get(roomId);
    if (room === undefined) {
      const emptied = this.emptiedRooms.get(roomId);
      this.emptiedRooms.delete(roomId);
      room = { members: new Set(), budget: emptied?.budget ?? roomBudget(this.limits, this.nowMs) };
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private admit(ws: WebSocket, socket: Socket, roomId: string): void {
    this.gate.upgraded(socket);
    const id = `m${++this.nextMemberId}`;
    const room = this.roomFor(roomId);
    let member: Member | undefined;
    const unsubscribe = this.bus.subscribe(roomId, (frame, originId) => {
      if (member !== undefined && originId !== member.id) this.deliver(member, frame);
    });
    member = { id, roomId, room, ws, socket, budget: memberBudget(this.limits, this.nowMs), unsubscribe, alive: true, held: [], heldHead: 0, resumeTimer: undefined, replay: undefined, outbox: [], outboxHead: 0, outboxBytes: 0, flushPending: false };
    const joined = member;
    this.members.set(id, joined);
    room.members.add(joined);
    this.metrics.connections = this.members.size;
    this.metrics.connectionsAccepted += 1;
    this.log('debug', 'member_joined', { member: id, room: roomId, remote: socket.remoteAddress });
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
    if (this.options.store !== undefined) this.startReplay(joined);
  }

  private startReplay(member: Member): void {
    const store = this.options.store;
    if (store === undefined) return;
    const replay = new MemberReplay(member.ws, this.limits.replayBufferedBytesMax, this.nowMs);
    member.replay = replay;
    const counters = {
      sent: (bytes: number) => {
        this.metrics.framesReplayed += 1;
        this.metrics.bytesReplayed += bytes;
        this.metrics.bytesRelayed += bytes;
      },
    };
    void replay
      .run(store.replay(member.roomId, { framesMax: this.limits.replayFramesMax }), counters)
      .catch((error: Error) => this.log('warn', 'replay_failed', { member: member.id, message: error.message }))
      .finally(() => {
        if (member.replay === replay) member.replay = undefined;
      });
  }

  private leave(member: Member): void {
    if (!this.members.delete(member.id)) return;
    member.unsubscribe();
    member.replay?.stop();
    if (member.resumeTimer !== undefined) {
      clearTimeout(member.resumeTimer);
      member.resumeTimer = undefined;
      this.throttled -= 1;
    }
    member.held.length = 0;
    member.outbox.length = 0;
    member.outboxBytes = 0;
    member.room.members.delete(member);
    if (member.room.members.size === 0 && this.rooms.get(member.roomId) === member.room) {
      this.rooms.delete(member.roomId);
      this.emptiedRooms.set(member.roomId, { budget: member.room.budget, emptiedMs: this.nowMs() });
    }
    this.metrics.connections = this.members.size;
    this.log('debug', 'member_left', { member: member.id, room: member.roomId });
  }

  private onFrame(member: Member, data: RawData, isBinary: boolean): void {
    // Frames already buffered when the relay cut a member off still arrive: ignore them.
    if (!this.members.has(member.id)) return;
    member.alive = true;
    const frame = toBytes(data);
    this.options.tap?.(member.roomId, frame);
    if (!isBinary) {
      this.metrics.reject('text_frame');
      this.disconnect(member, 'protocol', 1003, 'binary frames only');
      return;
    }
    // Behind frames already waiting for a budget, in order (the rest of the socket read that found it empty).
    if (member.resumeTimer !== undefined) {
      member.held.push(frame);
      return;
    }
    const refusal = charge(member.budget, member.room.budget, frame.length, member.room.members.size - 1);
    if (refusal !== undefined) {
      member.held.push(frame);
      this.throttle(member, refusal);
      return;
    }
    this.forward(member, frame);
  }

  /** Stops reading the member until its budget (or its room's) has refilled for the frame at the head of its queue. */
  private throttle(member: Member, refusal: Refusal): void {
    if (member.resumeTimer === undefined) {
      this.throttled += 1;
      this.metrics.throttle(refusal.scope);
      member.ws.pause();
    }
    clearTimeout(member.resumeTimer);
    member.resumeTimer = setTimeout(() => this.resumeReading(member), refusal.waitMs);
  }

  private resumeReading(member: Member): void {
    if (!this.members.has(member.id)) return;
    while (member.heldHead < member.held.length) {
      const frame = member.held[member.heldHead] as Uint8Array;
      const refusal = charge(member.budget, member.room.budget, frame.length, member.room.members.size - 1);
      if (refusal !== undefined) {
        member.resumeTimer = setTimeout(() => this.resumeReading(member), refusal.waitMs);
        return;
      }
      member.heldHead += 1;
      this.forward(member, frame);
      if (!this.members.has(member.id)) return;
    }
    member.held.length = 0;
    member.heldHead = 0;
    member.resumeTimer = undefined;
    this.throttled -= 1;
    member.ws.resume();
  }

  private forward(member: Member, frame: Uint8Array): void {
    this.metrics.framesReceived += 1;
    this.metrics.bytesReceived += frame.length;
    this.bus.publish(member.roomId, frame, member.id);
    const store = this.options.store;
    if (store !== undefined) {
      void store.append(member.roomId, frame).then((position) => {
        if (position !== undefined) this.metrics.framesStored += 1;
        else this.metrics.drop('store_full');
      });
    }
  }

  private deliver(member: Member, frame: Uint8Array): void {
    const ws = member.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    const queued = member.outbox.length - member.outboxHead;
    if (ws.bufferedAmount + member.outboxBytes + frame.length > this.limits.bufferedBytesMax || queued >= this.limits.bufferedFramesMax) {
      // A receiver that cannot keep up is cut off rather than buffered without bound; its
      // client reconnects and anti-entropy fills the frames it missed. Replayed bytes it has not
      // read yet count here too.
      this.metrics.drop('backpressure');
      this.disconnect(member, 'slow_receiver');
      return;
    }
    this.metrics.framesRelayed += 1;
    this.metrics.bytesRelayed += frame.length;
    if (queued > 0 || ws.bufferedAmount > SOCKET_QUEUE_BYTES) {
      if (!member.flushPending) {
        member.flushPending = true;
        member.socket.once('drain', () => this.flushOutbox(member));
      }
      member.outbox.push(frame);
      member.outboxBytes += frame.length;
      return;
    }
    ws.send(frame, { binary: true });
  }

  /** Moves outbox frames to the socket until it holds a queue's worth again (then waits for the next 'drain'). */
  private flushOutbox(member: Member): void {
    member.flushPending = false;
    if (!this.members.has(member.id) || member.ws.readyState !== WebSocket.OPEN) return;
    while (member.outboxHead < member.outbox.length && member.ws.bufferedAmount <= SOCKET_QUEUE_BYTES) {
      const frame = member.outbox[member.outboxHead] as Uint8Array;
      member.outboxHead += 1;
      member.outboxBytes -= frame.length;
      member.ws.send(frame, { binary: true });
    }
    if (member.outboxHead < member.outbox.length) {
      member.flushPending = true;
      member.socket.once('drain', () => this.flushOutbox(member));
      return;
    }
    member.outbox.length = 0;
    member.outboxHead = 0;
    member.outboxBytes = 0;
  }

  private disconnect(member: Member, reason: DisconnectReason, code?: number, text?: string): void {
    if (!this.members.has(member.id)) return;
    this.metrics.disconnect(reason);
    this.log('info', 'member_disconnected', { member: member.id, room: member.roomId, reason });
    if (code === undefined) {
      // Destroyed with one shared error: thousands of small frames queued towards a slow receiver would
      // otherwise each build an error of their own (seconds of CPU in a flood).
      member.socket.destroy(CUT_OFF);
    } else {
      member.ws.close(code, text);
      // Do not wait for a misbehaving peer's close handshake.
      setTimeout(() => member.socket.destroy(CUT_OFF), 1_000).unref();
    }
    this.leave(member);
  }

  private beat(): void {
    for (const member of [...this.members.values()]) {
      // A replay that waited half a beat or more on a socket that flushed nothing: a receiver that does
      // not read, cut within one and a half beats of its last progress.
      if ((member.replay?.stalledForMs() ?? 0) >= this.limits.heartbeatMs / 2) {
        this.disconnect(member, 'slow_receiver');
        continue;
      }
      if (!member.alive) {
        this.disconnect(member, 'heartbeat');
        continue;
      }
      member.alive = false;
      member.ws.ping();
    }
    const refilledMs = this.nowMs() - this.limits.burstSeconds * 1000;
    for (const [roomId, emptied] of this.emptiedRooms) if (emptied.emptiedMs < refilledMs) this.emptiedRooms.delete(roomId);
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
