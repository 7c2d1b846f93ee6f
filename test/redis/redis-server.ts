/** Test helper: a real `redis-server` on a free loopback port, killed and restarted on demand. */
import { type ChildProcess, spawn } from 'node:child_process';
import { canConnect, freePort } from '../support/loopback.js';

export { freePort };

/** A redis-server child process on a fixed port (kept across restarts so clients reconnect to it). */
export class RedisServer {
  readonly port: number;
  #child: ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  /** Starts a server on a free port, without persistence. */
  static async start(): Promise<RedisServer> {
    return RedisServer.startOn(await freePort());
  }

  /** Starts a server on `port`, without persistence. */
  static async startOn(port: number): Promise<RedisServer> {
    const server = new RedisServer(port);
    await server.restart();
    return server;
  }

  /** `redis://127.0.0.1:port`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the process and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.#child = child;
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (spawnError !== undefined) throw new Error(`cannot run redis-server (${spawnError.message}): install Debian's redis-server (.ci/run does)`);
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (port ${this.port} taken?)`);
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGSTOP: the server hangs with its sockets open (as a swapping or wedged Redis would). */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Kills the process with SIGKILL (a crash, not a shutdown) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
