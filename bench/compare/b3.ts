/**
 * (c) The crdt-benchmarks map workloads (dmonad/crdt-benchmarks B3.1-B3.3): C
 * clients concurrently set one key of one map to a number, a user object or a
 * string; a fresh replica then merges every client's update, one update at a
 * time. Checked: the merged key holds one of the written values, and a second
 * replica that merged the updates in reverse order holds the same one.
 */
import { measured, type RunContext, recorded } from './figures.js';
import { expect } from './measure.js';
import { type MapDoc, type MapSystem, sameValue, type Value } from './system.js';

/** The three map variants, as crdt-benchmarks names them. */
export const B3_VARIANTS = [
  { id: 'b3.1-number', title: '[B3.1] clients concurrently set number in Map' },
  { id: 'b3.2-object', title: '[B3.2] clients concurrently set Object in Map' },
  { id: 'b3.3-string', title: '[B3.3] clients concurrently set String in Map' },
] as const;

type Variant = (typeof B3_VARIANTS)[number];

function clientValue(variant: Variant, client: number, clients: number): Value {
  if (variant.id === 'b3.1-number') return client;
  if (variant.id === 'b3.2-object') return { name: String(client), address: 'here' };
  // crdt-benchmarks repeats the client number sqrt(N) times.
  return String(client).repeat(Math.floor(Math.sqrt(clients)));
}

async function clientUpdates(system: MapSystem, variant: Variant, clients: number): Promise<Uint8Array[]> {
  const updates: Uint8Array[] = [];
  for (let c = 0; c < clients; c++) {
    const doc = await system.create(c + 1);
    const origin = doc.version();
    await doc.write((w) => w.set('v', clientValue(variant, c, clients)));
    updates.push(doc.encodeSince(origin));
    await doc.close();
  }
  return updates;
}

async function mergeAll(doc: MapDoc, updates: readonly Uint8Array[], reverse: boolean): Promise<void> {
  if (reverse) for (let i = updates.length - 1; i >= 0; i--) await doc.apply(updates[i] as Uint8Array);
  else for (const update of updates) await doc.apply(update);
}

/** Runs one B3 variant with `clients` clients on one system: merge time, update bytes, doc bytes, parse time. */
export async function runB3(ctx: RunContext, system: MapSystem, variant: Variant, clients: number): Promise<void> {
  const base = { group: `c-${variant.id}`, system: system.name, axis: 'clients', x: clients, ops: clients } as const;
  if (ctx.budget.skipReason(`${base.group}/merge/${system.name}/clients`, clients) !== undefined) {
    // `measured` sees the same budget verdict and records the skip; the plan never runs.
    await measured(ctx, { ...base, metric: 'merge' }, { setup: async () => undefined, run: async () => undefined, check: () => undefined });
    return;
  }
  const updates = await clientUpdates(system, variant, clients);
  const reference = await system.create(clients + 1);
  await mergeAll(reference, updates, true);
  const winner = reference.get('v');
  const written = new Set<string>();
  for (let c = 0; c < clients; c++) written.add(JSON.stringify(clientValue(variant, c, clients)));
  expect(winner !== undefined && written.has(JSON.stringify(winner)), `reverse-order merge holds ${JSON.stringify(winner)}, not a written value`);
  const checkMerged = (doc: MapDoc): void => {
    expect(doc.size() === 1, `expected 1 key, found ${doc.size()}`);
    expect(sameValue(doc.get('v'), winner), `merge order changed the winner: ${JSON.stringify(doc.get('v'))} vs ${JSON.stringify(winner)}`);
  };
  await measured(
    ctx,
    {
      ...base,
      metric: 'merge',
      note: `${variant.title}: ${clients} clients' updates merged one by one into a fresh replica; ops = updates merged; converges with a reverse-order merge`,
    },
    { setup: () => system.create(0), run: (doc) => mergeAll(doc, updates, false), check: checkMerged, teardown: (doc) => doc.close() },
  );
  const updateBytes = updates.reduce((sum, update) => sum + update.byteLength, 0);
  recorded(ctx, { ...base, metric: 'update bytes', value: updateBytes, unit: 'bytes', note: 'sum of the clients’ update sizes' });
  const state = reference.encodeState();
  recorded(ctx, { ...base, metric: 'doc bytes', value: state.byteLength, unit: 'bytes', note: 'encoded state of the merged replica' });
  await reference.close();
  await measured(
    ctx,
    { ...base, metric: 'parse', note: 'load the merged state into a new replica (ops = clients merged into it)' },
    {
      setup: async (): Promise<{ doc?: MapDoc }> => ({}),
      run: async (holder) => {
        holder.doc = await system.load(state, clients + 2);
      },
      check: (holder) => checkMerged(holder.doc as MapDoc),
      teardown: (holder) => holder.doc?.close(),
    },
  );
}
