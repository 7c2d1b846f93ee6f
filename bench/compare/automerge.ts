/**
 * Automerge behind the compared-system interface: the document root is the map.
 * Strings are written as `ImmutableString` (a last-writer-wins scalar, like the
 * other systems' strings) rather than collaborative text, which would be slower
 * and not what a key-value map holds; objects are nested maps.
 */
import * as A from '@automerge/automerge';
import type { MapDoc, MapSystem, Value, Writer } from './system.js';
import { packageVersion } from './versions.js';

const VERSION = packageVersion('@automerge/automerge');

type Root = Record<string, unknown>;

function actorOf(client: number): string {
  return (client + 1).toString(16).padStart(16, '0');
}

function toScalar(value: Value): unknown {
  if (typeof value === 'string') return new A.ImmutableString(value);
  if (typeof value === 'object') return { name: new A.ImmutableString(value.name), address: new A.ImmutableString(value.address) };
  return value;
}

function fromStored(value: unknown): Value | undefined {
  if (value === undefined || typeof value === 'number') return value;
  if (A.isImmutableString(value)) return value.toString();
  if (typeof value === 'string') return value;
  const object = value as { name: unknown; address: unknown };
  return { name: String(object.name), address: String(object.address) };
}

class AutomergeDoc implements MapDoc {
  constructor(public doc: A.Doc<Root>) {}

  async write(fill: (writer: Writer) => void): Promise<void> {
    this.doc = A.change(this.doc, (root) =>
      fill({
        set(key, value) {
          root[key] = toScalar(value);
        },
      }),
    );
  }

  async writePerCall(keys: readonly string[], from: number, to: number, awaitEach: boolean): Promise<void> {
    const n = keys.length;
    if (awaitEach) {
      for (let i = from; i < to; i++) {
        this.doc = A.change(this.doc, (root) => {
          root[keys[i % n] as string] = i;
        });
      }
      return;
    }
    this.doc = A.change(this.doc, (root) => {
      for (let i = from; i < to; i++) root[keys[i % n] as string] = i;
    });
  }

  async catchUp(reader: MapDoc): Promise<{ bytes: number; messages: number }> {
    const other = reader as AutomergeDoc;
    let mine = A.initSyncState();
    let theirs = A.initSyncState();
    let bytes = 0;
    let messages = 0;
    for (let round = 0; round < 1_000; round++) {
      const [nextMine, toReader] = A.generateSyncMessage(this.doc, mine);
      mine = nextMine;
      if (toReader !== null) {
        bytes += toReader.byteLength;
        messages += 1;
        [other.doc, theirs] = A.receiveSyncMessage(other.doc, theirs, toReader);
      }
      const [nextTheirs, toWriter] = A.generateSyncMessage(other.doc, theirs);
      theirs = nextTheirs;
      if (toWriter !== null) {
        bytes += toWriter.byteLength;
        messages += 1;
        [this.doc, mine] = A.receiveSyncMessage(this.doc, mine, toWriter);
      }
      if (toReader === null && toWriter === null) return { bytes, messages };
    }
    throw new Error('automerge sync did not finish in 1,000 rounds');
  }

  get(key: string): Value | undefined {
    return fromStored(this.doc[key]);
  }

  size(): number {
    return Object.keys(this.doc).length;
  }

  version(): unknown {
    return A.getHeads(this.doc);
  }

  encodeState(): Uint8Array {
    return A.save(this.doc);
  }

  encodeSince(version: unknown): Uint8Array {
    return A.saveSince(this.doc, version as A.Heads);
  }

  async apply(update: Uint8Array): Promise<void> {
    this.doc = A.loadIncremental(this.doc, update);
  }

  async close(): Promise<void> {
    A.free(this.doc);
  }
}

/** Automerge as a compared system. */
export const automergeSystem: MapSystem = {
  name: 'automerge',
  version: VERSION,
  objectModel: 'nested map of ImmutableString',
  async create(client) {
    return new AutomergeDoc(A.init<Root>({ actor: actorOf(client) }));
  },
  async load(state, client) {
    return new AutomergeDoc(A.load<Root>(state, { actor: actorOf(client) }));
  },
};
