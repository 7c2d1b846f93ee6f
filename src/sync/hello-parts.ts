/**
 * Split hellos. A hello lists every replica id its sender knows (vector, horizon, tips, ranges past holes), so a
 * room with thousands of ids makes hellos larger than a relay forwards (5,000 ids: 1.35 MB against a 1 MiB frame
 * limit, and every session reconnected in a loop). A hello over `helloBytesMax` goes as parts instead, each carrying
 * the entries of a subset of the replicas in every field; the receiver joins the parts and acts on the whole hello.
 * A lost part leaves the hello unanswered, as a lost hello would be; the next one (at the latest the anti-entropy
 * tick) tries again.
 */
import { encodeMessage, HELLO_PARTS_MAX, type HelloMessage } from './messages.js';

/** Bytes a part's envelope (sender, recipient, field names) takes besides its entries, with room to spare. */
const PART_OVERHEAD_BYTES = 512;

type Ranges = Readonly<Record<string, readonly (readonly [number, number])[]>>;

/** The hello as frames of at most `bytesMax` bytes each: the hello itself when it fits, else parts of hello `id`. */
export function helloFrames(hello: HelloMessage, bytesMax: number, id: number): Uint8Array[] {
  const whole = encodeMessage(hello);
  if (whole.length <= bytesMax) return [whole];
  const replicas = [...new Set([...Object.keys(hello.versionVector), ...Object.keys(hello.horizon), ...Object.keys(hello.heldPastGaps ?? {})])].sort();
  // Greedy by an estimate of each replica's entries, then checked by encoding: halve the target until every part fits.
  for (let target = Math.max(1_024, bytesMax - PART_OVERHEAD_BYTES); target >= 64; target >>>= 1) {
    const groups = groupBySize(replicas, hello, target);
    if (groups.length > HELLO_PARTS_MAX) break;
    const frames = groups.map((group, index) => encodeMessage(helloPart(hello, group, { id, index, count: groups.length })));
    if (frames.every((frame) => frame.length <= bytesMax)) return frames;
  }
  // Cannot happen for ids of at most 128 characters and parts of at least 1 KiB; send the hello whole rather than nothing.
  return [whole];
}

function entryBytes(replica: string, hello: HelloMessage): number {
  return 3 * (replica.length + 6) + 40 + (hello.heldPastGaps?.[replica]?.length ?? 0) * 24;
}

function groupBySize(replicas: readonly string[], hello: HelloMessage, target: number): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let bytes = 0;
  for (const replica of replicas) {
    const size = entryBytes(replica, hello);
    if (group.length > 0 && bytes + size > target) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(replica);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function pick<V>(record: Readonly<Record<string, V>>, keys: readonly string[]): Record<string, V> {
  const out: Record<string, V> = {};
  for (const key of keys) if (record[key] !== undefined) out[key] = record[key] as V;
  return out;
}

function helloPart(hello: HelloMessage, replicas: readonly string[], part: NonNullable<HelloMessage['part']>): HelloMessage {
  const held = hello.heldPastGaps === undefined ? undefined : pick(hello.heldPastGaps as Ranges, replicas);
  return {
    type: 'hello',
    from: hello.from,
    ...(hello.to === undefined ? {} : { to: hello.to }),
    versionVector: pick(hello.versionVector, replicas),
    horizon: pick(hello.horizon, replicas),
    tips: pick(hello.tips, replicas),
    ...(held === undefined || Object.keys(held).length === 0 ? {} : { heldPastGaps: held }),
    replyWanted: hello.replyWanted,
    part,
  };
}

/** The parts of one split hello received so far from one peer. */
export interface PendingHello {
  readonly id: number;
  readonly to: string | undefined;
  readonly parts: (HelloMessage | undefined)[];
  received: number;
}

/**
 * Adds a received part to the peer's pending hello (`holder.hello`); returns the whole hello once its last part is
 * in. A part of another hello replaces the pending one (at most one per peer).
 */
export function addHelloPart(holder: { hello: PendingHello | undefined }, message: HelloMessage): HelloMessage | undefined {
  const part = message.part;
  if (part === undefined) return message;
  let pending = holder.hello;
  if (pending === undefined || pending.id !== part.id || pending.parts.length !== part.count || pending.to !== message.to) {
    pending = { id: part.id, to: message.to, parts: new Array(part.count).fill(undefined), received: 0 };
    holder.hello = pending;
  }
  if (pending.parts[part.index] !== undefined) return undefined;
  pending.parts[part.index] = message;
  pending.received += 1;
  if (pending.received < pending.parts.length) return undefined;
  holder.hello = undefined;
  return joinParts(pending.parts as HelloMessage[]);
}

function joinParts(parts: readonly HelloMessage[]): HelloMessage {
  const first = parts[0] as HelloMessage;
  const versionVector: Record<string, number> = {};
  const horizon: Record<string, number> = {};
  const tips: Record<string, readonly [number, number]> = {};
  const held: Record<string, readonly (readonly [number, number])[]> = {};
  let replyWanted = false;
  for (const part of parts) {
    Object.assign(versionVector, part.versionVector);
    Object.assign(horizon, part.horizon);
    Object.assign(tips, part.tips);
    if (part.heldPastGaps !== undefined) Object.assign(held, part.heldPastGaps);
    replyWanted ||= part.replyWanted;
  }
  return {
    type: 'hello',
    from: first.from,
    ...(first.to === undefined ? {} : { to: first.to }),
    versionVector: Object.freeze(versionVector),
    horizon: Object.freeze(horizon),
    tips,
    ...(Object.keys(held).length === 0 ? {} : { heldPastGaps: held }),
    replyWanted,
  };
}
