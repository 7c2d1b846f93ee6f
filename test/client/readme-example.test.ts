/**
 * The README's sync example, run as written (the block after "sync-example.mts", with only the relay's port
 * and the package name pointed at this checkout): with a relay it prints the phone's copy and exits; without
 * one it does not hang silently: each client says on stderr, once, that it cannot reach the relay.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RelayServer } from '../../src/relay/server.js';

const repo = join(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'tidelog-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function example(port: number): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /```ts\n(\/\/ sync-example\.mts[\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no sync-example.mts block');
  expect(block).toContain("'ws://127.0.0.1:8080'");
  return block
    .replaceAll('ws://127.0.0.1:8080', `ws://127.0.0.1:${port}`)
    .replace("from 'tidelog/node'", `from ${JSON.stringify(join(repo, 'src/node.ts'))}`)
    .replaceAll('./laptop-db', join(work, `laptop-db-${port}`));
}

function start(code: string, name: string): { child: ChildProcess; output: () => { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const file = join(work, name);
  writeFileSync(file, code);
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the README sync example', () => {
  it("with a relay: prints the phone's copy and exits 0", async () => {
    const relay = await RelayServer.start({ port: 0 });
    try {
      const run = start(example(relay.port), 'with-relay.mts');
      const code = await Promise.race([run.exited, new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 60_000))]);
      if (code === 'hung') run.child.kill('SIGKILL');
      expect(code, run.output().stderr).toBe(0);
      expect(run.output().stdout.trim()).toBe("{ text: 'buy milk', done: false }");
      expect(run.output().stderr).toBe('');
    } finally {
      await relay.close();
    }
  }, 90_000);

  it('without a relay: says once per client that it cannot reach it, and syncs when one comes up', async () => {
    // A port nothing listens on yet: the relay starts there later.
    const probe = await RelayServer.start({ port: 0 });
    const port = probe.port;
    await probe.close();
    const run = start(example(port), 'without-relay.mts');
    let relay: RelayServer | undefined;
    try {
      await until('two warnings', () => (run.output().stderr.match(/cannot reach the relay/g) ?? []).length >= 2, 30_000);
      const lines = run.output().stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      for (const line of lines)
        expect(line).toMatch(new RegExp(`^tidelog: cannot reach the relay at ws://127\\.0\\.0\\.1:${port}/rooms/[A-Za-z0-9_-]+ \\(.*ECONNREFUSED.*\\); retrying with backoff`));
      relay = await RelayServer.start({ port });
      const code = await Promise.race([run.exited, new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 60_000))]);
      if (code === 'hung') run.child.kill('SIGKILL');
      expect(code, run.output().stderr).toBe(0);
      expect(run.output().stdout).toContain('tidelog: connected to the relay at');
      expect(run.output().stdout).toContain("{ text: 'buy milk', done: false }");
    } finally {
      run.child.kill('SIGKILL');
      await relay?.close();
    }
  }, 120_000);
});
