/**
 * The one interface every compared system sits behind, so each workload is
 * written once and runs unchanged on Tidelog, Yjs, Automerge and Loro.
 */

/** A user-data object, as crdt-benchmarks B3.2 writes it (a type, not an interface: it must extend JsonValue). */
export type UserObject = {
  readonly name: string;
  readonly address: string;
};

/** The values the workloads write: numbers, strings and small objects. */
export type Value = number | string | UserObject;

/** Collects the writes of one transaction. */
export interface Writer {
  /** Sets `key` to `value` (objects become nested maps where the system has them). */
  set(key: string, value: Value): void;
}

/** One replica of a key-value map in some system. */
export interface MapDoc {
  /** Runs `fill` as one transaction / commit; resolves once the system considers it committed. */
  write(fill: (writer: Writer) => void): Promise<void>;
  /** The visible value of `key`, objects normalized to plain `{ name, address }`. */
  get(key: string): Value | undefined;
  /** Number of keys with a value. */
  size(): number;
  /** An opaque version marker, for `encodeSince`. */
  version(): unknown;
  /** The whole state (with whatever history the system keeps) as bytes. */
  encodeState(): Uint8Array;
  /** The changes made after `version` as bytes. */
  encodeSince(version: unknown): Uint8Array;
  /** Merges bytes produced by another replica's `encodeState`/`encodeSince`. */
  apply(update: Uint8Array): Promise<void>;
  /** Releases the replica. */
  close(): Promise<void>;
  /**
   * The per-call pattern (a \`set\` per call, as an application makes them): op i sets \`keys[i % keys.length]\` to
   * \`i\`, for i in from..to-1. \`awaitEach\` false: nothing is awaited but the last write (the other systems get
   * every write in one transaction / change / commit, the cheapest way they can take N separate calls);
   * true: every write awaited, or committed, on its own (Yjs: \`map.set\` outside a transaction, Loro: \`set\` then
   * \`commit()\`, Automerge: one \`change\` per write).
   */
  writePerCall(keys: readonly string[], from: number, to: number, awaitEach: boolean): Promise<void>;
  /**
   * Brings `reader` (a replica of the same system) up to date with this one through the system's own sync
   * exchange, every message encoded and decoded as it would be on a network: Tidelog two \`SyncSession\`s over a
   * \`MemoryRoom\`; Yjs sync steps 1 and 2 of y-protocols (state vectors, then \`encodeStateAsUpdate\` from the
   * other's vector); Loro the version vectors then \`export({ mode: 'update', from })\`; Automerge its sync
   * protocol (\`generateSyncMessage\` / \`receiveSyncMessage\` until both are done). Resolves with the bytes and
   * messages that crossed, both ways. \`extra\` gives another encoding's bytes where a system has one (Yjs v2).
   */
  catchUp(reader: MapDoc): Promise<{ readonly bytes: number; readonly messages: number; readonly extra?: string }>;
  /** Tidelog only: compacts away the history and encodes what is left (winners of each key). */
  encodeCompacted?(): Promise<Uint8Array>;
}

/** A compared system: builds replicas, empty or from saved bytes. */
export interface MapSystem {
  /** Short name used in tables and charts. */
  readonly name: SystemName;
  /** Library and version, for the report. */
  readonly version: string;
  /** A new empty replica; `client` (0, 1, 2...) gives each replica a distinct, deterministic actor id. */
  create(client: number): Promise<MapDoc>;
  /** A replica loaded from `encodeState` bytes. */
  load(state: Uint8Array, client: number): Promise<MapDoc>;
  /** How objects are stored, for the report. */
  readonly objectModel: string;
}

/** The systems compared, Tidelog first (ratios are Tidelog ÷ other). */
export const SYSTEM_NAMES = ['tidelog', 'yjs', 'automerge', 'loro'] as const;

/** One of {@link SYSTEM_NAMES}. */
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** Structural equality of two workload values. */
export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  return a.name === b.name && a.address === b.address;
}
