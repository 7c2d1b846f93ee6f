/**
 * Comparing two replicas' visible states (key to value), for every harness:
 * a canonical text to test equality cheaply, and a short description of how
 * two states differ for a finding.
 */

/** A visible state: every present key and its value. */
export type VisibleState = ReadonlyMap<string, unknown>;

/** Canonical JSON of a state: `[key, value]` pairs sorted by key. */
export function stateJson(state: VisibleState): string {
  return JSON.stringify([...state.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** The state a canonical JSON text (from {@link stateJson} or `Replica.entries`) describes. */
export function stateFromJson(json: string): Map<string, unknown> {
  return new Map(JSON.parse(json) as [string, unknown][]);
}

/** `3 keys differ, e.g. k1: 4 vs absent; ...`: the keys whose values differ between `a` and `b`, sorted, the first three shown. */
export function describeStateDiff(a: VisibleState | undefined, b: VisibleState | undefined): string {
  const show = (state: VisibleState | undefined, key: string): string => JSON.stringify(state?.get(key)) ?? 'absent';
  const keys = [...new Set([...(a?.keys() ?? []), ...(b?.keys() ?? [])])].sort().filter((key) => show(a, key) !== show(b, key));
  return `${keys.length} keys differ, e.g. ${keys.slice(0, 3).map((key) => `${key}: ${show(a, key)} vs ${show(b, key)}`).join('; ')}`;
}
