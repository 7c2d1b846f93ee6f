/**
 * A reader in its own process for `bench/relay.bench.ts`: joins the room, prints
 * `ready` once connected, then `done <ms> <cpuMs>` (its own monotonic clock and its CPU time, user + system,
 * from the `go` line on stdin) once it holds `expectedOps` ops. Argv: relayUrl invite expectedOps [antiEntropyIntervalMs].
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { openSyncedReplicaNode } from '../src/client/node.js';

const [relayUrl, invite, expected, tick] = process.argv.slice(2) as [string, string, string, string | undefined];
const expectedOps = Number(expected);
const synced = await openSyncedReplicaNode({ relayUrl, key: invite, session: { antiEntropyIntervalMs: Number(tick ?? 1_000) }, replica: { heldOpsMax: Number.POSITIVE_INFINITY } });
const total = () => Object.values(synced.replica.versionVector()).reduce((n, v) => n + v, 0);
while (!synced.socket.connected) await new Promise((r) => setTimeout(r, 5));
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).once('line', () => {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const check = () => {
    if (total() < expectedOps) return;
    unsubscribe();
    const cpu = process.cpuUsage(cpuStart);
    process.stdout.write(`done ${performance.now() - start} ${(cpu.user + cpu.system) / 1000}\n`);
    void synced.close().then(() => process.exit(0));
  };
  // Ops events, not change records: the reader only counts, like the in-process readers that poll the vector.
  const unsubscribe = synced.replica.subscribeOps(check);
  check();
});
