/**
 * Every subcommand, in the order `tidelog --help` lists them: what each takes
 * (the parser checks it, `--help` prints it) and a `run` that imports the
 * command's module only when it runs.
 */
import type { Command } from './command.js';
import { RELAY_LIMIT_FLAGS } from './relay-flags.js';
import { replaySpec, simSpec } from './sim-spec.js';

const REDIS_GROUP = 'N relays over one Redis (needs: npm install ioredis@^6)';

const demo: Command = {
  name: 'demo',
  summary: 'two replicas write offline, sync and agree; --web: the browser demo',
  details: [
    "Without --web: two in-memory replicas write conflicting values, exchange their ops and print the merged state and each key's history (the same output every run).",
    'With --web: starts a relay and serves the browser demo (demo/web, built with Vite when its build is missing or --build is given) until Ctrl-C. Needs a checkout of the repository.',
  ],
  positionals: [],
  flags: [
    { name: 'web', kind: 'switch', help: 'serve the browser demo instead' },
    { name: 'port', kind: 'port', help: 'port of the demo app (--web; default 5173)', group: 'With --web' },
    { name: 'relay-port', kind: 'port', help: 'port of its relay (--web; default 8787)', group: 'With --web' },
    { name: 'host', kind: 'text', value: 'host', help: 'interface for both (--web; default 127.0.0.1)', group: 'With --web' },
    { name: 'build', kind: 'switch', help: 'rebuild the app first (--web)', group: 'With --web' },
    { name: 'verbose', kind: 'switch', help: "print the relay's JSON log (--web)", group: 'With --web' },
  ],
  examples: ['tidelog demo', 'tidelog demo --web --port 0 --relay-port 0   # free ports'],
  run: async (args, io) => (await import('./demo.js')).runDemoCommand(args, io),
};

const relay: Command = {
  name: 'relay',
  summary: 'run the end-to-end-encrypted sync relay (it sees ciphertext only)',
  details: [
    'Clients join rooms at ws://<host>:<port>/rooms/<roomId>; the relay forwards their frames to the other members and never holds a key. /metrics serves Prometheus text, /healthz a JSON status. Logs are JSON lines on stderr. SIGTERM or SIGINT stops it.',
  ],
  positionals: [],
  flags: [
    { name: 'port', kind: 'port', help: 'TCP port; 0 picks a free one (default 8080)' },
    { name: 'host', kind: 'text', value: 'host', help: 'interface to listen on (default 127.0.0.1)' },
    { name: 'log-level', kind: 'choice', choices: ['debug', 'info', 'warn', 'error'], help: 'least severe log line printed (default info)' },
    { name: 'capture', kind: 'text', value: 'file', help: 'append every received frame to a file (audits: only ciphertext)' },
    { name: 'store', kind: 'text', value: 'dir', help: 'keep recent frames per room on disk for late devices', group: 'Store-and-forward' },
    { name: 'store-bytes-max', kind: 'int', min: 1, value: 'bytes', help: 'bytes kept per room (default 64 MiB)', group: 'Store-and-forward' },
    { name: 'store-total-bytes-max', kind: 'int', min: 1, value: 'bytes', help: 'bytes kept over all rooms; the rooms written longest ago go first (default 1 GiB)', group: 'Store-and-forward' },
    { name: 'store-age-ms-max', kind: 'int', min: 1, value: 'ms', help: 'oldest frame kept (default 7 days)', group: 'Store-and-forward' },
    ...RELAY_LIMIT_FLAGS,
    { name: 'redis', kind: 'text', value: 'url', help: 'share rooms through Redis at redis://host:port', group: REDIS_GROUP },
    { name: 'relay-id', kind: 'text', value: 'id', help: "this relay's id in the deployment (default random)", group: REDIS_GROUP },
    { name: 'redis-prefix', kind: 'text', value: 'prefix', help: 'prefix of every key and channel (default tidelog:)', group: REDIS_GROUP },
    { name: 'redis-store-frames-max', kind: 'int', min: 0, value: 'N', help: 'frames kept per room in Redis; 0 turns the store off (default 10000)', group: REDIS_GROUP },
    { name: 'redis-store-age-ms-max', kind: 'int', min: 1, value: 'ms', help: 'oldest frame kept in Redis (default 7 days)', group: REDIS_GROUP },
  ],
  examples: ['tidelog relay --port 8080 --store ./relay-data', 'tidelog relay --port 8080 --redis redis://127.0.0.1:6379'],
  run: async (args, io) => (await import('./relay.js')).runRelayCommand(args, io),
};

const inspect: Command = {
  name: 'inspect',
  summary: "show a database: stats and keys, or one key's history (read-only)",
  details: ['Reads without taking the lock, so it works beside a running writer. Times are HLC timestamps: the wall clock in UTC and the logical counter.'],
  positionals: [{ name: 'dir', help: 'the database directory (FileStorage)' }],
  flags: [
    { name: 'key', kind: 'text', value: 'key', help: "print this key's history instead of the keys" },
    { name: 'limit', kind: 'int', min: 0, value: 'N', help: 'keys listed at most (default 50)' },
  ],
  examples: ['tidelog inspect ./my-db', 'tidelog inspect ./my-db --key todo/1'],
  run: async (args, io) => (await import('./inspect.js')).runInspectCommand(args, io),
};

const verify: Command = {
  name: 'verify',
  summary: 'check every record and snapshot of a database; exit 1 on damage',
  details: [
    'Changes nothing. Lists every problem with its file and byte offset; a torn tail (an interrupted write) is cut off by the next open, anything else needs `tidelog repair`.',
  ],
  positionals: [{ name: 'dir', help: 'the database directory' }],
  flags: [],
  run: async (args, io) => (await import('./verify.js')).runVerifyCommand(args, io),
};

const repair: Command = {
  name: 'repair',
  summary: 'keep what is intact before damage; move the rest aside',
  details: [
    'Opens the database for writing with repair on: every record before the first damaged one is kept, the damaged bytes and everything after them are moved to <dir>/damaged/ (nothing is deleted). A damaged meta.json is not repaired: restore it from a backup (it holds the replica id). Stop the writer first: repair takes the lock.',
  ],
  positionals: [{ name: 'dir', help: 'the database directory' }],
  flags: [],
  run: async (args, io) => (await import('./verify.js')).runRepairCommand(args, io),
};

/** The registered subcommands. */
export const commands: readonly Command[] = [demo, relay, inspect, verify, repair, simSpec, replaySpec];
