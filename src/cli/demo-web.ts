/**
 * `tidelog demo --web`: the browser demo. Starts a relay and serves the built
 * demo app (demo/web) on localhost, prints the URL, and runs until Ctrl-C.
 * Needs a checkout of the repository: the app is built with Vite (a dev
 * dependency) when its build is missing or `--build` is given.
 * Options: `--port 5173`, `--relay-port 8787` (0 picks free ones), `--host 127.0.0.1`, `--build`, `--verbose`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../core/errors.js';
import { jsonLogger } from '../relay/log.js';
import { RelayServer } from '../relay/server.js';
import type { ParsedArgs } from './args.js';
import { numberFlag, textFlag } from './command.js';
import { startStaticServer } from './static-server.js';

/** Where the demo app lives, from src/cli or dist/cli alike. */
const APP_ROOT = fileURLToPath(new URL('../../demo/web/', import.meta.url));
const APP_BUILD = fileURLToPath(new URL('../../demo/web/dist/', import.meta.url));

/** Builds the app with Vite; explains what to do when this is not a checkout with dev dependencies. */
async function buildApp(write: (line: string) => void): Promise<void> {
  if (!existsSync(`${APP_ROOT}vite.config.ts`))
    throw new InvalidArgumentError(`the demo app's source is not here (${APP_ROOT}); run this from a checkout of the tidelog repository`);
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new InvalidArgumentError('building the demo app needs Vite: run `npm install` in the repository (or `npm run demo:web`)');
  }
  write('Building the demo app with Vite...');
  await vite.build({ configFile: `${APP_ROOT}vite.config.ts`, logLevel: 'warn' });
}

/** Runs the web demo until SIGINT or SIGTERM; resolves with the exit status. Every flag was checked before anything starts. */
export async function runWebDemo(args: ParsedArgs, write: (line: string) => void): Promise<number> {
  const hostName = textFlag(args, 'host') ?? '127.0.0.1';
  const relayPort = numberFlag(args, 'relay-port', 8787);
  const appPort = numberFlag(args, 'port', 5173);
  if (args.flags.has('build') || !existsSync(`${APP_BUILD}index.html`)) await buildApp(write);
  const relay = await RelayServer.start({ host: hostName, port: relayPort, ...(args.flags.has('verbose') ? { log: jsonLogger() } : {}) });
  const app = await startStaticServer({ rootDir: APP_BUILD, host: hostName, port: appPort, config: { relayUrl: relay.url } }).catch(async (error: unknown) => {
    await relay.close();
    throw error;
  });
  write('Tidelog browser demo');
  write(`  app:   ${app.url}`);
  write(`  relay: ${relay.url}  (metrics: http://${hostName}:${relay.port}/metrics)`);
  write('');
  write('Open the app in two browser profiles (or a normal and a private window), type the same passphrase in both, add todos.');
  write('Take one offline (devtools > Network > Offline), keep editing, bring it back: both lists agree. Ctrl-C stops.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  await relay.close();
  return 0;
}
