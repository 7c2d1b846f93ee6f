/**
 * Deliberately broken targets, to prove the target checks catch what they
 * claim to catch. Each wraps the real Tidelog adapter and breaks one thing.
 */
import { decodeOps } from '../../src/core/codec.js';
import type { CrdtTarget, TargetReplica, TargetWrite } from '../../src/sim/targets/target.js';
import { tidelogTarget } from '../../src/sim/targets/tidelog.js';
import { yjsTarget } from '../../src/sim/targets/yjs.js';

/**
 * Shows, for each key, whichever write reached this replica last (local writes and merged payloads in
 * arrival order) instead of the HLC winner: ties between concurrent writes are broken by arrival order.
 */
export const arrivalOrderTarget: CrdtTarget = {
  name: 'arrival-order',
  semantics: 'hlc-lww',
  async open(options) {
    const inner = await tidelogTarget.open(options);
    const shown = new Map<string, unknown>();
    const arrive = (key: string, value: unknown): void => {
      if (value === undefined) shown.delete(key);
      else shown.set(key, value);
    };
    for (const chunk of options.durable) for (const op of decodeOps(chunk)) arrive(op.key, op.value);
    const replica: TargetReplica = {
      async write(writes: readonly TargetWrite[]) {
        for (const w of writes) arrive(w.key, w.value);
        return inner.write(writes);
      },
      read: () => shown.entries(),
      summary: () => inner.summary(),
      payloadFor: (peer) => inner.payloadFor(peer),
      async apply(payload) {
        await inner.apply(payload);
        for (const op of decodeOps(payload)) arrive(op.key, op.value);
      },
    };
    return replica;
  },
};

/** `target`, acknowledging a write as soon as it is in memory: the durable append is started but not awaited. */
export function withAckBeforeStore(target: CrdtTarget): CrdtTarget {
  return {
    name: `ack-before-store(${target.name})`,
    semantics: target.semantics,
    open(options) {
      return target.open({
        ...options,
        log: {
          append(chunk) {
            void options.log.append(chunk);
            return Promise.resolve();
          },
        },
      });
    },
  };
}

/** The Tidelog adapter acknowledging before it stores. */
export const ackBeforeStoreTarget: CrdtTarget = withAckBeforeStore(tidelogTarget);

/** The Yjs adapter acknowledging before it stores (only convergence and acked-writes apply to it). */
export const yjsAckBeforeStoreTarget: CrdtTarget = withAckBeforeStore(yjsTarget);
