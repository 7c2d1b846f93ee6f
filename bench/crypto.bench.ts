/**
 * The crypto suite (issue 5): AES-256-GCM envelope throughput with both engines
 * (@noble/ciphers, WebCrypto), per single-op frame and per 1,000-op frame, sealing
 * and opening; plus the cost of a passphrase (scrypt) and of an invite (HKDF).
 * Every opened envelope is checked against its plaintext.
 * Standalone: `npx tsx bench/crypto.bench.ts [--quick]`; `npm run bench -- crypto` imports `cryptoSuite`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { encodeOps } from '../src/core/codec.js';
import type { Op } from '../src/core/op.js';
import { type Aead, nobleAead, webCryptoAead } from '../src/crypto/aead.js';
import { EnvelopeOpener, EnvelopeSealer } from '../src/crypto/envelope.js';
import { generateRoomKey, roomKeyFromInvite, roomKeyFromPassphrase, roomKeyToInvite } from '../src/crypto/room-key.js';
import type { BenchResult, SuiteOptions } from './types.js';

function opsOf(count: number): Op[] {
  return Array.from({ length: count }, (_, i) => ({
    replica: 'bench-replica-01',
    seq: i + 1,
    wall: 1_700_000_000_000 + i,
    logical: 0,
    key: `user/${i}/name`,
    type: 'set' as const,
    value: `value number ${i}`,
  }));
}

/** Runs `step` repeatedly for about `budgetMs`; returns calls per second. */
async function rate(budgetMs: number, step: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 20; i++) await step();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < 10; i++) await step();
    calls += 10;
    elapsed = performance.now() - start;
  }
  return (calls * 1000) / elapsed;
}

async function engineResults(aead: Aead, budgetMs: number): Promise<BenchResult[]> {
  const key = generateRoomKey();
  const sealer = new EnvelopeSealer(key, 'bench', { aead });
  const opener = new EnvelopeOpener(key, { aead });
  const out: BenchResult[] = [];
  for (const opsPerFrame of [1, 1_000]) {
    const plaintext = encodeOps(opsOf(opsPerFrame));
    const envelope = await sealer.seal(plaintext);
    const opened = await opener.open(envelope);
    if (opened.plaintext.length !== plaintext.length || opened.plaintext[plaintext.length - 1] !== plaintext[plaintext.length - 1])
      throw new Error('crypto bench: round trip failed');
    const seals = await rate(budgetMs, async () => void (await sealer.seal(plaintext)));
    const opens = await rate(budgetMs, async () => void (await opener.open(envelope)));
    const group = opsPerFrame === 1 ? 'per-op frames' : '1,000-op frames';
    const note = `${plaintext.length} B plaintext per frame`;
    out.push({ name: `seal ${aead.name}, ${group}`, opsPerSecond: seals * opsPerFrame, system: aead.name, group, ops: opsPerFrame, bytes: plaintext.length, note });
    out.push({ name: `open ${aead.name}, ${group}`, opsPerSecond: opens * opsPerFrame, system: aead.name, group, ops: opsPerFrame, bytes: plaintext.length, note });
  }
  return out;
}

/** The suite. */
export async function cryptoSuite(opts: SuiteOptions): Promise<BenchResult[]> {
  const budgetMs = opts.quick ? 150 : 1_000;
  const results: BenchResult[] = [];
  for (const aead of [nobleAead, webCryptoAead(globalThis.crypto.subtle)]) results.push(...(await engineResults(aead, budgetMs)));
  const invite = roomKeyToInvite(generateRoomKey());
  const inviteRate = await rate(budgetMs, async () => void roomKeyFromInvite(invite));
  results.push({ name: 'room key from invite (HKDF)', value: 1000 / inviteRate, unit: 'ms' });
  const start = performance.now();
  await roomKeyFromPassphrase('correct horse battery staple', 'bench-room');
  results.push({ name: 'room key from passphrase (scrypt N=2^15, r=8, p=1)', value: performance.now() - start, unit: 'ms', note: 'once per device and room' });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await cryptoSuite({ quick: process.argv.includes('--quick') })) {
    console.log(`${r.name.padEnd(52)} ${r.opsPerSecond !== undefined ? `${Math.round(r.opsPerSecond).toLocaleString('en-US')} ops/s` : `${r.value?.toFixed(3)} ${r.unit}`}`);
  }
}
