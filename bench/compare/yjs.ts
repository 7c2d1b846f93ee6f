/** Yjs behind the compared-system interface: one `Y.Map` in a `Y.Doc`, objects as nested `Y.Map`s (as crdt-benchmarks does). */
import * as Y from 'yjs';
import type { MapDoc, MapSystem, Value, Writer } from './system.js';
import { packageVersion } from './versions.js';

const VERSION = packageVersion('yjs');

class YjsDoc implements MapDoc {
  private readonly map: Y.Map<unknown>;

  constructor(private readonly doc: Y.Doc) {
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
