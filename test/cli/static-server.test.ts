import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, startStaticServer } from '../../src/cli/static-server.js';

let dir: string;
let server: StaticServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidelog-static-'));
  await mkdir(join(dir, 'app', 'assets'), { recursive: true });
  await writeFile(join(dir, 'app', 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(dir, 'app', 'assets', 'main.js'), 'export {};');
  await writeFile(join(dir, 'secret.txt'), 'outside the root');
  server = await startStaticServer({ rootDir: join(dir, 'app'), config: { relayUrl: 'ws://127.0.0.1:1' } });
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

describe('the demo static server', () => {
  it('serves files with their content type, and index.html for unknown paths', async () => {
    expect(await get('assets/main.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8', body: 'export {};' });
    expect((await get('')).body).toContain('<title>app</title>');
    expect((await get('some/deep/link?x=1')).body).toContain('<title>app</title>');
  });

  it('serves the config the app reads its relay URL from', async () => {
    const { status, body } = await get('tidelog-config.json');
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ relayUrl: 'ws://127.0.0.1:1' });
  });

  it('never serves a file outside its root', async () => {
    for (const path of ['..%2fsecret.txt', '..%2F..%2Fsecret.txt', '%2e%2e/secret.txt', 'assets/..%2f..%2fsecret.txt']) {
      const { body } = await get(path);
      expect(body, path).not.toContain('outside the root');
    }
    expect((await get('..%2fsecret.txt')).status).toBe(403);
    expect((await get('%E0%A4%A')).status).toBe(400);
  });

  it('answers 404 when the app was not built', async () => {
    const empty = await startStaticServer({ rootDir: join(dir, 'missing') });
    try {
      const response = await fetch(`${empty.url}index.html`);
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('was the app built?');
    } finally {
      await empty.close();
    }
  });
});
