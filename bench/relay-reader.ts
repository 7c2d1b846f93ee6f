/**
 * A reader in its own process for `bench/relay.bench.ts`: joins the room, prints
 * `ready` once connected, then `done <ms>` (its own monotonic clock, from the `go`
 * line on stdin) once it holds `expectedOps` ops. Argv: relayUrl invite expectedOps.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { openSyncedReplicaNode } from '../src/client/node.js';

const [relayUrl, invite, expected] = process.argv.slice(2) as [string, string, string];
const expectedOps = Number(expected);
const synced = await openSyncedReplicaNode({ relayUrl, key: invite, session: { antiEntropyIntervalMs: 1_000 } });
const total = () => Object.values(synced.replica.versionVector()).reduce((n, v) => n + v, 0);
while (!synced.socket.connected) await new Promise((r) => setTimeout(r, 5));
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).once('line', () => {
  const start = performance.now();
  const check = () => {
    if (total() < expectedOps) return;
    unsubscribe();
    process.stdout.write(`done ${performance.now() - start}\n`);
    void synced.close().then(() => process.exit(0));
  };
  const unsubscribe = synced.replica.subscribe(check);
  check();
});
