/**
 * `EncryptedTransport`: a decorator that makes any {@link Transport} end-to-end
 * encrypted. Outgoing frames are sealed, incoming ones opened; anything that does
 * not open is dropped and counted, so the sync protocol above only ever sees
 * authentic plaintext and the transport below only ever sees ciphertext.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { CryptoFailedError, type CryptoFailureReason } from './errors.js';
import type { Transport, TransportListener } from '../sync/transport.js';
import type { Aead } from './aead.js';
import { EnvelopeOpener, EnvelopeSealer } from './envelope.js';
import { type RandomBytes, systemRandomBytes } from './random-bytes.js';
import type { RoomKey } from './room-key.js';
import { toBase64Url } from './base64url.js';

/** Options of {@link EncryptedTransport}. */
export interface EncryptedTransportOptions {
  /** The room key. */
  readonly key: RoomKey;
  /** This member's sender id; a random 12-character id by default (a fresh one per transport). */
  readonly senderId?: string;
  /** The AES-GCM engine; WebCrypto when present, else @noble/ciphers. */
  readonly aead?: Aead;
  /** Source of salts, nonces and the default sender id. */
  readonly randomBytes?: RandomBytes;
  /** Envelopes per subkey before rekeying (tests lower it). */
  readonly messagesPerKeyMax?: number;
  /** Plaintext bytes waiting to be sealed before further frames are dropped (and counted). Default 64 MiB. */
  readonly pendingBytesMax?: number;
  /** Called for every rejected incoming frame (for logs). */
  readonly onReject?: (error: CryptoFailedError) => void;
}

/** Counters of an {@link EncryptedTransport}. */
export interface EncryptedTransportStats {
  /** Frames sealed and handed to the inner transport. */
  readonly framesSealed: number;
  /** Incoming frames that opened and were delivered. */
  readonly framesOpened: number;
  /** Incoming frames dropped, by reason. */
  readonly framesRejected: Readonly<Partial<Record<CryptoFailureReason, number>>>;
  /** Outgoing frames dropped because too many bytes were waiting to be sealed. */
  readonly framesDroppedOutgoing: number;
  /** Frames whose delivery made the listener throw (the frame is lost; later frames still flow). */
  readonly listenerErrors: number;
}

/** A {@link Transport} that seals every frame it sends and opens every frame it receives. */
export class EncryptedTransport implements Transport {
  /** The sender id bound into this member's envelopes. */
  readonly senderId: string;
  private readonly sealer: EnvelopeSealer;
  private readonly opener: EnvelopeOpener;
  private readonly pendingBytesMax: number;
  private readonly onReject: ((error: CryptoFailedError) => void) | undefined;
  // Sealing and opening are asynchronous; one chain per direction keeps frames in order.
  private sendChain: Promise<void> = Promise.resolve();
  private receiveChain: Promise<void> = Promise.resolve();
  private pendingBytes = 0;
  private listener: TransportListener | undefined;
  private closed = false;
  private readonly counters = { framesSealed: 0, framesOpened: 0, framesDroppedOutgoing: 0, listenerErrors: 0 };
  private readonly rejected: Partial<Record<CryptoFailureReason, number>> = {};

  constructor(
    private readonly inner: Transport,
    options: EncryptedTransportOptions,
  ) {
    const randomBytes = options.randomBytes ?? systemRandomBytes;
    this.senderId = options.senderId ?? toBase64Url(randomBytes.bytes(9));
    const sealerOptions = { randomBytes, ...(options.aead === undefined ? {} : { aead: options.aead }) };
    this.sealer = new EnvelopeSealer(options.key, this.senderId, {
      ...sealerOptions,
      ...(options.messagesPerKeyMax === undefined ? {} : { messagesPerKeyMax: options.messagesPerKeyMax }),
    });
    this.opener = new EnvelopeOpener(options.key, options.aead === undefined ? {} : { aead: options.aead });
    this.pendingBytesMax = options.pendingBytesMax ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(this.pendingBytesMax) || this.pendingBytesMax < 1) throw new InvalidArgumentError('pendingBytesMax must be a positive integer');
    this.onReject = options.onReject;
  }

  /** Whether the inner transport is up. */
  get connected(): boolean {
    return !this.closed && this.inner.connected;
  }

  /** Counters for status displays and tests. */
  stats(): EncryptedTransportStats {
    return { ...this.counters, framesRejected: { ...this.rejected } };
  }

  /** Seals `bytes` and sends the envelope. Never throws; frames may be lost like on any transport. */
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.pendingBytes + bytes.length > this.pendingBytesMax) {
      this.counters.framesDroppedOutgoing += 1;
      return;
    }
    this.pendingBytes += bytes.length;
    const sealing = this.sealer.seal(bytes);
    this.sendChain = this.sendChain.then(async () => {
      try {
        const envelope = await sealing;
        if (!this.closed) {
          this.inner.send(envelope);
          this.counters.framesSealed += 1;
        }
      } catch {
        this.counters.framesDroppedOutgoing += 1;
      } finally {
        this.pendingBytes -= bytes.length;
      }
    });
  }

  /** Attaches the listener; `up`/`down` are delivered in order with the frames around them. */
  listen(listener: TransportListener): void {
    this.listener = listener;
    this.inner.listen({
      frame: (bytes) => this.receive(bytes),
      up: () => this.enqueue(() => this.listener?.up()),
      down: () => this.enqueue(() => this.listener?.down()),
    });
  }

  /** Waits until every frame handed to `send` went to the inner transport and every received one was delivered. */
  async flush(): Promise<void> {
    await this.sendChain;
    await this.receiveChain;
  }

  /** Stops delivering and closes the inner transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sendChain;
    this.closed = true;
    await this.inner.close();
  }

  private receive(bytes: Uint8Array): void {
    if (this.closed) return;
    const opening = this.opener.open(bytes, this.senderId).then(
      (opened) => opened.plaintext,
      (error: unknown) => {
        if (!(error instanceof CryptoFailedError)) throw error;
        return error;
      },
    );
    this.enqueue(async () => {
      const outcome = await opening;
      if (outcome instanceof CryptoFailedError) {
        this.rejected[outcome.reason] = (this.rejected[outcome.reason] ?? 0) + 1;
        this.onReject?.(outcome);
        return;
      }
      this.counters.framesOpened += 1;
      this.listener?.frame(outcome);
    });
  }

  private enqueue(step: () => void | Promise<void>): void {
    this.receiveChain = this.receiveChain.then(async () => {
      if (this.closed) return;
      try {
        await step();
      } catch {
        // A throwing listener must not stall the chain for every later frame.
        this.counters.listenerErrors += 1;
      }
    });
  }
}
