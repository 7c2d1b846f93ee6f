/** Deterministic data shared by the workloads: key names, how a doc is filled, and what it must then hold. */
import { expect } from './measure.js';
import type { MapDoc, Value } from './system.js';

/** Ops per transaction / commit in every write loop, for every system. */
export const CHUNK_OPS = 1000;

const keyCache: string[] = [];

/** `k0`, `k1`, ... precomputed, so building key strings is not part of what is timed. */
export function keyNames(count: number): readonly string[] {
  for (let i = keyCache.length; i < count; i++) keyCache.push(`k${i}`);
  return keyCache;
}

/** Writes ops `from`..`to`-1: op i sets key i mod `keyCount` to the number `valueBase + i`, in transactions of {@link CHUNK_OPS}. */
export async function writeSets(doc: MapDoc, from: number, to: number, keyCount: number, valueBase = 0): Promise<void> {
  const keys = keyNames(keyCount);
  for (let start = from; start < to; start += CHUNK_OPS) {
    const end = Math.min(start + CHUNK_OPS, to);
    await doc.write((writer) => {
      for (let i = start; i < end; i++) writer.set(keys[i % keyCount] as string, valueBase + i);
    });
  }
}

/** The value `writeSets(doc, 0, ops, keyCount)` leaves at key index `k` (the last op that wrote it). */
export function lastWrite(ops: number, keyCount: number, k: number): number | undefined {
  if (k >= ops) return undefined;
  return k + keyCount * Math.floor((ops - 1 - k) / keyCount);
}

/** Checks every key after `writeSets(doc, 0, ops, keyCount)`: a doc missing or misplacing one value fails. */
export function checkSets(doc: MapDoc, ops: number, keyCount: number): void {
  const keys = keyNames(keyCount);
  const live = Math.min(ops, keyCount);
  expect(doc.size() === live, `expected ${live} keys, found ${doc.size()}`);
  for (let k = 0; k < live; k++) {
    const got = doc.get(keys[k] as string);
    const want = lastWrite(ops, keyCount, k);
    expect(got === want, `key ${keys[k]}: expected ${want}, found ${String(got)}`);
  }
}

/** Checks a doc against an explicit model (key -> value). */
export function checkModel(doc: MapDoc, model: ReadonlyMap<string, Value>): void {
  expect(doc.size() === model.size, `expected ${model.size} keys, found ${doc.size()}`);
  for (const [key, want] of model) {
    const got = doc.get(key);
    expect(got === want, `key ${key}: expected ${String(want)}, found ${String(got)}`);
  }
}

/** Reads every key a doc should hold after `writeSets(doc, 0, ops, keyCount)` and returns how many matched: the timed "state is readable" step, so a lazily decoding system pays for its decode inside the timing. */
export function readAll(doc: MapDoc, ops: number, keyCount: number): number {
  const keys = keyNames(keyCount);
  const live = Math.min(ops, keyCount);
  let matched = 0;
  for (let k = 0; k < live; k++) if (doc.get(keys[k] as string) === lastWrite(ops, keyCount, k)) matched += 1;
  return matched;
}
