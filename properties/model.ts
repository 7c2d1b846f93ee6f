/**
 * Arbitraries and an independent reference model for the core properties. The
 * reference fold is written here from the spec (LWW by wall, logical, replica,
 * then seq), not imported from src/core, so the properties check the core
 * against something it does not share code with.
 */
import fc from 'fast-check';
import type { JsonValue, Op, Replica, VersionVector } from '../src/core/index.js';

export const REPLICA_IDS = ['a', 'b', 'c'] as const;
export const KEYS = ['k0', 'k1', 'k2', 'k3'] as const;

/** A small JSON value (collisions in keys and timestamps are what matter). */
export const valueArb: fc.Arbitrary<JsonValue> = fc.oneof(fc.integer({ min: -3, max: 9 }), fc.constantFrom('x', 'y', ''), fc.constant(null), fc.record({ n: fc.nat(3) }), fc.array(fc.boolean(), { maxLength: 2 }));

/** One op with a small id space, so duplicates of ids, keys and timestamps (even within one replica) are common. */
export const opArb: fc.Arbitrary<Op> = fc
  .record({
    replica: fc.constantFrom(...REPLICA_IDS),
    seq: fc.integer({ min: 1, max: 6 }),
    wall: fc.integer({ min: 0, max: 12 }),
    logical: fc.integer({ min: 0, max: 2 }),
    key: fc.constantFrom(...KEYS),
    del: fc.boolean(),
    value: valueArb,
  })
  .map(({ del, value, ...rest }) => (del ? { ...rest, type: 'delete' } : { ...rest, type: 'set', value }) as Op);

/** A set of ops with distinct ids (two ops sharing an id would be an id conflict, tested elsewhere). */
export const opSetArb = fc.uniqueArray(opArb, { minLength: 0, maxLength: 30, selector: (op) => `${op.replica}:${op.seq}` });

/** The spec's merge order, written independently of src/core. */
export function referenceOrder(a: Op, b: Op): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  if (a.replica !== b.replica) return a.replica < b.replica ? -1 : 1;
  return a.seq - b.seq;
}

/** The visible state the spec says a set of ops folds to, sorted by key. */
export function referenceFold(ops: Iterable<Op>): [string, unknown][] {
  const winners = new Map<string, Op>();
  for (const op of ops) {
    const current = winners.get(op.key);
    if (current === undefined || referenceOrder(op, current) > 0) winners.set(op.key, op);
  }
  return [...winners.entries()]
    .filter(([, op]) => op.type === 'set')
    .map(([key, op]): [string, unknown] => [key, op.value])
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

/** The version vector of a set of ops: highest seq s per replica with 1..s all present. */
export function referenceVersionVector(ops: Iterable<Op>): VersionVector {
  const seqs = new Map<string, Set<number>>();
  for (const op of ops) {
    const set = seqs.get(op.replica) ?? new Set<number>();
    seqs.set(op.replica, set);
    set.add(op.seq);
  }
  const vv: Record<string, number> = {};
  for (const [replica, set] of seqs) {
    let s = 0;
    while (set.has(s + 1)) s += 1;
    if (s > 0) vv[replica] = s;
  }
  return vv;
}

/** A comparable snapshot of a replica: visible entries and version vector. */
export function view(replica: Replica): string {
  return JSON.stringify({ entries: replica.entries(), vv: sortedVv(replica.versionVector()) });
}

export function sortedVv(vv: VersionVector): Record<string, number> {
  return Object.fromEntries(Object.entries(vv).sort(([x], [y]) => (x < y ? -1 : 1)));
}
