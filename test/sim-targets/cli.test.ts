/** `tidelog sim --target`, `--runs`, and `tidelog replay <seed>`. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commands } from '../../src/cli/commands.js';
import { dispatch } from '../../src/cli/cli.js';

let output = '';
afterEach(() => {
  vi.restoreAllMocks();
  output = '';
});
const capture = (): void => {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
};

describe('tidelog sim --target', () => {
  it('runs one seed on the yjs target and prints its checks and trace hash', async () => {
    capture();
    const status = await dispatch(['sim', '--target', 'yjs', '--seed', '2', '--steps', '100', '--replicas', '3']);
    expect(status).toBe(0);
    expect(output).toMatch(/seed 2 target yjs: 3 replicas, 100 steps/);
    expect(output).toMatch(/checks: convergence, acked-writes, liveness; trace hash [0-9a-f]{16}/);
  });

  it('--runs K sweeps K seeds (and --seeds K still does)', async () => {
    capture();
    expect(await dispatch(['sim', '--target', 'automerge', '--runs', '2', '--steps', '80', '--replicas', '2'])).toBe(0);
    expect(output).toMatch(/2 seeds \(1\.\.2\) on target automerge/);
    expect(output).toMatch(/PASSED: all 2 seeds passed every check/);
    output = '';
    expect(await dispatch(['sim', '--target', 'yjs', '--seeds', '2', '--seed', '5', '--steps', '80'])).toBe(0);
    expect(output).toMatch(/2 seeds \(5\.\.6\) on target yjs/);
  });

  it('--runs K also sweeps the Tidelog simulator; --runs and --seeds together are refused', async () => {
    capture();
    expect(await dispatch(['sim', '--runs', '2', '--steps', '100'])).toBe(0);
    expect(output).toMatch(/2 seeds \(1\.\.2\)/);
    for (const target of [[], ['--target', 'yjs']]) {
      await expect(dispatch(['sim', ...target, '--runs', '2', '--seeds', '3'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('give one') });
    }
  });

  it('--check-determinism runs a target seed twice', async () => {
    capture();
    expect(await dispatch(['sim', '--target', 'automerge', '--seed', '3', '--steps', '80', '--check-determinism'])).toBe(0);
    expect(output).toMatch(/deterministic: seed 3 target automerge ran twice with identical traces/);
  });

  it('a broken adapter module fails with status 1, the seed and the replay command', async () => {
    capture();
    const spec = 'test/sim-targets/broken-adapters.ts#arrivalOrderTarget';
    const status = await dispatch(['sim', '--target', spec, '--seed', '1', '--steps', '300', '--replicas', '3']);
    expect(status).toBe(1);
    expect(output).toMatch(/FAILED seed 1 target arrival-order: \d+ violation\(s\)/);
    expect(output).toContain(`replay: npx tidelog replay 1 --target ${spec} --steps 300 --replicas 3`);
  });
});

describe('tidelog replay <seed>', () => {
  it('is registered and reruns a target seed with its trace printed', async () => {
    expect(commands.map((c) => c.name)).toContain('replay');
    capture();
    const status = await dispatch(['replay', '4', '--target', 'yjs', '--steps', '40', '--replicas', '2']);
    expect(status).toBe(0);
    expect(output).toMatch(/#0 0 target yjs replicas=2/);
    expect(output).toMatch(/write n\d /);
    expect(output).toMatch(/seed 4 target yjs/);
  });

  it('--html writes the run as a timeline page for a target too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidelog-targets-'));
    try {
      capture();
      const file = join(dir, 'run.html');
      expect(await dispatch(['replay', '3', '--target', 'automerge', '--steps', '150', '--faults', 'crash,partition', '--fault-rate', '0.05', '--html', file])).toBe(0);
      const page = readFileSync(file, 'utf8');
      expect(page).toContain('target automerge: 0 violation(s)');
      expect((page.match(/<line /g) ?? []).length).toBeGreaterThan(10); // frames as arrows
      expect(page).toMatch(/crashed|partition/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reruns a Tidelog seed through the full simulator with its trace printed', async () => {
    capture();
    const status = await dispatch(['replay', '2', '--steps', '40', '--replicas', '2']);
    expect(status).toBe(0);
    expect(output).toMatch(/#0 /);
    expect(output).toMatch(/seed 2: 2 replicas, 40 steps/);
  });

  it('rejects a missing or malformed seed with a typed error', async () => {
    await expect(dispatch(['replay'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatch(['replay', 'x1'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
