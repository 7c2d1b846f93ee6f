/**
 * (h) A catch-up through each system's own sync exchange: a fresh replica is brought up to date with one that
 * holds `ops` writes over `keyCount` keys, every message encoded and decoded as on a network (`MapDoc.catchUp`).
 * Measures the bytes that cross (both ways) and the time of the whole exchange, both ends in this process
 * (encode, decode, merge), then every key read back (timed) and checked. Unlike (e), which encodes the whole
 * state as one message, this is what a sync session really sends: Tidelog's frames of at most 1,000 ops.
 */
import { checkSets, readAll, writeSets } from './data.js';
import { measured, type RunContext, recorded } from './figures.js';
import { expect } from './measure.js';
import type { MapDoc, MapSystem } from './system.js';

interface Holder {
  reader?: MapDoc;
  matched?: number;
  exchange?: { readonly bytes: number; readonly messages: number; readonly extra?: string };
}

/** Runs (h) for one system. */
export async function runSession(ctx: RunContext, system: MapSystem, ops: number, keyCount: number): Promise<void> {
  const base = { group: 'h-session', system: system.name, axis: 'ops', x: ops, ops } as const;
  const budgetKey = `${base.group}/catch-up/${system.name}/ops`;
  if (ctx.budget.skipReason(budgetKey, ops) !== undefined) {
    await measured(ctx, { ...base, metric: 'catch-up' }, { setup: async () => undefined, run: async () => undefined, check: () => undefined });
    return;
  }
  const source = await system.create(1);
  await writeSets(source, 0, ops, keyCount);
  let exchange: Holder['exchange'];
  await measured(
    ctx,
    {
      ...base,
      metric: 'catch-up',
      note: `a fresh replica catches up with one holding ${ops} writes over ${keyCount} keys through the system's sync exchange (both ends in this process: encode, decode, merge), then reads every key (timed); every key checked`,
    },
    {
      setup: async (): Promise<Holder> => ({ reader: await system.create(5) }),
      run: async (h) => {
        h.exchange = await source.catchUp(h.reader as MapDoc);
        h.matched = readAll(h.reader as MapDoc, ops, keyCount);
      },
      check: (h) => {
        expect(h.matched === Math.min(ops, keyCount), `read back ${h.matched} keys`);
        checkSets(h.reader as MapDoc, ops, keyCount);
        exchange = h.exchange;
      },
      teardown: (h) => h.reader?.close(),
    },
  );
  if (exchange !== undefined) {
    recorded(ctx, {
      ...base,
      metric: 'catch-up bytes',
      value: exchange.bytes,
      unit: 'bytes',
      note: `bytes on the wire both ways in that catch-up (the messages each system's exchange needed are in compare.json)${exchange.extra === undefined ? '' : `; ${exchange.extra}`}`,
      messages: exchange.messages,
    });
  }
  await source.close();
}
