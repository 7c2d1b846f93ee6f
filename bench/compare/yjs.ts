/** Yjs behind the compared-system interface: one `Y.Map` in a `Y.Doc`, objects as nested `Y.Map`s (as crdt-benchmarks does). */
import * as Y from 'yjs';
import type { MapDoc, MapSystem, Value, Writer } from './system.js';
import { packageVersion } from './versions.js';

const VERSION = packageVersion('yjs');

class YjsDoc implements MapDoc {
  private readonly map: Y.Map<unknown>;

  constructor(readonly doc: Y.Doc) {
    this.map = doc.getMap('m');
  }

  async write(fill: (writer: Writer) => void): Promise<void> {
    const map = this.map;
    this.doc.transact(() =>
      fill({
        set(key, value) {
          if (typeof value === 'object') {
            const nested = new Y.Map<string>();
            nested.set('name', value.name);
            nested.set('address', value.address);
            map.set(key, nested);
          } else {
            map.set(key, value);
          }
        },
      }),
    );
  }

  async writePerCall(keys: readonly string[], from: number, to: number, awaitEach: boolean): Promise<void> {
    const map = this.map;
    const n = keys.length;
    if (awaitEach) {
      // Outside a transaction every map.set is a transaction of its own (observers run, an update is made).
      for (let i = from; i < to; i++) map.set(keys[i % n] as string, i);
      return;
    }
    this.doc.transact(() => {
      for (let i = from; i < to; i++) map.set(keys[i % n] as string, i);
    });
  }

  async catchUp(reader: MapDoc): Promise<{ bytes: number; messages: number; extra: string }> {
    const other = (reader as YjsDoc).doc;
    // Sync step 1 both ways (state vectors), sync step 2 both ways (the updates each lacks).
    const mine = Y.encodeStateVector(this.doc);
    const theirs = Y.encodeStateVector(other);
    const toReader = Y.encodeStateAsUpdate(this.doc, theirs);
    const toWriter = Y.encodeStateAsUpdate(other, mine);
    Y.applyUpdate(other, toReader);
    Y.applyUpdate(this.doc, toWriter);
    const v2 = Y.encodeStateAsUpdateV2(this.doc, theirs).byteLength + Y.encodeStateAsUpdateV2(other, mine).byteLength + mine.byteLength + theirs.byteLength;
    return { bytes: mine.byteLength + theirs.byteLength + toReader.byteLength + toWriter.byteLength, messages: 4, extra: `yjs with its v2 update encoding: ${v2} bytes` };
  }

  get(key: string): Value | undefined {
    const value = this.map.get(key);
    if (value instanceof Y.Map) return { name: value.get('name') as string, address: value.get('address') as string };
    return value as Value | undefined;
  }

  size(): number {
    return this.map.size;
  }

  version(): unknown {
    return Y.encodeStateVector(this.doc);
  }

  encodeState(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc);
  }

  encodeSince(version: unknown): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, version as Uint8Array);
  }

  async apply(update: Uint8Array): Promise<void> {
    Y.applyUpdate(this.doc, update);
  }

  async close(): Promise<void> {
    this.doc.destroy();
  }
}

function newDoc(client: number): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = client + 1; // deterministic, distinct per replica
  return doc;
}

/** Yjs as a compared system. */
export const yjsSystem: MapSystem = {
  name: 'yjs',
  version: VERSION,
  objectModel: 'nested Y.Map',
  async create(client) {
    return new YjsDoc(newDoc(client));
  },
  async load(state, client) {
    const doc = newDoc(client);
    Y.applyUpdate(doc, state);
    return new YjsDoc(doc);
  },
};
