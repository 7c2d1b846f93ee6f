/**
 * The storage suite (issue 3): durable `set` throughput on the file log with
 * group commit ('sync' mode: every commit awaited until fdatasync) under 1, 10,
 * 100 and 1,000 concurrent writers, against the raw fdatasync rate of the same
 * disk measured in the same run; the relaxed 'interval' mode for comparison;
 * open time of a 1,000,000-op database without and with a snapshot; compaction
 * time. Every task checks the state it produced.
 *
 * Standalone: `npx tsx bench/storage.bench.ts [--quick]` writes reports/storage.md
 * and reports/storage.json (reports/quick/ for --quick). `npm run bench` imports
 * `storageSuite`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { ManualClock, Replica, type ReplicaOptions } from '../src/core/index.js';
import { FileStorage } from '../src/storage/file/index.js';
import { loadSqlite } from './sqlite.js';
import type { BenchResult, SuiteOptions } from './types.js';

/** The issue's floor for durable set throughput with group commit. */
const TARGET_SET_OPS_PER_SECOND = 500_000;
/** The issue's ceiling for opening a 1M-op database that has a snapshot. */
const TARGET_OPEN_MS = 1_000;
const KEYS = 100_000;
/** No automatic compaction: the open figures measure a log of exactly this many ops (the default policy has its own figure). */
const KEEP_ALL: ReplicaOptions = { heldOpsMax: Number.POSITIVE_INFINITY };
const keyNames = Array.from({ length: KEYS }, (_, i) => `user/${i}/name`);

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`storage bench: wrong result: ${what}`);
}

function meanMs(task: Task): number {
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`storage bench: task ${task.name} did not complete (${result.state}${'error' in result ? `: ${String(result.error)}` : ''})`);
  return result.latency.mean;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tidelog-bench-'));
}

/** Raw fdatasync rate: one small write + fdatasync per op, awaited, on the same file system. */
async function rawSyncRate(quick: boolean, dir: string): Promise<number> {
  const fd = fs.openSync(path.join(dir, 'raw'), 'w');
  const bytes = Buffer.alloc(64, 1);
  const bench = new Bench({ name: 'raw fdatasync', time: quick ? 300 : 1_500, warmupTime: 100 });
  bench.add('write + fdatasync', async () => {
    fs.writeSync(fd, bytes);
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  });
  await bench.run();
  fs.closeSync(fd);
  return 1_000 / meanMs(bench.tasks[0] as Task);
}

/**
 * The raw O_DSYNC write rate: one 64-byte `pwrite` per op on a descriptor opened with `O_DSYNC`, into a
 * preallocated file, on the calling thread: the durable-write primitive the file log uses, with no CPU around it.
 */
function rawDsyncRate(quick: boolean, dir: string): number {
  const file = path.join(dir, 'raw-dsync');
  const slots = 4096;
  fs.writeFileSync(file, Buffer.alloc(64 * slots));
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_DSYNC);
  const bytes = Buffer.alloc(64, 2);
  fs.fdatasyncSync(fd);
  const deadline = performance.now() + (quick ? 300 : 1_000);
  let writes = 0;
  const started = performance.now();
  while (performance.now() < deadline) {
    fs.writeSync(fd, bytes, 0, 64, (writes % slots) * 64);
    writes += 1;
  }
  const rate = (writes * 1_000) / (performance.now() - started);
  fs.closeSync(fd);
  fs.rmSync(file, { force: true });
  return rate;
}

/** Ops per timed iteration of the durable set figure with `writers` writers (SQLite does the same count). */
function opsPerIterationFor(quick: boolean, writers: number): number {
  return Math.max(1, Math.floor(((quick ? 1 : 4) * Math.min(20_000, writers * 1_000)) / writers / (writers === 1 ? 4 : 1))) * writers;
}

/**
 * SQLite through better-sqlite3, the store a user would otherwise pick: WAL journal, `synchronous=FULL` (every
 * commit fsyncs the WAL), one table of (key, JSON value), the same upserts as the Tidelog figure with `grouping`
 * writes per committed transaction (Tidelog's group size at that many writers).
 */
function sqliteUpserts(quick: boolean, dir: string, grouping: number): { opsPerSecond: number; syncMode: string } {
  const Database = loadSqlite();
  const db = new Database(path.join(dir, `sqlite-${grouping}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const syncMode = `journal_mode=${String(db.pragma('journal_mode', { simple: true }))}, synchronous=${String(db.pragma('synchronous', { simple: true }))}`;
  db.exec('CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID');
  const upsert = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  // Every iteration writes new values: SQLite skips rewriting a row whose bytes did not change, and a
  // transaction that dirtied no page commits without a sync.
  const commit = db.transaction((from: number, to: number, valueBase: number) => {
    for (let i = from; i < to; i++) upsert.run(keyNames[i % KEYS] as string, JSON.stringify(valueBase + i));
  });
  const ops = opsPerIterationFor(quick, grouping);
  const iteration = (valueBase: number): void => {
    for (let start = 0; start < ops; start += grouping) commit(start, Math.min(ops, start + grouping), valueBase);
  };
  iteration(0); // warmup, and the table holds the keys from here on (upserts update, as Tidelog's sets overwrite)
  const timedIterations = quick ? 2 : 5;
  const started = performance.now();
  for (let i = 1; i <= timedIterations; i++) iteration(i * ops);
  const opsPerSecond = (timedIterations * ops * 1_000) / (performance.now() - started);
  const last = (db.prepare('SELECT value FROM kv WHERE key = ?').get(keyNames[(ops - 1) % KEYS]) as { value: string } | undefined)?.value;
  check(last === JSON.stringify(timedIterations * ops + ops - 1), `sqlite last upsert visible (${last})`);
  db.close();
  return { opsPerSecond, syncMode };
}

interface SetFigure {
  readonly writers: number;
  readonly opsPerSecond: number;
  readonly opsPerSync: number;
  /** Wall time per sync (one commit group: write, sync, acknowledge, the writers' next writes), µs. */
  readonly roundUs: number;
  /** Main-thread CPU per sync, µs (undefined where the thread's CPU time cannot be read). */
  readonly mainCpuUs: number | undefined;
  /** Share of the durable writes made on the event loop (FileStorage `blockingWriteOpsMin`). */
  readonly blockingShare: number;
}

/**
 * CPU time of this (the main) thread so far, in µs: Linux's per-thread schedstat. process.cpuUsage()
 * would add the thread pool's time, which is mostly the syncs themselves.
 */
function mainThreadCpuUs(): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1_000;
  } catch {
    return undefined;
  }
}

/** `writers` concurrent loops, each awaiting its own sets one by one. */
async function setThroughput(quick: boolean, writers: number, durability: 'sync' | 'interval', blockingWriteOpsMin?: number): Promise<SetFigure> {
  const dir = tempDir();
  const opsPerIteration = opsPerIterationFor(quick, writers);
  const perWriter = opsPerIteration / writers;
  let replica: Replica | undefined;
  let storage: FileStorage | undefined;
  let syncsBefore = 0;
  let syncs = 0;
  let blockingBefore = 0;
  let blocking = 0;
  let iterations = 0;
  let cpuBefore: number | undefined;
  let cpuUs: number | undefined = 0;
  let wallBefore = 0;
  let wallUs = 0;
  const bench = new Bench({ name: 'set', time: quick ? 300 : 1_500, warmupTime: quick ? 50 : 200, iterations: quick ? 2 : 5 });
  bench.add(
    `set x${writers}`,
    async () => {
      const r = replica as Replica;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) await r.set(keyNames[(w * perWriter + i) % KEYS] as string, i);
        }),
      );
    },
    {
      beforeAll: async () => {
        storage = await FileStorage.open(dir, { durability, ...(blockingWriteOpsMin === undefined ? {} : { blockingWriteOpsMin }) });
        replica = await Replica.open({ storage, replicaId: 'bench', clock: new ManualClock(1_000) });
      },
      beforeEach: () => {
        syncsBefore = (storage as FileStorage).stats().syncs;
        blockingBefore = (storage as FileStorage).stats().blockingWrites;
        cpuBefore = mainThreadCpuUs();
        wallBefore = performance.now();
      },
      afterEach: () => {
        wallUs += (performance.now() - wallBefore) * 1_000;
        const cpuAfter = mainThreadCpuUs();
        cpuUs = cpuUs === undefined || cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuUs + cpuAfter - cpuBefore;
        syncs += (storage as FileStorage).stats().syncs - syncsBefore;
        blocking += (storage as FileStorage).stats().blockingWrites - blockingBefore;
        iterations += 1;
        check((replica as Replica).get(keyNames[(opsPerIteration - 1) % KEYS] as string) === perWriter - 1, 'last write visible');
      },
      afterAll: async () => {
        await (replica as Replica).close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    },
  );
  await bench.run();
  const opsPerSecond = (opsPerIteration / meanMs(bench.tasks[0] as Task)) * 1_000;
  return {
    writers,
    opsPerSecond,
    opsPerSync: syncs === 0 ? Number.POSITIVE_INFINITY : (iterations * opsPerIteration) / syncs,
    roundUs: syncs === 0 ? Number.NaN : wallUs / syncs,
    mainCpuUs: cpuUs === undefined || syncs === 0 ? undefined : cpuUs / syncs,
    blockingShare: syncs === 0 ? 0 : blocking / syncs,
  };
}

/** Builds a database of `opCount` ops over KEYS keys in batches of 1,000 (one record each). */
async function buildDatabase(dir: string, opCount: number, keyCount: number, options: ReplicaOptions = KEEP_ALL): Promise<void> {
  const replica = await Replica.open({ storage: await FileStorage.open(dir, { durability: 'interval' }), replicaId: 'big', clock: new ManualClock(1_000), ...options });
  for (let start = 0; start < opCount; start += 1_000) {
    await replica.batch((w) => {
      for (let i = start; i < Math.min(opCount, start + 1_000); i++) w.set(`key/${i % keyCount}`, { n: i, tag: 'value' });
    });
  }
  await replica.close();
}

/** Mean time to open (recover + load + rebuild the state) and close the database in `dir`. */
async function openTimeMs(quick: boolean, dir: string, expectedSize: number, options: ReplicaOptions = KEEP_ALL): Promise<number> {
  const bench = new Bench({ name: 'open', time: 0, warmupIterations: 1, iterations: quick ? 2 : 5 });
  bench.add('open', async () => {
    const replica = await Replica.open({ storage: await FileStorage.open(dir), clock: new ManualClock(1_000), ...options });
    check(replica.size === expectedSize, `size ${replica.size} after open`);
    await replica.close();
  });
  await bench.run();
  return meanMs(bench.tasks[0] as Task);
}

async function compactOnce(dir: string, retainOps: number): Promise<{ ms: number; compactedOps: number }> {
  const replica = await Replica.open({ storage: await FileStorage.open(dir), clock: new ManualClock(1_000), ...KEEP_ALL });
  const started = performance.now();
  const result = await replica.compact({ retainOps });
  const ms = performance.now() - started;
  await replica.close();
  return { ms, compactedOps: result.compactedOps };
}

/** The worst shape for a snapshot: every op writes a new key, so the snapshot holds every op as a winner. */
async function distinctKeysOpen(dir: string, opCount: number): Promise<BenchResult> {
  await buildDatabase(dir, opCount, opCount);
  await compactOnce(dir, 10_000);
  const ms = await openTimeMs(true, dir, opCount);
  const bytes = dirBytes(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    name: 'open 1M-op database, 1M distinct keys, with snapshot',
    value: ms,
    unit: 'ms',
    ops: opCount,
    bytes,
    note: `every op is a live key, so the snapshot is as large as the log (${(bytes / 1e6).toFixed(1)} MB): open time scales with live keys, not ops; ${ms < TARGET_OPEN_MS ? 'under' : 'OVER'} 1 s`,
  };
}

function dirBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

/** Runs the storage benchmarks. */
export async function storageSuite(opts: SuiteOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const scratch = tempDir();
  try {
    // The disk is shared with other work and its fdatasync latency drifts a lot: measure the raw rate right
    // before each set figure, and compare each figure with the rate measured next to it.
    const rawRates: number[] = [];
    const dsyncRates: number[] = [];
    const figures: { figure: SetFigure; rawRate: number; sqlite: { opsPerSecond: number; syncMode: string } }[] = [];
    for (const writers of [1, 10, 100, 1_000]) {
      const rawRate = await rawSyncRate(true, scratch);
      rawRates.push(rawRate);
      dsyncRates.push(rawDsyncRate(opts.quick, scratch));
      // Tidelog and SQLite back to back at the same grouping, so the disk's drift hits both alike.
      const figure = await setThroughput(opts.quick, writers, 'sync');
      figures.push({ figure, rawRate, sqlite: sqliteUpserts(opts.quick, scratch, writers) });
    }
    results.push({
      name: 'raw write + fdatasync (same disk, same run)',
      opsPerSecond: rawRates.reduce((a, b) => a + b, 0) / rawRates.length,
      note: `one 64-byte write and one awaited fdatasync per op, the ceiling of per-op syncing; mean of ${rawRates.map((r) => Math.round(r)).join(', ')} measured before each set figure`,
    });
    results.push({
      name: 'raw O_DSYNC write (same disk, same run)',
      opsPerSecond: dsyncRates.reduce((a, b) => a + b, 0) / dsyncRates.length,
      note: `one 64-byte pwrite per op on an O_DSYNC descriptor into preallocated space, on the calling thread (the file log's durable write, without its CPU); mean of ${dsyncRates.map((r) => Math.round(r)).join(', ')} measured before each set figure`,
    });
    for (const { figure, rawRate } of figures) {
      const writers = figure.writers;
      // Each writer awaits its own commit, so at most `writers` ops are in flight: throughput cannot pass
      // writers / (one fdatasync), whatever the CPU does. Say where that ceiling lies in this run.
      const ceiling = writers * rawRate;
      const reached = figure.opsPerSecond >= TARGET_SET_OPS_PER_SECOND;
      // Only when syncs, not CPU, can be what bounds it (at 1,000 writers the ceiling is far above the target).
      const why = reached || ceiling > 2 * TARGET_SET_OPS_PER_SECOND ? '' : `; each writer awaits its commit, so the zero-CPU ceiling is writers x sync rate: ~${Math.round(ceiling / 1000)}K at the raw rate, about a third more with preallocated segments`;
      const met = writers >= 100 ? `; target ${reached ? 'met' : 'MISSED'} (>= 500K ops/s${why})` : '';
      results.push({
        name: `durable set, 'sync' mode, ${writers} concurrent writer${writers === 1 ? '' : 's'}`,
        opsPerSecond: figure.opsPerSecond,
        group: 'group commit',
        note: `${figure.opsPerSync.toFixed(1)} ops per durable write; ${(figure.opsPerSecond / rawRate).toFixed(1)}x the raw fdatasync rate measured just before (${Math.round(rawRate)}/s); ${roundCost(figure)}${met}`,
      });
    }
    for (const { figure, sqlite } of figures) {
      results.push({
        name: `SQLite upserts, ${figure.writers} per transaction (better-sqlite3, WAL, synchronous=FULL)`,
        opsPerSecond: sqlite.opsPerSecond,
        group: 'group commit',
        note: `the same ${opsPerIterationFor(opts.quick, figure.writers).toLocaleString('en-US')} upserts per iteration as the Tidelog figure with ${figure.writers} writer${figure.writers === 1 ? '' : 's'}, measured right after it (${sqlite.syncMode}); Tidelog is ${(figure.opsPerSecond / sqlite.opsPerSecond).toFixed(2)}x this`,
      });
    }
    // The same 100 writers with every durable write on the thread pool (the event loop never blocks):
    // what the default's blocking writes of large commits buy, measured next to it.
    const poolRate = await rawSyncRate(true, scratch);
    const poolOnly = await setThroughput(opts.quick, 100, 'sync', Number.POSITIVE_INFINITY);
    results.push({
      name: "durable set, 'sync' mode, 100 concurrent writers, thread pool only (blockingWriteOpsMin: Infinity)",
      opsPerSecond: poolOnly.opsPerSecond,
      group: 'group commit',
      note: `${poolOnly.opsPerSync.toFixed(1)} ops per durable write; ${(poolOnly.opsPerSecond / poolRate).toFixed(1)}x the raw fdatasync rate measured just before (${Math.round(poolRate)}/s); ${roundCost(poolOnly)}; ${(poolOnly.opsPerSecond / ((figures.find((f) => f.figure.writers === 100)?.figure.opsPerSecond) ?? Number.NaN)).toFixed(2)}x the default above`,
    });
    const relaxed = await setThroughput(opts.quick, 100, 'interval');
    results.push({
      name: "set, 'interval' mode (100 ms sync), 100 concurrent writers",
      opsPerSecond: relaxed.opsPerSecond,
      note: 'acknowledged once written to the OS; survives a process crash, not a power cut',
    });

    const opCount = opts.quick ? 200_000 : 1_000_000;
    const label = opts.quick ? '200K' : '1M';
    const dir = path.join(scratch, 'big');
    const buildStart = performance.now();
    await buildDatabase(dir, opCount, KEYS);
    const buildMs = performance.now() - buildStart;
    const logBytes = dirBytes(dir);
    const plainMs = await openTimeMs(opts.quick, dir, KEYS);
    results.push({
      name: `open ${label}-op database, no snapshot`,
      value: plainMs,
      unit: 'ms',
      ops: opCount,
      bytes: logBytes,
      note: `${KEYS.toLocaleString('en-US')} keys, ${(logBytes / 1e6).toFixed(1)} MB of log, every record verified and replayed (built in ${(buildMs / 1000).toFixed(1)} s)`,
    });
    const compaction = await compactOnce(dir, 10_000);
    check(compaction.compactedOps === opCount - 10_000, `compacted ${compaction.compactedOps}`);
    results.push({
      name: `compact ${label}-op database (retain 10K ops)`,
      value: compaction.ms,
      unit: 'ms',
      ops: opCount,
      note: `${compaction.compactedOps.toLocaleString('en-US')} ops folded; snapshot written tmp+fsync+rename+fsync dir; covered segments removed`,
    });
    const snapBytes = dirBytes(dir);
    const snapMs = await openTimeMs(opts.quick, dir, KEYS);
    results.push({
      name: `open ${label}-op database, with snapshot`,
      value: snapMs,
      unit: 'ms',
      ops: opCount,
      bytes: snapBytes,
      note: `snapshot of ${KEYS.toLocaleString('en-US')} winners + 10K-op tail, ${(snapBytes / 1e6).toFixed(1)} MB on disk; target ${snapMs < TARGET_OPEN_MS ? 'met' : 'MISSED'} (< 1 s)`,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    // The same database written with the default options (the replica compacts by itself past 250,000 held ops).
    const defaultsDir = path.join(scratch, 'defaults');
    const defaultsBuildStart = performance.now();
    await buildDatabase(defaultsDir, opCount, KEYS, {});
    const defaultsBuildMs = performance.now() - defaultsBuildStart;
    const defaultsBytes = dirBytes(defaultsDir);
    const defaultsMs = await openTimeMs(opts.quick, defaultsDir, KEYS, {});
    results.push({
      name: `open ${label}-op database written with the default options (automatic compaction)`,
      value: defaultsMs,
      unit: 'ms',
      ops: opCount,
      bytes: defaultsBytes,
      note: `never compacted by hand: the replica compacted itself whenever more than 250,000 ops were held (keeping 10,000); ${(defaultsBytes / 1e6).toFixed(1)} MB on disk; built in ${(defaultsBuildMs / 1000).toFixed(1)} s (${(buildMs / 1000).toFixed(1)} s without the policy); ${(plainMs / defaultsMs).toFixed(1)}x faster to open than the same ops without it`,
    });
    fs.rmSync(defaultsDir, { recursive: true, force: true });
    if (!opts.quick) results.push(await distinctKeysOpen(path.join(scratch, 'distinct'), opCount));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

/** What one commit group costs: its wall time, the main thread's CPU in it, and the rest (waiting on the durable write). */
function roundCost(figure: SetFigure): string {
  const where = figure.blockingShare === 0 ? 'all on the thread pool' : `${Math.round(figure.blockingShare * 100)}% of them on the event loop`;
  const round = `${figure.roundUs.toFixed(0)} µs per commit group (durable writes: ${where})`;
  if (figure.mainCpuUs === undefined) return round;
  const waiting = figure.blockingShare === 0 ? 'waiting on the durable write and thread hand-offs' : 'waiting on the durable write (and any thread hand-offs)';
  return `${round}: main-thread CPU ${figure.mainCpuUs.toFixed(0)} µs, the rest (${Math.max(0, figure.roundUs - figure.mainCpuUs).toFixed(0)} µs) ${waiting}`;
}

function formatResult(result: BenchResult): string {
  const figure = result.opsPerSecond !== undefined ? `${Math.round(result.opsPerSecond).toLocaleString('en-US')} ops/s` : `${result.value?.toFixed(1)} ${result.unit ?? ''}`;
  return `| ${result.name} | ${figure} | ${result.note ?? ''} |`;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const outDir = path.join(root, 'reports', ...(quick ? ['quick'] : []));
  fs.mkdirSync(outDir, { recursive: true });
  const loadBefore = os.loadavg()[0] as number;
  const results = await storageSuite({ quick });
  // The machine is shared: the load average says how much the figures were disturbed (fdatasync latency suffers most).
  const environment = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, quick, loadAverage1mBefore: loadBefore, loadAverage1mAfter: os.loadavg()[0] as number };
  fs.writeFileSync(path.join(outDir, 'storage.json'), `${JSON.stringify({ environment, results }, null, 2)}\n`);
  const lines = [
    '# Storage benchmarks (file log)',
    '',
    `Run ${environment.date}${quick ? ' (--quick)' : ''}; Node ${environment.node}, ${environment.cpu}, ${environment.cores} cores; 1-minute load average ${environment.loadAverage1mBefore.toFixed(1)} before, ${environment.loadAverage1mAfter.toFixed(1)} after (other work shares the machine and its disk). Generated by \`npx tsx bench/storage.bench.ts\`; do not edit.`,
    '',
    '| Benchmark | Figure | Notes |',
    '| --- | --- | --- |',
    ...results.map(formatResult),
    '',
  ];
  fs.writeFileSync(path.join(outDir, 'storage.md'), lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
