/**
 * Encryption at rest: a {@link Storage} decorator that seals every batch (and the
 * snapshot's winners) with the room key before the inner storage sees it. It works
 * over any adapter (file log, IndexedDB, memory) because it stays at the op level:
 * each stored op keeps its id and timestamp in the clear (the adapters need ids to
 * drop batches a snapshot covers), while keys, values and op types move into one
 * AES-256-GCM envelope per batch, carried by the batch's first op. The envelope's
 * associated data binds the ids of all ops of the batch, so sealed payloads cannot be
 * swapped between batches.
 */
import { StorageCorruptError } from '../core/errors.js';
import type { JsonValue } from '../core/json.js';
import { type Op, validateOp } from '../core/op.js';
import type { Snapshot, Storage, StorageMeta, StoredLog } from '../core/storage.js';
import type { Aead } from './aead.js';
import { fromBase64Url, toBase64Url } from './base64url.js';
import { EnvelopeOpener, EnvelopeSealer } from './envelope.js';
import type { RandomBytes } from './random-bytes.js';
import type { RoomKey } from './room-key.js';

/** Prefix of the carrier value: names the format, so plaintext data is told apart. */
export const AT_REST_PREFIX = 'tidelog-at-rest-1:';
/** Key of every carrier op (the real keys are inside the envelope). */
const CARRIER_KEY = '~';
const AT_REST_SENDER = 'at-rest';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Options of {@link EncryptedStorage}. */
export interface EncryptedStorageOptions {
  /** The AES-GCM engine; WebCrypto when present, else @noble/ciphers. */
  readonly aead?: Aead;
  /** Source of salts and nonces. */
  readonly randomBytes?: RandomBytes;
}

/** Wraps `inner` so that everything it stores about keys and values is ciphertext. */
export class EncryptedStorage implements Storage {
  private readonly sealer: EnvelopeSealer;
  private readonly opener: EnvelopeOpener;

  constructor(
    private readonly inner: Storage,
    key: RoomKey,
    options: EncryptedStorageOptions = {},
  ) {
    // Same room secret, its own derived key: at-rest and sync envelopes never share a key.
    const atRest: RoomKey = { ...key, envelopeKey: key.atRestKey };
    const engine = options.aead === undefined ? {} : { aead: options.aead };
    this.sealer = new EnvelopeSealer(atRest, AT_REST_SENDER, { ...engine, ...(options.randomBytes === undefined ? {} : { randomBytes: options.randomBytes }) });
    this.opener = new EnvelopeOpener(atRest, engine);
  }

  /** Loads and decrypts. @throws WrongKeyError (another key), StorageCorruptError (plaintext or damaged data) */
  async load(): Promise<StoredLog> {
    const stored = await this.inner.load();
    const snapshot = stored.snapshot === undefined ? undefined : { ...stored.snapshot, winners: await this.openOps(stored.snapshot.winners) };
    const batches = stored.batches;
    const open = (batch: readonly Op[]) => this.openOps(batch);
    async function* decrypted(): AsyncIterable<readonly Op[]> {
      for await (const batch of batches) yield await open(batch);
    }
    return { meta: stored.meta, snapshot, batches: decrypted() };
  }

  /** Seals the batch, then appends it. */
  async append(batch: readonly Op[]): Promise<void> {
    await this.inner.append(await this.sealOps(batch));
  }

  /** Seals the winners, then writes the snapshot. */
  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    await this.inner.writeSnapshot({ ...snapshot, winners: await this.sealOps(snapshot.winners) });
  }

  /** Metadata (the replica id) stays in the clear. */
  writeMeta(meta: StorageMeta): Promise<void> {
    return this.inner.writeMeta(meta);
  }

  /** Closes the inner storage. */
  close(): Promise<void> {
    return this.inner.close();
  }

  private async sealOps(ops: readonly Op[]): Promise<Op[]> {
    if (ops.length === 0) return [];
    const rows = ops.map((op) => (op.type === 'set' ? [op.key, op.value] : [op.key]));
    const envelope = await this.sealer.seal(encoder.encode(JSON.stringify(rows)), idsOf(ops));
    return ops.map((op, i) => {
      const ids = { replica: op.replica, seq: op.seq, wall: op.wall, logical: op.logical, key: CARRIER_KEY };
      return Object.freeze(i === 0 ? { ...ids, type: 'set' as const, value: AT_REST_PREFIX + toBase64Url(envelope) } : { ...ids, type: 'delete' as const });
    });
  }

  private async openOps(carriers: readonly Op[]): Promise<Op[]> {
    if (carriers.length === 0) return [];
    const first = carriers[0] as Op;
    if (first.type !== 'set' || typeof first.value !== 'string' || !first.value.startsWith(AT_REST_PREFIX)) {
      throw new StorageCorruptError('a stored batch is not sealed: was this database written without encryption at rest?', { replica: first.replica, seq: first.seq });
    }
    const envelope = fromBase64Url(first.value.slice(AT_REST_PREFIX.length));
    const { plaintext } = await this.opener.open(envelope, undefined, idsOf(carriers));
    let rows: unknown;
    try {
      rows = JSON.parse(decoder.decode(plaintext));
    } catch {
      throw new StorageCorruptError('a sealed batch does not hold JSON', { replica: first.replica, seq: first.seq });
    }
    if (!Array.isArray(rows) || rows.length !== carriers.length) throw new StorageCorruptError('a sealed batch does not match its ops', { replica: first.replica, seq: first.seq });
    return carriers.map((carrier, i) => {
      const row = rows[i] as unknown[];
      const ids = { replica: carrier.replica, seq: carrier.seq, wall: carrier.wall, logical: carrier.logical, key: row?.[0] };
      try {
        return validateOp(Array.isArray(row) && row.length === 2 ? { ...ids, type: 'set', value: row[1] as JsonValue } : { ...ids, type: 'delete' }, i);
      } catch (error) {
        throw new StorageCorruptError(`a sealed batch holds a malformed op: ${(error as Error).message}`, { replica: carrier.replica, seq: carrier.seq });
      }
    });
  }
}

/** The ids and timestamps of a batch, bound into its envelope as associated data. */
function idsOf(ops: readonly Op[]): Uint8Array {
  return encoder.encode(JSON.stringify(ops.map((op) => [op.replica, op.seq, op.wall, op.logical])));
}
