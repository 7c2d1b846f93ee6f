/**
 * Child process of the memory benchmark (g): builds one replica of one system
 * and prints how much memory it holds. A fresh process per measurement, because
 * WebAssembly memory (Automerge, Loro) never shrinks: a second replica in the
 * same process would look free.
 * Usage: node --expose-gc --import tsx bench/compare/memory-child.ts <system> <ops> <keys>
 */
import { checkSets, keyNames, writeSets } from './data.js';
import { SYSTEMS } from './systems.js';

/** What the child reports, as one JSON line on stdout. */
export interface MemoryReport {
  readonly system: string;
  readonly ops: number;
  readonly keys: number;
  /** Growth of process RSS: counts the V8 heap and WebAssembly memory alike. */
  readonly rssBytes: number;
  /** Growth of heapUsed + external: the JS-visible part. */
  readonly jsBytes: number;
}

function settle(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const [name, opsArg, keysArg] = process.argv.slice(2);
  const system = SYSTEMS.find((s) => s.name === name);
  if (system === undefined) throw new Error(`unknown system ${name}`);
  const ops = Number(opsArg);
  const keyCount = Number(keysArg);
  keyNames(keyCount); // the key strings are harness data, not the system's
  // Warm the library (wasm instantiation, first allocations) before the baseline.
  const warm = await system.create(7);
  await writeSets(warm, 0, 10, 10);
  await warm.close();
  const before = settle();
  const doc = await system.create(0);
  await writeSets(doc, 0, ops, keyCount);
  const after = settle();
  checkSets(doc, ops, keyCount);
  const report: MemoryReport = {
    system: system.name,
    ops,
    keys: keyCount,
    rssBytes: after.rss - before.rss,
    jsBytes: after.heapUsed + after.external - (before.heapUsed + before.external),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await doc.close();
}

await main();
