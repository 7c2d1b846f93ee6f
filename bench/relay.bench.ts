/**
 * The relay suite (issue 5), through a real `tidelog relay` child process on loopback:
 * - end-to-end encrypted sync from one writer to N readers (ops/s delivered to each reader;
 *   target >= 200,000), every reader checked to hold every op;
 * - catch-up time of a replica 1,000,000 ops behind (100,000 with --quick);
 * - connections one relay holds at once (15,000, under this machine's 20,000-descriptor limit;
 *   1,000 with --quick), its resident memory per connection, and whether it still relays
 *   between an active pair meanwhile.
 * Readers run in this process, or each in its own process (`relay-reader.ts`); the machine's
 * 2 cores are shared by all of them and the relay.
 * Standalone: `npx tsx bench/relay.bench.ts [--quick]`; `npm run bench -- relay` imports `relaySuite`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { openSyncedReplicaNode } from '../src/client/node.js';
import type { SyncedReplica } from '../src/client/open-synced-replica.js';
import { generateRoomKey, roomKeyToInvite } from '../src/crypto/room-key.js';
import type { BenchResult, SuiteOptions } from './types.js';
import { freePort } from '../test/support/loopback.js';

/** The issue's floor for encrypted sync throughput delivered to each reader. */
/** Every op is kept (no automatic compaction): the figures measure op transport, as before the policy existed. */
const KEEP_HISTORY = { heldOpsMax: Number.POSITIVE_INFINITY } as const;
const TARGET_OPS_PER_SECOND_PER_READER = 200_000;
const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const readerScript = fileURLToPath(new URL('./relay-reader.ts', import.meta.url));
// Extra node flags for reader processes, e.g. TIDELOG_BENCH_READER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/p' to profile them.
const readerNodeArgs = (process.env.TIDELOG_BENCH_READER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');

let relayPid: number | undefined;

async function startRelay(): Promise<{ url: string; http: string; proc: ChildProcess }> {
  const port = await freePort();
  // Benchmarks measure throughput, so the per-connection rate limits are lifted.
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'relay',
      '--port',
      String(port),
      '--log-level',
      'error',
      '--frames-per-second-max',
      '1000000',
      '--bytes-per-second-max',
      '1000000000',
      '--connections-per-room-max',
      '20000',
      '--buffered-bytes-max',
      String(256 * 1024 * 1024),
    ],
    { stdio: 'ignore' },
  );
  relayPid = proc.pid;
  const http = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${http}/healthz`)).ok) break;
    } catch {
      if (i > 400) throw new Error('relay bench: relay did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url: `ws://127.0.0.1:${port}`, http, proc };
}

async function stopRelay(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

/** CPU time (user + system) of a child process so far, in ms, from /proc (Linux); NaN elsewhere. */
function childCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`relay bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function writeOps(replica: SyncedReplica['replica'], from: number, count: number, batchOps: number): Promise<void> {
  for (let start = from; start < from + count; start += batchOps) {
    await replica.batch((b) => {
      for (let i = start; i < Math.min(from + count, start + batchOps); i++) b.set(`user/${i % 100_000}/profile`, { n: i, name: `name-${i}` });
    });
  }
}

// Session defaults except a 1 s anti-entropy tick: catch-up proceeds in rounds of 64 frames that the tick paces.
const tickMs = Number(process.env.TIDELOG_BENCH_TICK_MS ?? 1_000);
const sessionOptions = { antiEntropyIntervalMs: tickMs };

async function fanOut(url: string, readers: number, ops: number): Promise<BenchResult> {
  const key = generateRoomKey();
  const open = () => openSyncedReplicaNode({ relayUrl: url, key, session: sessionOptions, replica: KEEP_HISTORY });
  const writer = await open();
  const peers = await Promise.all(Array.from({ length: readers }, open));
  try {
    await until(() => [writer, ...peers].every((p) => p.socket.connected), 10_000, 'connections');
    await new Promise((r) => setTimeout(r, 200));
    const start = performance.now();
    await writeOps(writer.replica, 0, ops, 10_000);
    const id = writer.replica.replicaId;
    await until(() => peers.every((p) => (p.replica.versionVector()[id] ?? 0) >= ops), 120_000, 'readers to catch up');
    const seconds = (performance.now() - start) / 1000;
    for (const p of peers) if (p.replica.get(`user/${(ops - 1) % 100_000}/profile`) === undefined) throw new Error('relay bench: a reader lacks the last op');
    const perReader = ops / seconds;
    // Ops the writer put on the wire per reader, over ops written: above 1 means resends of ops a reader already had or had on its way.
    const sentPerWritten = writer.session.status().opsSent / ops;
    return {
      name: `encrypted sync, 1 writer -> ${readers} readers`,
      opsPerSecond: perReader,
      group: 'throughput',
      ops,
      note: `ops/s delivered to each reader (every reader checked); writer sent ${sentPerWritten.toFixed(2)}x the ops written; target ${TARGET_OPS_PER_SECOND_PER_READER.toLocaleString('en-US')}: ${perReader >= TARGET_OPS_PER_SECOND_PER_READER ? 'met' : 'NOT met'}`,
    };
  } finally {
    await Promise.all([writer, ...peers].map((p) => p.close()));
  }
}

async function catchUp(url: string, ops: number, antiEntropyIntervalMs: number): Promise<BenchResult> {
  const key = generateRoomKey();
  const session = { antiEntropyIntervalMs };
  const writer = await openSyncedReplicaNode({ relayUrl: url, key, session, replica: KEEP_HISTORY });
  try {
    await writeOps(writer.replica, 0, ops, 20_000);
    const start = performance.now();
    const reader = await openSyncedReplicaNode({ relayUrl: url, key, session, replica: KEEP_HISTORY });
    try {
      const id = writer.replica.replicaId;
      await until(() => (reader.replica.versionVector()[id] ?? 0) >= ops, 300_000, 'the late replica to catch up');
      const ms = performance.now() - start;
      const sent = writer.session.status().opsSent;
      return {
        name: `catch-up of a replica ${ops.toLocaleString('en-US')} ops behind, ${antiEntropyIntervalMs / 1000} s tick`,
        value: ms,
        unit: 'ms',
        group: 'catch-up',
        ops,
        opsPerSecond: (ops * 1000) / ms,
        note: `from connect to holding every op (100,000 distinct keys); writer sent ${(sent / ops).toFixed(2)}x the ops; anti-entropy tick ${antiEntropyIntervalMs} ms`,
      };
    } finally {
      await reader.close();
    }
  } finally {
    await writer.close();
  }
}

async function connectionsHeld(url: string, http: string, count: number): Promise<BenchResult[]> {
  const rssBefore = await metric(http, 'process_resident_memory_bytes');
  const sockets: WebSocket[] = [];
  const start = performance.now();
  try {
    for (let i = 0; i < count; i += 200) {
      const wave = Array.from({ length: Math.min(200, count - i) }, (_, j) => new WebSocket(`${url}/rooms/idle-room-${String((i + j) % 1000).padStart(10, '0')}`));
      await Promise.all(
        wave.map(
          (ws) =>
            new Promise((resolve, reject) => {
              ws.once('open', resolve);
              ws.once('error', reject);
            }),
        ),
      );
      sockets.push(...wave);
    }
    const openMs = performance.now() - start;
    const held = await metric(http, 'tidelog_relay_connections');
    const rssAfter = await metric(http, 'process_resident_memory_bytes');
    // An active pair must still be served while the relay holds all of them.
    const [a, b] = [new WebSocket(`${url}/rooms/active-room-000000`), new WebSocket(`${url}/rooms/active-room-000000`)];
    await Promise.all([a, b].map((ws) => new Promise((resolve) => ws.once('open', resolve))));
    const got = new Promise((resolve) => b.once('message', resolve));
    const sentAt = performance.now();
    a.send(new Uint8Array(100));
    await got;
    const pairMs = performance.now() - sentAt;
    a.terminate();
    b.terminate();
    if (held !== count) throw new Error(`relay bench: relay holds ${held} connections, expected ${count}`);
    return [
      {
        name: 'idle connections held by one relay',
        value: held,
        unit: 'connections',
        group: 'connections',
        note: `opened in ${Math.round(openMs)} ms, 200 at a time, over 1,000 rooms`,
      },
      { name: 'relay resident memory per idle connection', value: (rssAfter - rssBefore) / count, unit: 'B', group: 'connections' },
      { name: 'frame latency between an active pair meanwhile', value: pairMs, unit: 'ms', group: 'connections' },
    ];
  } finally {
    for (const ws of sockets) ws.terminate();
  }
}

/** One writer here, each reader in its own process (as on separate devices): ops/s delivered to the slowest reader. */
async function fanOutProcesses(url: string, readers: number, ops: number): Promise<BenchResult> {
  const key = generateRoomKey();
  const invite = roomKeyToInvite(key);
  const children = Array.from({ length: readers }, () =>
    spawn(process.execPath, [...readerNodeArgs, '--import', 'tsx', readerScript, url, invite, String(ops), String(tickMs)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const lines = children.map((child) => {
    const queue: string[] = [];
    const waiters: ((line: string) => void)[] = [];
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const waiter = waiters.shift();
      if (waiter === undefined) queue.push(line);
      else waiter(line);
    });
    return () => (queue.length > 0 ? Promise.resolve(queue.shift() as string) : new Promise<string>((resolve) => waiters.push(resolve)));
  });
  const writer = await openSyncedReplicaNode({ relayUrl: url, key, session: sessionOptions, replica: KEEP_HISTORY });
  try {
    await Promise.all(lines.map((next) => next()));
    await until(() => writer.socket.connected, 10_000, 'the writer to connect');
    await new Promise((r) => setTimeout(r, 200));
    for (const child of children) child.stdin?.write('go\n');
    const start = performance.now();
    const cpuStart = { writer: process.cpuUsage(), relay: childCpuMs(relayPid) };
    await writeOps(writer.replica, 0, ops, 10_000);
    const reported = await Promise.all(lines.map(async (next) => (await next()).split(' ').slice(1).map(Number) as [number, number]));
    const seconds = (performance.now() - start) / 1000;
    const writerCpu = process.cpuUsage(cpuStart.writer);
    const relayCpuMs = childCpuMs(relayPid) - cpuStart.relay;
    const perReader = ops / seconds;
    return {
      name: `encrypted sync, 1 writer -> ${readers} reader processes`,
      opsPerSecond: perReader,
      group: 'throughput',
      ops,
      note: `slowest reader; readers' own clocks: ${reported.map(([ms]) => Math.round(ms)).join(', ')} ms; CPU ms: readers ${reported.map(([, cpu]) => Math.round(cpu)).join(', ')}, writer ${Math.round((writerCpu.user + writerCpu.system) / 1000)}, relay ${relayCpuMs}; writer sent ${(writer.session.status().opsSent / ops).toFixed(2)}x the ops written; target ${TARGET_OPS_PER_SECOND_PER_READER.toLocaleString('en-US')}: ${perReader >= TARGET_OPS_PER_SECOND_PER_READER ? 'met' : 'NOT met'}`,
    };
  } finally {
    await writer.close();
    // Readers exit by themselves once done (a profiling reader writes its profile then); stragglers are killed.
    await Promise.race([Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined))), new Promise((r) => setTimeout(r, 5_000))]);
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** The relay's share alone: raw 1,000-op-sized frames from one sender to `readers` receivers, no crypto, no replica. */
async function forwardingOnly(url: string, readers: number, frames: number, frameBytes: number): Promise<BenchResult> {
  const room = `forward-room-${readers}-000000`;
  const connect = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${url}/rooms/${room}`);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const sender = await connect();
  const receivers = await Promise.all(Array.from({ length: readers }, connect));
  const counts = receivers.map(() => 0);
  receivers.forEach((ws, i) => {
    ws.on('message', () => {
      counts[i] = (counts[i] as number) + 1;
    });
  });
  const frame = new Uint8Array(frameBytes).fill(7);
  const start = performance.now();
  for (let i = 0; i < frames; i++) {
    sender.send(frame);
    if (i % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  await until(() => counts.every((c) => c >= frames), 60_000, 'forwarded frames');
  const seconds = (performance.now() - start) / 1000;
  for (const ws of [sender, ...receivers]) ws.terminate();
  return {
    name: `relay forwarding only, 1 -> ${readers} (1,000-op frames)`,
    opsPerSecond: (frames * 1000) / seconds,
    group: 'throughput',
    bytes: frameBytes,
    note: `${frameBytes} B frames, no crypto or replica: the relay's own ceiling, in ops/s per reader`,
  };
}

/** One reader's own work per op, in isolation: open the envelope, decode the sync message, merge. */
async function readerStages(ops: number): Promise<BenchResult> {
  const key = generateRoomKey();
  const { Replica } = await import('../src/core/replica.js');
  const { encodeMessage, decodeMessage } = await import('../src/sync/messages.js');
  const { EnvelopeSealer, EnvelopeOpener } = await import('../src/crypto/envelope.js');
  const source = await Replica.open(KEEP_HISTORY);
  await writeOps(source, 0, ops, 10_000);
  const all = source.opsSince({});
  const sealer = new EnvelopeSealer(key, 'w');
  const envelopes: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 1000) envelopes.push(await sealer.seal(encodeMessage({ type: 'ops', from: source.replicaId, ops: all.slice(i, i + 1000) })));
  const opener = new EnvelopeOpener(key);
  const target = await Replica.open(KEEP_HISTORY);
  // Stage by stage over all frames, so work a stage leaves pending is not billed to the next one.
  let t = performance.now();
  const plaintexts: Uint8Array[] = [];
  for (const envelope of envelopes) plaintexts.push((await opener.open(envelope)).plaintext);
  const times = { open: performance.now() - t, decode: 0, apply: 0 };
  t = performance.now();
  const messages = plaintexts.map((p) => decodeMessage(p));
  times.decode = performance.now() - t;
  t = performance.now();
  for (const message of messages) if (message.type === 'ops') await target.applyRemote(message.ops);
  times.apply = performance.now() - t;
  if (target.size !== source.size) throw new Error('relay bench: stage check failed');
  const total = times.open + times.decode + times.apply;
  const share = (ms: number) => `${Math.round((ms / total) * 100)}%`;
  await source.close();
  await target.close();
  return {
    name: 'one reader alone: open + decode + merge',
    opsPerSecond: (ops * 1000) / total,
    group: 'throughput',
    ops,
    note: `time split: open ${share(times.open)}, decode ${share(times.decode)}, merge ${share(times.apply)} (one core, no network)`,
  };
}

/** Parts of the suite (`--only throughput|processes|catch-up|connections` runs one while iterating; `processes` is the reader-process runs of `throughput` alone). */
type RelayBenchPart = 'throughput' | 'processes' | 'catch-up' | 'connections';

/** The suite. */
export async function relaySuite(opts: SuiteOptions, only?: RelayBenchPart): Promise<BenchResult[]> {
  const { url, http, proc } = await startRelay();
  const runs = (part: RelayBenchPart) => only === undefined || only === part;
  try {
    const results: BenchResult[] = [];
    if (runs('throughput')) {
      // Warm the JIT on both sides of the wire before measuring.
      await fanOut(url, 1, 30_000);
      for (const readers of opts.quick ? [1, 3] : [1, 3, 5]) results.push(await fanOut(url, readers, opts.quick ? 50_000 : 300_000));
      for (const readers of opts.quick ? [1] : [1, 3, 5]) results.push(await fanOutProcesses(url, readers, opts.quick ? 50_000 : 300_000));
      results.push(await readerStages(opts.quick ? 50_000 : 200_000));
      for (const readers of opts.quick ? [3] : [1, 3, 5]) results.push(await forwardingOnly(url, readers, opts.quick ? 300 : 2_000, 60_000));
    }
    if (only === 'processes') {
      await fanOut(url, 1, 30_000);
      for (const readers of [1, 3, 5]) results.push(await fanOutProcesses(url, readers, opts.quick ? 50_000 : 300_000));
    }
    // The 5 s tick is the session default; 1 s is what the throughput runs use.
    if (runs('catch-up')) for (const tickMs of [1_000, 5_000]) results.push(await catchUp(url, opts.quick ? 100_000 : 1_000_000, tickMs));
    if (runs('connections')) results.push(...(await connectionsHeld(url, http, opts.quick ? 1_000 : 15_000)));
    return results;
  } finally {
    await stopRelay(proc);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt === -1 ? undefined : (process.argv[onlyAt + 1] as RelayBenchPart);
  for (const r of await relaySuite({ quick: process.argv.includes('--quick') }, only)) {
    const figure =
      r.opsPerSecond !== undefined && r.unit === undefined ? `${Math.round(r.opsPerSecond).toLocaleString('en-US')} ops/s` : `${Math.round((r.value ?? 0) * 100) / 100} ${r.unit}`;
    console.log(`${r.name.padEnd(52)} ${figure}${r.note ? `  (${r.note})` : ''}`);
  }
}
