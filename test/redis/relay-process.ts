/** Test helper: a real `tidelog relay` child process on a free loopback port. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';

const cliPath = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** One relay process. */
export class RelayProcess {
  readonly port: number;
  readonly #args: readonly string[];
  #child: ChildProcess | undefined;
  /** Everything the process wrote to stdout and stderr (structured logs), for failure messages. */
  output = '';

  private constructor(port: number, args: readonly string[]) {
    this.port = port;
    this.#args = args;
  }

  /** Starts `tidelog relay --port <free> ...extraArgs` and waits for `/healthz` to answer. */
  static async start(extraArgs: readonly string[]): Promise<RelayProcess> {
    const relay = new RelayProcess(await freePort(), extraArgs);
    await relay.restart();
    return relay;
  }

  /** `ws://127.0.0.1:port`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the process on the same port. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('relay already running');
    const child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'relay', '--host', '127.0.0.1', '--port', String(this.port), ...this.#args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    const deadline = Date.now() + 20_000;
    while ((await this.health()) === undefined) {
      if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`relay did not start: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The `/healthz` body as JSON (or text), or undefined when the relay does not answer. */
  async health(): Promise<unknown> {
    return this.#get('/healthz');
  }

  /** The `/metrics` text, or undefined. */
  async metrics(): Promise<string | undefined> {
    const text = await this.#get('/metrics');
    return typeof text === 'string' ? text : undefined;
  }

  /** One metric's value (first sample with that exact name), or undefined. */
  async metric(name: string): Promise<number | undefined> {
    const text = (await this.metrics()) ?? '';
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** SIGKILL: a crash, not a graceful shutdown. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async #get(path: string): Promise<unknown> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(2_000) });
      const text = await response.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    } catch {
      return undefined;
    }
  }
}
