/** Test helpers: raw `ws` members of a relay room. */
import { WebSocket } from 'ws';

export const ROOM = 'room-abcdefghijklmnop';

export interface TestMember {
  readonly ws: WebSocket;
  readonly frames: Buffer[];
  readonly closed: Promise<number>;
}

/** Opens a member of `room` on the relay at `base`; rejects with the HTTP status on refusal. */
export function join(base: string, room = ROOM): Promise<TestMember> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}/rooms/${room}`);
    const frames: Buffer[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (data) => frames.push(data as Buffer));
    ws.once('open', () => resolve({ ws, frames, closed }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Waits until `check` holds, polling every 10 ms, or throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Reads one sample of a Prometheus metric (with its label set, if given) from `/metrics`. */
export async function metric(httpBase: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}
