/**
 * Tidelog behind the compared-system interface: one `Replica` on `MemoryStorage`, updates and states encoded as
 * the bytes Tidelog puts on the wire: one sync `ops` frame (version 2: binary op block, keys and values as JSON).
 */
import { type Op, Replica, seededRandom, type VersionVector } from '../../src/core/index.js';
import { MemoryRoom } from '../../src/sync/memory-transport.js';
import { decodeMessage, encodeMessage } from '../../src/sync/messages.js';
import { SyncSession } from '../../src/sync/session.js';
import { vvDominates } from '../../src/core/version-vector.js';

function encodeOps(ops: readonly Op[]): Uint8Array {
  return encodeMessage({ type: 'ops', from: 'compare', ops });
}

function decodeOps(bytes: Uint8Array): readonly Op[] {
  const message = decodeMessage(bytes);
  if (message.type !== 'ops') throw new Error(`expected an ops frame, got ${message.type}`);
  return message.ops;
}
import type { MapDoc, MapSystem, Value, Writer } from './system.js';

/** A `Replica` as a compared-system replica. */
export class TidelogDoc implements MapDoc {
  constructor(readonly replica: Replica) {}

  async write(fill: (writer: Writer) => void): Promise<void> {
    // Each set is its own call, as an application makes them; group commit folds them into one append.
    let last: Promise<unknown> | undefined;
    const replica = this.replica;
    fill({
      set(key, value) {
        last = replica.set(key, value);
      },
    });
    await last;
  }

  async writePerCall(keys: readonly string[], from: number, to: number, awaitEach: boolean): Promise<void> {
    const replica = this.replica;
    const n = keys.length;
    if (awaitEach) {
      for (let i = from; i < to; i++) await replica.set(keys[i % n] as string, i);
      return;
    }
    let last: PromiseLike<unknown> | undefined;
    for (let i = from; i < to; i++) last = replica.set(keys[i % n] as string, i);
    await last;
  }

  async catchUp(reader: MapDoc): Promise<{ bytes: number; messages: number }> {
    const other = (reader as TidelogDoc).replica;
    const target = this.replica.versionVector();
    const room = new MemoryRoom();
    const writerSession = new SyncSession(this.replica, room.join());
    const readerSession = new SyncSession(other, room.join());
    const done = new Promise<void>((resolve) => {
      const unsubscribe = other.subscribeOps(() => {
        if (!vvDominates(other.versionVector(), target)) return;
        unsubscribe();
        resolve();
      });
    });
    writerSession.start();
    readerSession.start();
    await done;
    await Promise.all([writerSession.stop(), readerSession.stop()]);
    const a = writerSession.status();
    const b = readerSession.status();
    return { bytes: a.bytesSent + b.bytesSent, messages: a.framesSent + b.framesSent };
  }

  get(key: string): Value | undefined {
    return this.replica.get(key) as Value | undefined;
  }

  size(): number {
    return this.replica.size;
  }

  version(): unknown {
    return this.replica.versionVector();
  }

  encodeState(): Uint8Array {
    return encodeOps(this.replica.opsSince({}));
  }

  encodeSince(version: unknown): Uint8Array {
    return encodeOps(this.replica.opsSince(version as VersionVector));
  }

  async apply(update: Uint8Array): Promise<void> {
    await this.replica.applyRemote(decodeOps(update));
  }

  close(): Promise<void> {
    return this.replica.close();
  }

  async encodeCompacted(): Promise<Uint8Array> {
    await this.replica.compact({ retainOps: 0 });
    return encodeOps(this.replica.opsSince({}));
  }
}

/**
 * Opens a Tidelog replica with a deterministic id derived from `client`. It keeps every op (no automatic
 * compaction), as Automerge and Loro keep their history: the workloads measure ops with history; the
 * cold-open variants show what the default policy does.
 */
export async function openTidelog(client: number): Promise<Replica> {
  return Replica.open({ random: seededRandom(client + 1), heldOpsMax: Number.POSITIVE_INFINITY });
}

/** Tidelog as a compared system. */
export const tidelogSystem: MapSystem = {
  name: 'tidelog',
  version: 'tidelog (this checkout)',
  objectModel: 'JSON value (the whole object is one LWW value)',
  async create(client) {
    return new TidelogDoc(await openTidelog(client));
  },
  async load(state, client) {
    const doc = new TidelogDoc(await openTidelog(client));
    await doc.apply(state);
    return doc;
  },
};
