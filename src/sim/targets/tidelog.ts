/**
 * The Tidelog target: a real `Replica` on a volatile `MemoryStorage`, whose
 * ops become durable as encoded op batches in the harness's log. Payloads are
 * op batches (`encodeOps`); summaries are version vectors (JSON).
 */
import { DecodeError } from '../../core/errors.js';
import { decodeOps, encodeOps } from '../../core/codec.js';
import { MemoryStorage } from '../../core/memory-storage.js';
import type { JsonValue } from '../../core/json.js';
import type { Op, OpInput } from '../../core/op.js';
import { Replica } from '../../core/replica.js';
import type { CrdtTarget, TargetOpenOptions, TargetReplica, TargetWrite, WriteReceipt } from './target.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A string that sorts like `compareOps` (wall, logical, replica, seq): the receipt stamp of an op. */
export function opStamp(op: Op): string {
  return `${op.wall.toString().padStart(16, '0')}.${op.logical.toString().padStart(10, '0')}.${op.replica}.${op.seq.toString().padStart(10, '0')}`;
}

function toInput(write: TargetWrite): OpInput<JsonValue> {
  return write.value === undefined ? { type: 'delete', key: write.key } : { type: 'set', key: write.key, value: write.value };
}

function parseVector(summary: Uint8Array): Record<string, number> {
  try {
    return JSON.parse(decoder.decode(summary)) as Record<string, number>;
  } catch (error) {
    throw new DecodeError(`tidelog summary is not a JSON version vector: ${(error as Error).message}`);
  }
}

class TidelogTargetReplica implements TargetReplica {
  constructor(
    private readonly replica: Replica,
    private readonly options: TargetOpenOptions,
  ) {}

  async write(writes: readonly TargetWrite[]): Promise<WriteReceipt> {
    if (writes.length === 0) return { stamps: [] };
    const ops = await this.replica.batch(writes.map(toInput));
    // Acknowledged only once the batch is in the durable log: the replica's own storage is volatile here.
    await this.options.log.append(encodeOps(ops));
    return { stamps: ops.map(opStamp) };
  }

  read(): Iterable<readonly [string, unknown]> {
    return this.replica.entries();
  }

  summary(): Uint8Array {
    return encoder.encode(JSON.stringify(this.replica.versionVector()));
  }

  payloadFor(peerSummary: Uint8Array | undefined): Uint8Array | undefined {
    const ops = this.replica.opsSince(peerSummary === undefined ? {} : parseVector(peerSummary));
    return ops.length === 0 ? undefined : encodeOps(ops);
  }

  async apply(payload: Uint8Array): Promise<void> {
    const ops = decodeOps(payload);
    const result = await this.replica.applyRemote(ops);
    // Merged ops are kept too (not awaited: nobody was promised them), so a restart need not fetch them again.
    if (result.applied > 0) void this.options.log.append(payload);
  }
}

/** The Tidelog adapter. */
export const tidelogTarget: CrdtTarget = {
  name: 'tidelog',
  semantics: 'hlc-lww',
  async open(options) {
    // A drift bound wider than any two honest clocks of the run differ (the run's skews and jumps model clocks that
    // are wrong within tolerance), 5 minutes on top, as Tidelog's own harness sets it.
    const maxDriftMs = 2 * options.clockErrorMsMax + 300_000;
    const replica = await Replica.open({ replicaId: options.replicaId, storage: new MemoryStorage(), clock: options.clock, random: options.random, maxDriftMs });
    // Everything durable comes back as remote ops: earlier incarnations wrote under other ids.
    const ops = options.durable.flatMap((chunk) => decodeOps(chunk));
    if (ops.length > 0) await replica.applyRemote(ops);
    return new TidelogTargetReplica(replica, options);
  },
};
