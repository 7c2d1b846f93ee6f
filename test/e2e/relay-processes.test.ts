/**
 * The end-to-end run, with real processes on loopback: a `tidelog relay`
 * process and three replica processes on file logs. They write concurrently; one
 * goes offline and keeps writing; the relay is killed (SIGKILL) and restarted;
 * a replica is killed and restarted from its directory; all converge, nothing
 * acknowledged is lost, and the relay never received a byte of plaintext.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateRoomKey, roomKeyToInvite } from '../../src/crypto/room-key.js';
import { freePort } from '../support/loopback.js';
import { RelayProc, ReplicaProc } from './processes.js';

let workDir = '';
const replicas: ReplicaProc[] = [];
let relay: RelayProc | undefined;

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill()));
  await relay?.kill();
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

type Dump = { entries: [string, unknown][]; vv: Record<string, number>; connected: boolean; rejected: Record<string, number> };

async function dumps(peers: readonly ReplicaProc[]): Promise<Dump[]> {
  return (await Promise.all(peers.map((p) => p.request({ cmd: 'dump' })))) as unknown as Dump[];
}

async function converged(peers: readonly ReplicaProc[], timeoutMs: number): Promise<Dump[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await dumps(peers);
    const first = JSON.stringify(all[0]?.entries);
    if (all.every((d) => JSON.stringify(d.entries) === first)) return all;
    if (Date.now() > deadline) throw new Error(`no convergence: sizes ${all.map((d) => d.entries.length).join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('real relay and replica processes', () => {
  it('converge through writes, an offline replica, a relay crash and a replica crash, leaking no plaintext', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tidelog-e2e-'));
    const captures = [join(workDir, 'capture-1.bin'), join(workDir, 'capture-2.bin')];
    const port = await freePort();
    relay = new RelayProc(port, ['--host', '127.0.0.1', '--log-level', 'warn']);
    await relay.start(['--capture', captures[0] as string]);
    const invite = roomKeyToInvite(generateRoomKey());
    const names = ['A', 'B', 'C'];
    const dirs = names.map((n) => join(workDir, `db-${n}`));
    replicas.push(...(await Promise.all(names.map((n, i) => ReplicaProc.spawn(n, relay?.url as string, invite, dirs[i] as string)))));
    const [a, b, c] = replicas as [ReplicaProc, ReplicaProc, ReplicaProc];
    const acked = new Map<string, string>();
    const write = async (peer: ReplicaProc, from: number, count: number) => {
      const reply = (await peer.request({ cmd: 'write', prefix: peer.name, from, count, shared: 25 })) as { acked: string[] };
      for (const key of reply.acked) acked.set(key, `plaintext-value-${peer.name}-${Number(key.slice(-5))}`);
    };

    // 1. Everyone writes at once, own keys and 25 contended shared keys.
    await Promise.all([write(a, 0, 300), write(b, 0, 300), write(c, 0, 300)]);
    await converged(replicas, 20_000);

    // 2. C goes offline and keeps writing; the others write too.
    await c.request({ cmd: 'offline' });
    await Promise.all([write(a, 300, 200), write(b, 300, 200), write(c, 300, 200)]);

    // 3. The relay crashes; A and B keep writing; the relay restarts on the same port.
    await relay.kill('SIGKILL');
    await Promise.all([write(a, 500, 100), write(b, 500, 100)]);
    await relay.start(['--capture', captures[1] as string]);

    // 4. B crashes after its acknowledged writes and restarts from its file log.
    await b.kill();
    const b2 = await ReplicaProc.spawn('B', relay.url, invite, dirs[1] as string);
    replicas[1] = b2;
    await write(b2, 600, 50);

    // 5. C comes back online: all converge.
    await c.request({ cmd: 'online' });
    const final = await converged(replicas, 30_000);
    const state = new Map(final[0]?.entries as [string, unknown][]);
    for (const [key, value] of acked) expect(state.get(key), key).toBe(value);
    expect(acked.size).toBe(300 * 3 + 200 * 3 + 100 * 2 + 50);
    for (let i = 0; i < 25; i++) expect(String(state.get(`plaintext-shared-${i}`))).toMatch(/^plaintext-by-[ABC]-/);
    for (const d of final) expect(d.rejected).toEqual({});

    // 6. The relay saw only ciphertext: no key, value or invite byte in anything it received.
    const capture = Buffer.concat(await Promise.all(captures.map((f) => readFile(f))));
    expect(capture.length).toBeGreaterThan(acked.size * 20);
    expect(capture.includes('plaintext')).toBe(false);
    expect(capture.includes(invite.slice('tidelog1:'.length, 'tidelog1:'.length + 12))).toBe(false);
    const metrics = await relay.metrics();
    expect(metrics).toMatch(/tidelog_relay_frames_relayed_total [1-9]/);
    expect(await relay.kill('SIGTERM')).toBe(0);
    relay = undefined;
    await Promise.all(replicas.map((r) => r.exit()));
  });
});
