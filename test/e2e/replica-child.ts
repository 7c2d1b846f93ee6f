/**
 * A replica in its own process, driven over stdin/stdout with JSON lines:
 * `{"cmd":"write","prefix":"A","from":0,"count":100,"shared":20}` -> `{"acked":[...keys]}` once durable,
 * `offline` / `online` (stop / restart syncing), `dump` -> `{"entries":[...],"vv":{...}}`, `exit`.
 * Argv: relayUrl invite dir replicaId.
 */
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { Replica } from '../../src/core/replica.js';
import { EncryptedTransport } from '../../src/crypto/encrypted-transport.js';
import { roomKeyFromInvite } from '../../src/crypto/room-key.js';
import { roomUrl } from '../../src/client/open-synced-replica.js';
import { FileStorage } from '../../src/storage/file/index.js';
import { SyncSession } from '../../src/sync/session.js';
import { type WebSocketConstructor, WebSocketTransport } from '../../src/sync/websocket-transport.js';

const [relayUrl, invite, dir, replicaId] = process.argv.slice(2) as [string, string, string, string];
const key = roomKeyFromInvite(invite);
const replica = await Replica.open({ storage: await FileStorage.open(dir), replicaId });
let link: { session: SyncSession; encryption: EncryptedTransport } | undefined;

function online(): void {
  if (link !== undefined) return;
  const socket = new WebSocketTransport({
    url: roomUrl(relayUrl, key.roomId),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnectDelayMsMin: 50,
    reconnectDelayMsMax: 500,
  });
  const encryption = new EncryptedTransport(socket, { key });
  const session = new SyncSession(replica, encryption, { antiEntropyIntervalMs: 300 });
  session.start();
  link = { session, encryption };
}

async function offline(): Promise<void> {
  const current = link;
  link = undefined;
  if (current === undefined) return;
  await current.session.stop();
  await current.encryption.close();
}

const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function handle(line: string): Promise<void> {
  const command = JSON.parse(line) as { cmd: string; prefix?: string; from?: number; count?: number; shared?: number };
  switch (command.cmd) {
    case 'write': {
      const { prefix = 'x', from = 0, count = 0, shared = 0 } = command;
      const writes: Promise<unknown>[] = [];
      const acked: string[] = [];
      for (let i = from; i < from + count; i++) {
        const k = `plaintext-key-${prefix}-${String(i).padStart(5, '0')}`;
        writes.push(replica.set(k, `plaintext-value-${prefix}-${i}`).then(() => acked.push(k)));
        if (shared > 0) writes.push(replica.set(`plaintext-shared-${i % shared}`, `plaintext-by-${prefix}-${i}`));
      }
      await Promise.all(writes);
      reply({ acked });
      return;
    }
    case 'offline':
      await offline();
      reply({ ok: true });
      return;
    case 'online':
      online();
      reply({ ok: true });
      return;
    case 'dump':
      reply({ entries: replica.entries(), vv: replica.versionVector(), connected: link?.encryption.connected ?? false, rejected: link?.encryption.stats().framesRejected ?? {} });
      return;
    case 'exit':
      await offline();
      await replica.close();
      reply({ ok: true });
      process.exit(0);
  }
}

online();
reply({ ready: true });
let chain: Promise<unknown> = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  chain = chain.then(() => handle(line)).catch((error: unknown) => reply({ error: String((error as Error).stack ?? error) }));
});
