/** Test helpers: real relay and replica child processes on loopback. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';


const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const child = fileURLToPath(new URL('./replica-child.ts', import.meta.url));

/** A `tidelog relay` process. */
export class RelayProc {
  private proc: ChildProcess | undefined;
  output = '';
  constructor(
    readonly port: number,
    private readonly args: readonly string[],
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(extra: readonly string[] = []): Promise<void> {
    const proc = spawn(process.execPath, ['--import', 'tsx', cli, 'relay', '--port', String(this.port), ...this.args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.output += d.toString();
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/healthz`)).ok) return;
      } catch {
        // not up yet
      }
      if (proc.exitCode !== null) throw new Error(`relay exited: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`relay did not start: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  /** Kills the process (SIGKILL by default: a crash) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    return new Promise((resolve) => {
      proc.once('exit', (code) => resolve(code));
      proc.kill(signal);
    });
  }
}

/** A replica child process speaking JSON lines. */
export class ReplicaProc {
  private readonly waiting: ((value: Record<string, unknown>) => void)[] = [];
  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if ('error' in message) process.stderr.write(`[${name}] error: ${String(message.error)}\n`);
      this.waiting.shift()?.(message);
    });
    proc.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
  }

  static async spawn(name: string, relayUrl: string, invite: string, dir: string): Promise<ReplicaProc> {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, relayUrl, invite, dir, `replica-${name}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const replica = new ReplicaProc(name, proc);
    await replica.next();
    return replica;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Sends one command and resolves with its reply. */
  request(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = this.next();
    this.proc.stdin?.write(`${JSON.stringify(command)}\n`);
    return answer;
  }

  /** Crashes the process. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGKILL');
    });
  }

  async exit(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    await this.request({ cmd: 'exit' }).catch(() => undefined);
    await exited;
  }
}
