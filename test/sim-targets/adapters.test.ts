/**
 * Adapter contract details: bad input from a peer gets a typed error and
 * leaves the replica's state intact; a crash keeps only what was durable;
 * missing packages and bad `--target` modules are typed errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTarget } from '../../src/cli/load-target.js';
import { docExample } from '../support/doc-examples.js';
import { TidelogError } from '../../src/core/errors.js';
import { TargetUnavailableError } from '../../src/sim/targets/errors.js';
import { seededRandom } from '../../src/core/random.js';
import { BUILTIN_TARGETS, type CrdtTarget, type TargetReplica } from '../../src/sim/targets/index.js';
import { optionalImport } from '../../src/sim/targets/optional-import.js';

/** Opens a replica whose log is durable at once (or never, with `durable` false). */
async function open(target: CrdtTarget, id: string, durable: Uint8Array[], stored = true): Promise<TargetReplica> {
  const clock = { now: () => 1_000 };
  return target.open({ replicaId: id, clock, clockErrorMsMax: 0, random: seededRandom(7), durable: [...durable], log: { append: async (chunk) => void (stored && durable.push(chunk)) } });
}
const state = (replica: TargetReplica): string => JSON.stringify([...replica.read()].sort());

describe.each(Object.keys(BUILTIN_TARGETS))('adapter %s', (name) => {
  const target = BUILTIN_TARGETS[name] as CrdtTarget;

  it('two replicas converge through summaries and payloads', async () => {
    const a = await open(target, '00000000000000a1', []);
    const b = await open(target, '00000000000000b2', []);
    await a.write([{ key: 'x', value: 1 }, { key: 'y', value: 2 }]);
    await b.write([{ key: 'z', value: 3 }]);
    await a.write([{ key: 'y' }]);
    const toB = a.payloadFor(b.summary());
    const toA = b.payloadFor(a.summary());
    expect(toB).toBeDefined();
    await b.apply(toB as Uint8Array);
    await a.apply(toA as Uint8Array);
    await b.apply(toB as Uint8Array); // a duplicate is harmless
    expect(state(a)).toBe(JSON.stringify([['x', 1], ['z', 3]]));
    expect(state(b)).toBe(state(a));
    expect(a.payloadFor(b.summary())).toBeUndefined();
  });

  it('malformed summaries and payloads are typed errors and leave the state intact', async () => {
    const a = await open(target, '00000000000000a1', []);
    await a.write([{ key: 'x', value: 1 }]);
    const before = state(a);
    expect(() => a.payloadFor(new Uint8Array([0xff, 0x00, 0x13]))).toThrow(TidelogError);
    // Automerge's loader skips bytes that are not a document chunk without complaint; the others must reject them.
    const garbage = new TextEncoder().encode('not a payload');
    if (name === 'automerge') await a.apply(garbage).catch(() => {});
    else await expect(a.apply(garbage)).rejects.toMatchObject({ code: 'DECODE_FAILED' });
    expect(state(a)).toBe(before);
  });

  it('a restart keeps what was durable and loses what was not', async () => {
    const durable: Uint8Array[] = [];
    const a = await open(target, '00000000000000a1', durable);
    await a.write([{ key: 'kept', value: 1 }]);
    const volatileLog: Uint8Array[] = [...durable];
    const b = await open(target, '00000000000000a2', volatileLog, false);
    await b.write([{ key: 'lost', value: 2 }]);
    const restarted = await open(target, '00000000000000a3', volatileLog);
    expect(state(restarted)).toBe(JSON.stringify([['kept', 1]]));
  });
});

describe('loading targets', () => {
  it('a missing CRDT package is a typed TARGET_UNAVAILABLE error naming the package', async () => {
    const error = await optionalImport('@tidelog/no-such-crdt', 'nothing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetUnavailableError);
    expect((error as TargetUnavailableError).code).toBe('TARGET_UNAVAILABLE');
    expect((error as Error).message).toContain('npm install --save-dev @tidelog/no-such-crdt');
  });

  it('built-in names, module paths and named exports resolve; bad ones are typed errors', async () => {
    expect((await loadTarget('yjs')).name).toBe('yjs');
    expect((await loadTarget('tidelog-adapter')).name).toBe('tidelog');
    expect((await loadTarget('test/sim-targets/broken-adapters.ts#ackBeforeStoreTarget')).name).toBe('ack-before-store(tidelog)');
    await expect(loadTarget('test/sim-targets/broken-adapters.ts')).rejects.toMatchObject({ code: 'TARGET_UNAVAILABLE' });
    await expect(loadTarget('test/sim-targets/broken-adapters.ts#nope')).rejects.toMatchObject({ code: 'TARGET_UNAVAILABLE' });
    await expect(loadTarget('test/sim-targets/no-such-module.ts')).rejects.toMatchObject({ code: 'TARGET_UNAVAILABLE' });
    await expect(loadTarget(true)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('the example adapter of docs/sim-targets.md', () => {
  it('is this repository\'s example-adapter.ts, importing from the package instead of the sources', () => {
    const body = (text: string): string => text.slice(text.indexOf('\ntype Entry'));
    const example = readFileSync(new URL('./example-adapter.ts', import.meta.url), 'utf8');
    expect(docExample('my-crdt.ts')).toMatch(/^import type \{ CrdtTarget, TargetReplica, TargetWrite \} from 'tidelog\/sim';\n/);
    expect(body(docExample('my-crdt.ts'))).toBe(body(example));
  });

  it('passes every check under every target fault on three seeds', async () => {
    const { lamportMapTarget } = await import('./example-adapter.js');
    const { runTarget, targetOptions, TARGET_FAULTS } = await import('../../src/sim/targets/index.js');
    for (const seed of [1, 2, 3]) {
      const result = await runTarget(lamportMapTarget, targetOptions(seed, { steps: 200, faults: [...TARGET_FAULTS], faultRate: 0.03 }));
      expect(result.checks).toContain('lww-order');
      expect(result.violations).toEqual([]);
      expect(result.convergence).toBeDefined();
    }
  });
});
