/**
 * The comparison suite (issue 6): Tidelog against Yjs, Automerge and Loro on
 * the same workloads in the same run, plus the machine's own limits. Writes
 * `reports/compare/` (full run) or `reports/quick/compare/` (`--quick`):
 * compare.md with tables and SVG charts, compare.json with the raw figures and
 * the environment. Progress goes to stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { B3_VARIANTS, runB3 } from './compare/b3.js';
import { type ColdVariant, runEncoding, savedBytesStore } from './compare/encoding.js';
import type { Figure, RunContext } from './compare/figures.js';
import { runMachine } from './compare/machine.js';
import { progress, SizeBudget } from './compare/measure.js';
import { runMemory } from './compare/memory.js';
import { type Environment, environment, headlineFigures, ratio, writeReport } from './compare/report.js';
import { runPerCall } from './compare/per-call.js';
import { runSession } from './compare/session.js';
import { runMerge, runSets } from './compare/sets.js';
import type { MapSystem } from './compare/system.js';
import { shortNumber } from './compare/svg.js';
import { SYSTEMS as ALL_SYSTEMS } from './compare/systems.js';
import { tidelogColdStores } from './compare/tidelog-cold.js';
import { YCSB_WORKLOADS, runYcsb } from './compare/ycsb.js';
import type { BenchResult, SuiteOptions } from './types.js';

/** `COMPARE_SYSTEMS=tidelog,yjs` narrows a run while working on one system; the published report runs all. */
const SYSTEMS = ALL_SYSTEMS.filter((s) => process.env.COMPARE_SYSTEMS === undefined || process.env.COMPARE_SYSTEMS.split(',').includes(s.name));

/** `COMPARE_WORKLOADS=a-per-call,h-session` runs only those workload groups (while working on one); the published report runs all. */
const WORKLOADS = process.env.COMPARE_WORKLOADS?.split(',');

function wanted(group: string): boolean {
  return WORKLOADS === undefined || WORKLOADS.some((w) => group.startsWith(w));
}

/** Keys of the per-call workload (the issue's reproduction: 200K writes over 1K keys). */
const PER_CALL_KEYS = 1_000;

/** Keys of the default key space. */
const KEYS = 10_000;

interface Plan {
  readonly ops: readonly number[];
  readonly perCallOps: readonly number[];
  readonly memoryOps: readonly number[];
  readonly keysAt: number;
  readonly keys: readonly number[];
  readonly replicasAt: number;
  readonly replicas: readonly number[];
  readonly clients: readonly number[];
  readonly iterationMsMax: number;
}

function plan(quick: boolean): Plan {
  return quick
    ? { ops: [10_000, 100_000], perCallOps: [10_000, 200_000], memoryOps: [100_000], keysAt: 10_000, keys: [10, 10_000], replicasAt: 10_000, replicas: [2, 16], clients: [100, 1_000], iterationMsMax: 8_000 }
    : {
        ops: [10_000, 100_000, 1_000_000],
        perCallOps: [10_000, 200_000, 1_000_000],
        memoryOps: [10_000, 100_000, 1_000_000],
        keysAt: 100_000,
        keys: [100, 1_000, 100_000],
        replicasAt: 100_000,
        replicas: [2, 16, 100],
        clients: [100, 1_000, 10_000],
        iterationMsMax: 20_000,
      };
}

function coldVariants(system: MapSystem): ColdVariant[] {
  if (system.name === 'tidelog') return tidelogColdStores();
  return [{ group: 'f-cold-open', store: savedBytesStore(system), note: `${system.name}: read the saved full state from a file and load it` }];
}

/**
 * Workload-major order: at each workload and size every system runs in turn, so no
 * system always inherits the JIT and heap state of the same predecessor.
 */
async function runAll(ctx: RunContext, p: Plan): Promise<void> {
  const each = async (group: string, label: string, work: (system: MapSystem) => Promise<void>): Promise<void> => {
    if (!wanted(group)) return;
    progress(label);
    for (const system of SYSTEMS) await work(system);
  };
  const all = async (group: string, label: string, work: () => Promise<void>): Promise<void> => {
    if (!wanted(group)) return;
    progress(label);
    await work();
  };
  for (const ops of p.perCallOps) {
    for (const awaitEach of [false, true]) {
      await all('a-per-call', `(a) ${ops} writes, a set per call, ${awaitEach ? 'each awaited' : 'last awaited'}`, () => runPerCall(ctx, SYSTEMS, ops, PER_CALL_KEYS, awaitEach));
    }
  }
  for (const ops of p.ops) await each('a-sets', `(a) ${ops} sets`, (s) => runSets(ctx, s, ops, KEYS, 'ops'));
  for (const keys of p.keys) await each('a-sets', `(a) ${p.keysAt} sets over ${keys} keys`, (s) => runSets(ctx, s, p.keysAt, keys, 'keys'));
  for (const workload of YCSB_WORKLOADS) for (const ops of p.ops) await each('b-ycsb', `(b) YCSB ${workload.id}, ${ops} ops`, (s) => runYcsb(ctx, s, workload, ops));
  for (const variant of B3_VARIANTS) for (const clients of p.clients) await each('c-b3', `(c) ${variant.title}, ${clients} clients`, (s) => runB3(ctx, s, variant, clients));
  for (const ops of p.ops) await each('d-merge', `(d) merge ${ops} remote ops`, (s) => runMerge(ctx, s, ops, KEYS, 1, 'ops'));
  for (const ops of p.ops) await each('h-session', `(h) catch-up through the sync exchange, ${ops} ops over ${ops / 10} keys`, (s) => runSession(ctx, s, ops, ops / 10));
  for (const replicas of p.replicas) await each('d-merge', `(d) merge ${replicas} replicas`, (s) => runMerge(ctx, s, p.replicasAt, KEYS, replicas, 'replicas'));
  for (const ops of p.ops) await each('e-encode', `(e, f) encode, decode, cold open at ${ops} ops`, (s) => runEncoding(ctx, s, ops, KEYS, coldVariants(s)));
  for (const ops of p.memoryOps) await each('g-memory', `(g) memory at ${ops} ops`, (s) => runMemory(ctx, s, ops));
}

function machineSection(figures: readonly Figure[]): string[] {
  const machine = figures.filter((f) => f.system === 'machine');
  const mapSet = machine.find((f) => f.metric === 'Map.set loop');
  const sets = figures.filter((f) => f.group === 'a-sets' && f.axis === 'ops' && f.system === 'tidelog' && f.opsPerSecond !== undefined).sort((a, b) => b.x - a.x)[0];
  const lines = ['## The machine’s limits (same run)', '', '| limit | figure | what |', '| --- | ---: | --- |'];
  for (const f of machine)
    lines.push(
      `| ${f.metric} | ${f.opsPerSecond !== undefined ? `${Math.round(f.opsPerSecond).toLocaleString('en-US')} ops/s` : `${Math.round(f.value ?? 0).toLocaleString('en-US')} ${f.unit}`} | ${f.note ?? ''} |`,
    );
  if (mapSet !== undefined && sets !== undefined) {
    const distance = (mapSet.opsPerSecond as number) / (sets.opsPerSecond as number);
    lines.push('', `Tidelog's single-writer sets (${sets.x.toLocaleString('en-US')} ops, memory storage) run at 1/${distance.toFixed(1)} of a plain \`Map.set\` loop.`);
  }
  const sync = machine.find((f) => f.metric === 'fdatasync rate');
  if (sync?.value !== undefined) {
    lines.push(
      `With one fdatasync per commit this disk allows about ${Math.round(sync.value).toLocaleString('en-US')} durable commits per second; group commit is what lets a file-backed store exceed that in ops per second.`,
    );
  }
  return [...lines, ''];
}

interface RunnerJson {
  readonly environment?: { readonly date?: string; readonly gitCommit?: string; readonly quick?: boolean };
  readonly suites?: readonly { readonly file: string; readonly results: readonly BenchResult[] }[];
}

/** The relay suite's figures from the newest runner report that has them (the runner runs it after this suite). */
function relayFigures(): string[] {
  for (const path of ['../reports/latest.json', '../reports/latest-relay.json', '../reports/quick/latest.json']) {
    const file = fileURLToPath(new URL(path, import.meta.url));
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, 'utf8')) as RunnerJson;
    const relay = json.suites?.find((suite) => suite.file === 'relay.bench.ts');
    if (relay === undefined || relay.results.length === 0) continue;
    const env = json.environment ?? {};
    const lines = [
      `From \`reports/${path.slice('../reports/'.length)}\` (${env.quick === true ? 'quick' : 'full'} run of ${env.date ?? '?'}, commit ${env.gitCommit ?? '?'}):`,
      '',
      '| figure | ops/s | value | note |',
      '| --- | ---: | ---: | --- |',
    ];
    for (const r of relay.results.filter((result) => result.detail !== true)) {
      const value = r.value === undefined ? '' : `${shortNumber(r.value)} ${r.unit ?? ''}`;
      lines.push(`| ${r.name} | ${r.opsPerSecond === undefined ? '' : shortNumber(r.opsPerSecond)} | ${value} | ${(r.note ?? '').replaceAll('|', '\\|')} |`);
    }
    return lines;
  }
  return ['No runner report with relay figures existed when this report was written: run `npm run bench -- relay`.'];
}

function relaySection(): string[] {
  const relayBench = fileURLToPath(new URL('./relay.bench.ts', import.meta.url));
  const lines = ['## (h) End-to-end encrypted sync through the relay', ''];
  if (!existsSync(relayBench)) return [...lines, 'Not measured: `bench/relay.bench.ts` (the relay issue’s benchmark) had not landed when this report was generated.', ''];
  lines.push(
    'Measured by the relay suite (`bench/relay.bench.ts`, encrypted 1→N sync through a relay process, every reader checked), which `npm run bench` runs after this one.',
    'Yjs, Automerge and Loro ship no end-to-end-encrypted relay, so there is nothing to set beside it: the figures below are Tidelog only.',
    '',
  );
  const relayReport = fileURLToPath(new URL('../reports/relay.md', import.meta.url));
  if (existsSync(relayReport)) {
    const text = readFileSync(relayReport, 'utf8');
    const start = text.indexOf('## Encrypted sync through a relay');
    const end = start < 0 ? -1 : text.indexOf('\n## ', start + 3);
    if (start >= 0) {
      lines.push('The relay issue’s own report, [reports/relay.md](../relay.md), measured under its own conditions; its section on encrypted sync, quoted:', '');
      for (const line of text
        .slice(start, end < 0 ? undefined : end)
        .trim()
        .split('\n')
        .slice(1))
        lines.push(`> ${line}`);
      lines.push('');
    }
  }
  lines.push(...relayFigures());
  return [...lines, ''];
}

/** Writes compare.md, compare.json and the charts for a run's figures (also used by `bench/compare/render.ts` to re-render a saved run). */
export function writeCompareReport(dir: string, env: Environment, figures: readonly Figure[]): void {
  const objectNote = [
    '## Notes',
    '',
    ...ALL_SYSTEMS.map((s) => `- ${s.version}: objects stored as ${s.objectModel}.`),
    '- Tidelog’s “full state” is its op log: every op with its id and HLC timestamp, as one sync ops frame carries it (version 2: binary op block, keys and values as JSON; what a peer needs to merge with history). Updates are sync ops frames too. The compacted figure (one winning op per key) is what `compact()` keeps.',
    '- (c) applies each client’s update on its own, as crdt-benchmarks does, for every system (Loro’s `importBatch` and Automerge’s `applyChanges` on many changes at once would be faster; so would one `applyRemote` of all the ops).',
    '- Where Tidelog’s time goes, from `node --cpu-prof` profiles of these workloads: [docs/benchmarks.md](../../docs/benchmarks.md).',
    '- Writes are committed every 1,000 ops for every system (a Yjs transaction, an Automerge change, a Loro commit; Tidelog calls `set` per op and awaits the last promise of the 1,000: group commit folds them into one append to `MemoryStorage`).',
    '- (a-per-call) is the pattern applications use: a `set` per call, 1,000 keys. `await last`: Tidelog awaits only the last of the N promises, the others take all N writes in one transaction / change / commit (their cheapest way to take N calls: the kindest comparison for them). `await each`: every Tidelog write awaited; Yjs `map.set` outside a transaction (one transaction each), Loro `set` + `commit()`, Automerge one `change` per write.',
    '- (h-session) measures what a sync really sends, against (e), which encodes the whole state as one message: Tidelog two `SyncSession`s over a `MemoryRoom` (frames of at most 1,000 ops, session defaults); Yjs sync steps 1 and 2 of y-protocols (state vectors, then `encodeStateAsUpdate` from the other side\'s vector; the v2 encoding\'s bytes are in the Yjs figure\'s note in compare.json); Loro version vectors then `export({ mode: \'update\' })`; Automerge its own sync protocol. Time is CPU time of both ends, in one process.',
    '',
  ];
  writeReport(dir, env, figures, { sections: [...machineSection(figures), ...relaySection(), ...objectNote] });
}

/** The comparison suite, discovered by `bench/run.ts`. */
export async function compareSuite(opts: SuiteOptions): Promise<BenchResult[]> {
  const p = plan(opts.quick);
  const loadAtStart = loadavg()[0] ?? 0;
  const ctx: RunContext = { quick: opts.quick, budget: new SizeBudget(p.iterationMsMax), figures: [] };
  progress(`machine limits`);
  await runMachine(ctx, 1_000_000);
  progress(`systems: ${SYSTEMS.map((s) => s.version).join(', ')}`);
  await runAll(ctx, p);
  const env = environment(opts.quick, Object.fromEntries(SYSTEMS.map((s) => [s.name, s.version])), loadAtStart);
  const dir = fileURLToPath(new URL(opts.quick ? '../reports/quick/compare/' : '../reports/compare/', import.meta.url));
  writeCompareReport(dir, env, ctx.figures);
  progress(`report written to ${dir}compare.md`);
  return toResults(ctx.figures);
}

/** The runner's results for a run's figures (what latest.json holds for this suite). */
export function toResults(figures: readonly Figure[]): BenchResult[] {
  const shown = new Set<Figure>([...headlineFigures(figures).values()].flatMap((h) => h.figures));
  for (const f of figures) if (f.system === 'machine') shown.add(f);
  return figures.map((f) => {
    const name = `${f.group} ${f.metric} ${f.system} ${f.axis}=${f.x}`;
    const tidelog =
      f.system === 'tidelog' || f.system === 'machine'
        ? undefined
        : figures.find((t) => t.system === 'tidelog' && t.group === f.group && t.metric === f.metric && t.axis === f.axis && t.x === f.x);
    const r = ratio(tidelog, f);
    const note = [f.skipped ?? f.note, r === undefined ? undefined : `tidelog is ${r.toFixed(2)}× this`].filter((s) => s !== undefined).join('; ');
    return {
      name,
      system: f.system,
      group: f.group,
      ops: f.ops,
      ...(f.opsPerSecond !== undefined ? { opsPerSecond: f.opsPerSecond } : {}),
      ...(f.value !== undefined ? { value: f.value } : {}),
      ...(f.unit !== undefined ? { unit: f.unit } : {}),
      ...(note !== '' ? { note } : {}),
      ...(shown.has(f) ? {} : { detail: true }),
    };
  });
}
