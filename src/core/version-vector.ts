/**
 * Version vectors: replica id -> highest contiguous sequence number held.
 * Plain frozen objects, so they serialize as JSON unchanged.
 */
import { MalformedOpError } from './errors.js';
import { REPLICA_ID_LENGTH_MAX, SEQ_MAX } from './op.js';

/** Replica id -> highest sequence number s such that ops 1..s of that replica are all held. */
export type VersionVector = Readonly<Record<string, number>>;

/** True when the holder of `vv` has the op (replica, seq). */
export function vvCovers(vv: VersionVector, replica: string, seq: number): boolean {
  return seq <= (vv[replica] ?? 0);
}

/** Element-wise maximum of two vectors. */
export function vvMerge(a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = { ...a };
  // for-in over these plain frozen records: Object.entries would allocate a pair per entry on every hot call.
  for (const replica in b) {
    const seq = b[replica] as number;
    if (seq > (out[replica] ?? 0)) out[replica] = seq;
  }
  return Object.freeze(out);
}

/** True when `a` has everything `b` has (a >= b element-wise). */
export function vvDominates(a: VersionVector, b: VersionVector): boolean {
  for (const replica in b) if ((b[replica] as number) > (a[replica] ?? 0)) return false;
  return true;
}

/** True when both vectors describe the same set of ops (zeros count as absent). */
export function vvEqual(a: VersionVector, b: VersionVector): boolean {
  return vvDominates(a, b) && vvDominates(b, a);
}

/** Total number of ops a vector describes. */
export function vvTotal(vv: VersionVector): number {
  let total = 0;
  for (const replica in vv) total += vv[replica] as number;
  return total;
}

/**
 * Checks that untrusted input is a version vector and returns a frozen copy.
 * @throws MalformedOpError
 */
export function validateVersionVector(input: unknown): VersionVector {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new MalformedOpError('version vector is not an object');
  const out: Record<string, number> = {};
  for (const [replica, seq] of Object.entries(input)) {
    if (replica.length === 0 || replica.length > REPLICA_ID_LENGTH_MAX) throw new MalformedOpError('version vector has an invalid replica id', { replica });
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || seq > SEQ_MAX) throw new MalformedOpError(`version vector entry for ${replica} is not a sequence number`, { replica });
    if (seq > 0) out[replica] = seq;
  }
  return Object.freeze(out);
}
