/**
 * `WebSocketTransport`: the sync {@link Transport} over a relay room. Browser-safe:
 * it uses `globalThis.WebSocket` when present, or a constructor passed in (the `ws`
 * package in Node 20). It reconnects forever with exponential backoff and full
 * jitter, and reports `up` on every (re)connect so the session runs anti-entropy:
 * offline edits flow both ways without a frame queue that could grow without bound.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { type Random, randomFloat, systemRandom } from '../core/random.js';
import { type CancelTimer, type Scheduler, systemScheduler } from './scheduler.js';
import type { Transport, TransportListener } from './transport.js';

/** The part of the WebSocket API this transport uses (browsers and `ws` both have it). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from `ws`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Options of {@link WebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The room's URL: `ws(s)://relay/rooms/<roomId>`. */
  readonly url: string;
  /** The same room on other relays of the deployment, tried in turn after `url` whenever a connection fails or is lost. */
  readonly fallbackUrls?: readonly string[];
  /** The WebSocket implementation; `globalThis.WebSocket` by default. */
  readonly WebSocket?: WebSocketConstructor;
  /** Time and timers (backoff, connect timeout). Real ones by default. */
  readonly scheduler?: Scheduler;
  /** Jitter source. The platform CSPRNG by default. */
  readonly random?: Random;
  /** First reconnect delay. Default 250 ms. */
  readonly reconnectDelayMsMin?: number;
  /** Longest reconnect delay. Default 30 s. */
  readonly reconnectDelayMsMax?: number;
  /** A connection attempt not open after this is abandoned and retried. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Bytes queued in the socket beyond which frames are dropped (anti-entropy repairs). Default 64 MiB. */
  readonly bufferedBytesMax?: number;
  /** Told about every connection state change (for status displays and logs). */
  readonly onStateChange?: (state: WebSocketTransportState) => void;
}

/** Where the transport stands. */
export type WebSocketTransportState = 'connecting' | 'open' | 'waiting' | 'closed';

/** Counters of a {@link WebSocketTransport}. */
export interface WebSocketTransportStats {
  readonly state: WebSocketTransportState;
  /** Successful opens (the first connect and every reconnect). */
  readonly connects: number;
  /** Failed or lost connections. */
  readonly disconnects: number;
  readonly framesSent: number;
  readonly framesReceived: number;
  /** Frames not sent: offline, or over `bufferedBytesMax`. */
  readonly framesDropped: number;
  /** Text frames received and ignored (the relay only forwards binary). */
  readonly textFramesIgnored: number;
  /** Connection attempts in a row that failed since the socket was last open (0 while open). */
  readonly failedAttempts: number;
  /** The last failed or lost connection: which URL and why (`connect ECONNREFUSED ...`, a timeout), if any. */
  readonly lastFailure: { readonly url: string; readonly reason: string } | undefined;
}

/** The next reconnect delay: exponential in `attempt`, capped, with full jitter in [delay/2, delay]. */
export function reconnectDelayMs(attempt: number, minMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * randomFloat(random));
}

/** A {@link Transport} over one relay room, reconnecting on its own. */
export class WebSocketTransport implements Transport {
  private readonly Ctor: WebSocketConstructor;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly delayMsMin: number;
  private readonly delayMsMax: number;
  private readonly connectTimeoutMs: number;
  private readonly bufferedBytesMax: number;
  private readonly urls: readonly string[];
  private urlIndex = 0;
  private socket: WebSocketLike | undefined;
  private listener: TransportListener | undefined;
  private state: WebSocketTransportState = 'connecting';
  private attempt = 0;
  private cancelTimer: CancelTimer | undefined;
  private lastFailure: { url: string; reason: string } | undefined;
  private readonly counters = { connects: 0, disconnects: 0, framesSent: 0, framesReceived: 0, framesDropped: 0, textFramesIgnored: 0 };

  constructor(private readonly options: WebSocketTransportOptions) {
    this.urls = [options.url, ...(options.fallbackUrls ?? [])];
    for (const url of this.urls) if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new InvalidArgumentError('url must be a ws:// or wss:// URL', { url });
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Ctor === undefined) throw new InvalidArgumentError('no WebSocket here: pass one (in Node 20, `WebSocket` from the ws package, or use tidelog/node)');
    this.Ctor = Ctor;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.random = options.random ?? systemRandom;
    this.delayMsMin = options.reconnectDelayMsMin ?? 250;
    this.delayMsMax = options.reconnectDelayMsMax ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.bufferedBytesMax = options.bufferedBytesMax ?? 64 * 1024 * 1024;
    if (!(this.delayMsMin > 0 && this.delayMsMax >= this.delayMsMin)) throw new InvalidArgumentError('reconnect delays must satisfy 0 < min <= max');
    this.connect();
  }

  /** The URL of the current (or next) connection attempt. */
  get currentUrl(): string {
    return this.urls[this.urlIndex] as string;
  }

  /** Whether the socket is open. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /** Counters and the current state. */
  stats(): WebSocketTransportStats {
    return { state: this.state, ...this.counters, failedAttempts: this.state === 'open' ? 0 : this.attempt, lastFailure: this.lastFailure };
  }

  /** Sends a frame if the socket is open and not backed up; otherwise drops it (anti-entropy repairs on the next `up`). */
  send(bytes: Uint8Array): void {
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined || socket.bufferedAmount > this.bufferedBytesMax) {
      this.counters.framesDropped += 1;
      return;
    }
    socket.send(bytes);
    this.counters.framesSent += 1;
  }

  /** Attaches the listener; `up` follows at once if the socket is already open. */
  listen(listener: TransportListener): void {
    this.listener = listener;
    if (this.state === 'open') listener.up();
  }

  /** Closes the socket and stops reconnecting. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.setState('closed');
    this.cancelTimer?.();
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) {
      detach(socket);
      socket.close(1000, 'closed by client');
    }
  }

  /** Drops the current connection now (as a network failure would) and reconnects after the usual backoff. */
  reconnect(): void {
    if (this.state === 'closed' || this.socket === undefined) return;
    this.lost(this.socket);
  }

  private connect(): void {
    this.setState('connecting');
    let socket: WebSocketLike;
    try {
      socket = new this.Ctor(this.currentUrl);
    } catch (error) {
      this.lastFailure = { url: this.currentUrl, reason: (error as Error).message };
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    this.cancelTimer = this.scheduler.setTimer(this.connectTimeoutMs, () => this.lost(socket, `no answer within ${this.connectTimeoutMs} ms`));
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.cancelTimer?.();
      this.attempt = 0;
      this.counters.connects += 1;
      this.setState('open');
      this.listener?.up();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      const data = event.data;
      if (typeof data === 'string') {
        this.counters.textFramesIgnored += 1;
        return;
      }
      this.counters.framesReceived += 1;
      this.listener?.frame(toBytes(data));
    };
    socket.onclose = (event) => this.lost(socket, `closed${typeof (event as { code?: unknown })?.code === 'number' ? ` (${(event as { code: number }).code})` : ''}`);
    socket.onerror = (event) => this.lost(socket, errorText(event));
  }

  private lost(socket: WebSocketLike, reason = 'connection lost'): void {
    if (this.socket !== socket || this.state === 'closed') return;
    this.lastFailure = { url: this.currentUrl, reason };
    detach(socket);
    this.socket = undefined;
    this.cancelTimer?.();
    try {
      socket.close();
    } catch {
      // Closing a socket that never opened may throw in some implementations; it is gone either way.
    }
    this.counters.disconnects += 1;
    // Fail over: the next attempt goes to the next relay of the deployment, if there are several.
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    const wasOpen = this.state === 'open';
    this.scheduleReconnect();
    if (wasOpen) this.listener?.down();
  }

  private scheduleReconnect(): void {
    this.setState('waiting');
    const delayMs = reconnectDelayMs(this.attempt, this.delayMsMin, this.delayMsMax, this.random);
    this.attempt += 1;
    // Kept alive: without it a Node process whose relay is down would exit mid-await (status 13) instead of retrying.
    this.cancelTimer = this.scheduler.setTimer(
      delayMs,
      () => {
        if (this.state === 'waiting') this.connect();
      },
      { keepAlive: true },
    );
  }

  private setState(state: WebSocketTransportState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onStateChange?.(state);
  }
}

/** What an error event says: `ws` gives a message (`connect ECONNREFUSED 127.0.0.1:8080`); browsers say nothing. */
function errorText(event: unknown): string {
  const { message, error } = (event ?? {}) as { message?: unknown; error?: { message?: unknown } };
  if (typeof message === 'string' && message !== '') return message;
  if (typeof error?.message === 'string' && error.message !== '') return error.message;
  return 'connection failed';
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  // Not null: closing a socket that is still connecting makes `ws` emit an error, which must have a listener.
  socket.onerror = () => undefined;
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) {
    // `ws` hands fragmented messages as Buffer[] when binaryType is 'fragments'; join them.
    const parts = data as Uint8Array[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  return new Uint8Array(0);
}
