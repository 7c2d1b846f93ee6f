/** Loro behind the compared-system interface: one `LoroMap`, objects as nested `LoroMap` containers, one `commit()` per transaction. */
import { LoroDoc, LoroMap, VersionVector } from 'loro-crdt';
import type { MapDoc, MapSystem, Value, Writer } from './system.js';
import { packageVersion } from './versions.js';

const VERSION = packageVersion('loro-crdt');

class LoroMapDoc implements MapDoc {
  private readonly map: LoroMap;

  constructor(readonly doc: LoroDoc) {
    this.map = doc.getMap('m');
  }

  async write(fill: (writer: Writer) => void): Promise<void> {
    const map = this.map;
    fill({
      set(key, value) {
        if (typeof value === 'object') {
          const nested = map.setContainer(key, new LoroMap());
          nested.set('name', value.name);
          nested.set('address', value.address);
        } else {
          map.set(key, value);
        }
      },
    });
    this.doc.commit();
  }

  async writePerCall(keys: readonly string[], from: number, to: number, awaitEach: boolean): Promise<void> {
    const map = this.map;
    const doc = this.doc;
    const n = keys.length;
    if (awaitEach) {
      for (let i = from; i < to; i++) {
        map.set(keys[i % n] as string, i);
        doc.commit();
      }
      return;
    }
    for (let i = from; i < to; i++) map.set(keys[i % n] as string, i);
    doc.commit();
  }

  async catchUp(reader: MapDoc): Promise<{ bytes: number; messages: number }> {
    const other = (reader as LoroMapDoc).doc;
    const mine = this.doc.oplogVersion().encode();
    const theirs = other.oplogVersion().encode();
    const toReader = this.doc.export({ mode: 'update', from: VersionVector.decode(theirs) });
    const toWriter = other.export({ mode: 'update', from: VersionVector.decode(mine) });
    other.import(toReader);
    this.doc.import(toWriter);
    return { bytes: mine.byteLength + theirs.byteLength + toReader.byteLength + toWriter.byteLength, messages: 4 };
  }

  get(key: string): Value | undefined {
    const value = this.map.get(key);
    if (value instanceof LoroMap) return { name: value.get('name') as string, address: value.get('address') as string };
    return value as Value | undefined;
  }

  size(): number {
    return this.map.size;
  }

  version(): unknown {
    return this.doc.oplogVersion();
  }

  encodeState(): Uint8Array {
    return this.doc.export({ mode: 'snapshot' });
  }

  encodeSince(version: unknown): Uint8Array {
    return this.doc.export({ mode: 'update', from: version as VersionVector });
  }

  async apply(update: Uint8Array): Promise<void> {
    this.doc.import(update);
  }

  async close(): Promise<void> {
    this.doc.free();
  }
}

function newDoc(client: number): LoroDoc {
  const doc = new LoroDoc();
  doc.setPeerId(BigInt(client + 1));
  return doc;
}

/** Loro as a compared system. */
export const loroSystem: MapSystem = {
  name: 'loro',
  version: VERSION,
  objectModel: 'nested LoroMap container',
  async create(client) {
    return new LoroMapDoc(newDoc(client));
  },
  async load(state, client) {
    const doc = newDoc(client);
    doc.import(state);
    return new LoroMapDoc(doc);
  },
};
