/**
 * `npm run demo:web`: starts a relay and serves the built demo app on
 * localhost, then prints the URL. Open it in two browser profiles (or one
 * normal and one private window), type the same passphrase, and edit.
 * Ctrl-C stops both servers.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { jsonLogger, RelayServer } from '../../../src/relay/index.js';
import { startStaticServer } from './static-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5173' },
    'relay-port': { type: 'string', default: '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    verbose: { type: 'boolean', default: false },
  },
});

const rootDir = fileURLToPath(new URL('../dist', import.meta.url));
const relay = await RelayServer.start({
  host: values.host,
  port: Number(values['relay-port']),
  ...(values.verbose ? { log: jsonLogger() } : {}),
});
const app = await startStaticServer({ rootDir, host: values.host, port: Number(values.port), config: { relayUrl: relay.url } });

process.stdout.write(
  [
    'Tidelog browser demo',
    `  app:   ${app.url}`,
    `  relay: ${relay.url}  (metrics: http://${values.host}:${relay.port}/metrics)`,
    '',
    'Open the app in two browser profiles, type the same passphrase in both, and add todos.',
    "Turn one profile's network off (devtools > Network > Offline), keep editing, turn it back on.",
    'Ctrl-C to stop.',
    '',
  ].join('\n'),
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  await relay.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
