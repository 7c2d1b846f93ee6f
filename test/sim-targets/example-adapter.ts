/**
 * The minimal example adapter of docs/sim-targets.md: a last-writer-wins map
 * ordered by Lamport stamps, in about sixty lines. Its test runs it through
 * the simulator like the built-in targets.
 */
import type { CrdtTarget, TargetReplica, TargetWrite } from '../../src/sim/targets/target.js';

type Entry = { stamp: string; value: unknown }; // value null = deleted
const text = new TextEncoder();
const untext = new TextDecoder();
const toBytes = (value: unknown): Uint8Array => text.encode(JSON.stringify(value));
const fromBytes = <T>(bytes: Uint8Array): T => JSON.parse(untext.decode(bytes)) as T;

/** Last writer wins per key; stamps are `counter.replicaId` with a zero-padded Lamport counter. */
export const lamportMapTarget: CrdtTarget = {
  name: 'lamport-map',
  semantics: 'hlc-lww',
  async open({ replicaId, durable, log }) {
    const entries = new Map<string, Entry>();
    let counter = 0;
    const merge = (incoming: Record<string, Entry>): Record<string, Entry> => {
      const changed: Record<string, Entry> = {};
      for (const [key, entry] of Object.entries(incoming)) {
        counter = Math.max(counter, Number.parseInt(entry.stamp, 10));
        const mine = entries.get(key);
        if (mine === undefined || mine.stamp < entry.stamp) {
          entries.set(key, entry);
          changed[key] = entry;
        }
      }
      return changed;
    };
    for (const chunk of durable) merge(fromBytes(chunk));
    const replica: TargetReplica = {
      async write(writes: readonly TargetWrite[]) {
        const batch: Record<string, Entry> = {};
        const stamps = writes.map((w) => {
          counter += 1;
          const stamp = `${String(counter).padStart(12, '0')}.${replicaId}`;
          batch[w.key] = { stamp, value: w.value ?? null };
          return stamp;
        });
        merge(batch);
        await log.append(toBytes(batch)); // acknowledged once durable
        return { stamps };
      },
      read: () => [...entries].filter(([, e]) => e.value !== null).map(([key, e]) => [key, e.value] as const),
      summary: () => toBytes(Object.fromEntries([...entries].map(([key, e]) => [key, e.stamp]))),
      payloadFor(peerSummary) {
        const peer = peerSummary === undefined ? {} : fromBytes<Record<string, string>>(peerSummary);
        const missing = [...entries].filter(([key, e]) => (peer[key] ?? '') < e.stamp);
        return missing.length === 0 ? undefined : toBytes(Object.fromEntries(missing));
      },
      async apply(payload) {
        const changed = merge(fromBytes(payload));
        if (Object.keys(changed).length > 0) void log.append(toBytes(changed)); // kept, not promised to anyone
      },
    };
    return replica;
  },
};
