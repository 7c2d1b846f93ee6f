/**
 * The Loro target: one `LoroDoc` per replica, the state is its `LoroMap('m')`.
 * Summaries are the oplog's encoded version vector (a delete is an op in
 * Loro, so the vector alone says whether a peer is up to date); payloads are
 * update exports from the peer's vector. Durable chunks are the updates of
 * each commit and of each import, loaded back with `importUpdateBatch`.
 */
import type * as LoroModule from 'loro-crdt';
import { DecodeError } from '../../core/errors.js';
import { optionalImport } from './optional-import.js';
import type { CrdtTarget, TargetOpenOptions, TargetReplica, TargetWrite, WriteReceipt } from './target.js';

type L = typeof LoroModule;

class LoroTargetReplica implements TargetReplica {
  private readonly map: LoroModule.LoroMap;

  constructor(
    private readonly loro: L,
    private readonly doc: LoroModule.LoroDoc,
    private readonly options: TargetOpenOptions,
  ) {
    this.map = doc.getMap('m');
  }

  async write(writes: readonly TargetWrite[]): Promise<WriteReceipt> {
    const before = this.doc.oplogVersion();
    for (const w of writes) {
      if (w.value === undefined) this.map.delete(w.key);
      else this.map.set(w.key, w.value);
    }
    this.doc.commit();
    const chunk = this.doc.export({ mode: 'update', from: before });
    before.free();
    await this.options.log.append(chunk);
    return {};
  }

  read(): Iterable<readonly [string, unknown]> {
    return this.map.entries() as [string, unknown][];
  }

  get(key: string): unknown {
    return this.map.get(key);
  }

  summary(): Uint8Array {
    const vv = this.doc.oplogVersion();
    const bytes = vv.encode();
    vv.free();
    return bytes;
  }

  payloadFor(peerSummary: Uint8Array | undefined): Uint8Array | undefined {
    if (peerSummary === undefined) return this.doc.export({ mode: 'update' });
    let peer: LoroModule.VersionVector;
    try {
      peer = this.loro.VersionVector.decode(peerSummary);
    } catch (error) {
      throw new DecodeError(`loro summary is not a version vector: ${(error as Error).message}`);
    }
    const mine = this.doc.oplogVersion();
    try {
      // The peer holds everything we do (or more): nothing to send.
      const order = mine.compare(peer);
      if (order !== undefined && order <= 0) return undefined;
      return this.doc.export({ mode: 'update', from: peer });
    } finally {
      mine.free();
      peer.free();
    }
  }

  async apply(payload: Uint8Array): Promise<void> {
    const before = this.doc.oplogVersion();
    try {
      this.doc.import(payload);
    } catch (error) {
      before.free();
      throw new DecodeError(`loro update does not import: ${(error as Error).message}`);
    }
    // What the import added (changes waiting for missing dependencies are not in the oplog yet, so not here).
    const chunk = this.doc.export({ mode: 'update', from: before });
    before.free();
    if (chunk.length > 0) void this.options.log.append(chunk);
  }

  crash(): void {
    this.doc.free();
  }
}

/** Loro peer ids are 64-bit: the incarnation's replica id (16 hex characters) as one. */
function peerIdOf(replicaId: string): bigint {
  return BigInt(`0x${replicaId}`);
}

/** The Loro adapter (`loro-crdt` is loaded on first use). */
export const loroTarget: CrdtTarget = {
  name: 'loro',
  semantics: 'own',
  async open(options) {
    const loro = await optionalImport<L>('loro-crdt', 'loro');
    const doc = new loro.LoroDoc();
    // Set before any change; commits record no timestamps (the default), so nothing reads the real clock.
    doc.setPeerId(peerIdOf(options.replicaId));
    if (options.durable.length > 0) {
      try {
        doc.importUpdateBatch([...options.durable]);
      } catch (error) {
        doc.free();
        throw new DecodeError(`loro durable log does not import: ${(error as Error).message}`);
      }
    }
    return new LoroTargetReplica(loro, doc, options);
  },
};
