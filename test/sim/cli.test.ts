import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dispatch } from '../../src/cli/cli.js';
import { parseOverrides } from '../../src/cli/sim.js';

let output = '';
afterEach(() => {
  vi.restoreAllMocks();
  output = '';
});
const capture = () => {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
};

describe('tidelog sim', () => {
  it('runs one seed, prints a summary with the trace hash and exits 0', async () => {
    capture();
    const status = await dispatch(['sim', '--seed', '2', '--steps', '200', '--replicas', '3']);
    expect(status).toBe(0);
    expect(output).toMatch(/seed 2: 3 replicas, 200 steps/);
    expect(output).toMatch(/converged \d+ ms \(virtual\) after the final heal/);
    expect(output).toMatch(/trace hash [0-9a-f]{16}/);
    // What each network figure counts, and a verdict line at the end.
    expect(output).toMatch(/frames sent \d+ \(per frame, each to the 2 other replicas\); per delivery: \d+ delivered, \d+ dropped, \d+ duplicated, \d+ replayed/);
    expect(output.trimEnd().split('\n').at(-1)).toBe('PASSED seed 2: every check held');
  });

  it('lists the fault names', async () => {
    capture();
    expect(await dispatch(['sim', '--faults', 'list'])).toBe(0);
    expect(output.trim().split(', ')).toContain('bitflip');
  });

  it('sweeps seeds and prints convergence percentiles', async () => {
    capture();
    const status = await dispatch(['sim', '--seeds', '3', '--steps', '150']);
    expect(status).toBe(0);
    expect(output).toMatch(/3 seeds \(1\.\.3\)/);
    expect(output).toMatch(/p50 \d+ ms, p95 \d+ ms, p99 \d+ ms/);
  });

  it('fails with status 1, a replay command and a shrunk schedule on a violation', async () => {
    capture();
    const status = await dispatch(['sim', '--seed', '3', '--steps', '200', '--bug', 'ack-before-sync', '--faults', 'crash', '--fault-rate', '0.05', '--shrink-runs', '20']);
    expect(status).toBe(1);
    expect(output).toMatch(/\nFAILED seed 3: \d+ violation\(s\)\n {2}\[(id-reuse|acked-writes)\]/);
    expect(output).toContain('replay: npx tidelog replay 3 --steps 200 --bug ack-before-sync --faults crash --fault-rate 0.05');
    expect(output).toContain('trace excerpt');
    expect(output).toMatch(/smallest failing schedule: \d+ of \d+ actions/);
  });

  it('replays a seed with its trace and checks determinism', async () => {
    capture();
    expect(await dispatch(['sim', '--replay', '4', '--steps', '50', '--replicas', '2'])).toBe(0);
    expect(output).toMatch(/#0 \d+(\.\d+)? (write|commit|deliver)/);
    output = '';
    expect(await dispatch(['sim', '--seed', '4', '--steps', '100', '--check-determinism'])).toBe(0);
    expect(output).toMatch(/deterministic: seed 4 ran twice with identical traces/);
  });

  it('writes a self-contained HTML timeline of a run', async () => {
    capture();
    const dir = mkdtempSync(join(tmpdir(), 'tidelog-sim-'));
    try {
      const file = join(dir, 'run.html');
      expect(await dispatch(['sim', '--seed', '6', '--steps', '200', '--faults', 'partition,pause,crash', '--fault-rate', '0.05', '--html', file])).toBe(0);
      const html = readFileSync(file, 'utf8');
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).toContain('<svg');
      expect(html).toContain('final heal at');
      expect(html).toMatch(/n\d converged \(last change\)/);
      expect(output).toContain(`timeline written to ${file}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown options and bad values with typed errors', async () => {
    await expect(dispatch(['sim', '--meteor', '1'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'unknown option --meteor' });
    await expect(dispatch(['sim', '--replicas', 'many'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => parseOverrides(new Map([['replicas', 1]]))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: '--replicas must be from 2 to 1000' }));
    expect(parseOverrides(new Map<string, string | number>([['drop-probability', 0.5], ['faults', 'drop,crash']]))).toEqual({ dropProbability: 0.5, faults: ['drop', 'crash'] });
  });
});
