/**
 * The Yjs target: one `Y.Doc` per replica, the state is its `Y.Map('m')`.
 * Summaries are encoded Yjs snapshots (state vector + delete set: a delete in
 * a Y.Map does not advance the state vector, so the vector alone cannot say a
 * peer is up to date); payloads are Yjs updates. Durable chunks are the
 * updates themselves (they commute, so replaying them in any order is fine).
 */
import type * as Yjs from 'yjs';
import { DecodeError } from '../../core/errors.js';
import { optionalImport } from './optional-import.js';
import type { CrdtTarget, TargetOpenOptions, TargetReplica, TargetWrite, WriteReceipt } from './target.js';

type Y = typeof Yjs;
const LOCAL = 'local';
const REMOTE = 'remote';

class YjsTargetReplica implements TargetReplica {
  private readonly map: Yjs.Map<unknown>;
  /** The update of the transaction that just ran, captured from the doc's `update` event. */
  private lastUpdate: Uint8Array | undefined;

  constructor(
    private readonly y: Y,
    private readonly doc: Yjs.Doc,
    private readonly options: TargetOpenOptions,
  ) {
    this.map = doc.getMap('m');
    doc.on('update', (update: Uint8Array) => {
      this.lastUpdate = update;
    });
  }

  async write(writes: readonly TargetWrite[]): Promise<WriteReceipt> {
    this.lastUpdate = undefined;
    this.doc.transact(() => {
      for (const w of writes) {
        if (w.value === undefined) this.map.delete(w.key);
        else this.map.set(w.key, w.value);
      }
    }, LOCAL);
    // A transaction that changed nothing (deleting an absent key) has nothing to store.
    if (this.lastUpdate !== undefined) await this.options.log.append(this.lastUpdate);
    return {};
  }

  read(): Iterable<readonly [string, unknown]> {
    return this.map.entries();
  }

  summary(): Uint8Array {
    return this.y.encodeSnapshot(this.y.snapshot(this.doc));
  }

  payloadFor(peerSummary: Uint8Array | undefined): Uint8Array | undefined {
    if (peerSummary === undefined) return this.y.encodeStateAsUpdate(this.doc);
    let peer: Yjs.Snapshot;
    try {
      peer = this.y.decodeSnapshot(peerSummary);
    } catch (error) {
      throw new DecodeError(`yjs summary is not a snapshot: ${(error as Error).message}`);
    }
    if (this.y.equalSnapshots(peer, this.y.snapshot(this.doc))) return undefined;
    return this.y.encodeStateAsUpdate(this.doc, this.y.encodeStateVector(peer.sv));
  }

  async apply(payload: Uint8Array): Promise<void> {
    this.lastUpdate = undefined;
    try {
      this.y.applyUpdate(this.doc, payload, REMOTE);
    } catch (error) {
      throw new DecodeError(`yjs update does not decode: ${(error as Error).message}`);
    }
    if (this.lastUpdate !== undefined) void this.options.log.append(this.lastUpdate);
  }

  crash(): void {
    this.doc.destroy();
  }
}

/** Yjs client ids are 32-bit: both halves of the incarnation's 64-bit replica id folded together. */
function clientIdOf(replicaId: string): number {
  return (Number.parseInt(replicaId.slice(0, 8), 16) ^ Number.parseInt(replicaId.slice(8, 16), 16)) >>> 0;
}

/** The Yjs adapter (`yjs` is loaded on first use). */
export const yjsTarget: CrdtTarget = {
  name: 'yjs',
  semantics: 'own',
  async open(options) {
    const y = await optionalImport<Y>('yjs', 'yjs');
    // The guid is fixed (a random one would come from the platform CSPRNG); the client id is set before any change.
    const doc = new y.Doc({ guid: 'tidelog-sim' });
    doc.clientID = clientIdOf(options.replicaId);
    for (const chunk of options.durable) y.applyUpdate(doc, chunk, REMOTE);
    return new YjsTargetReplica(y, doc, options);
  },
};
