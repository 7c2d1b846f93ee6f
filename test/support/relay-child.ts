/**
 * A real `tidelog relay` child process on a free loopback port, for abuse tests and benches that
 * measure the relay from the outside: its resident memory from /proc, its /metrics, an optional
 * open-file limit (run under `prlimit`, as an operator's `LimitNOFILE` would).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './loopback.js';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Options of {@link RelayChild.start}. */
export interface RelayChildOptions {
  /** Soft and hard limit on open files of the relay process (RLIMIT_NOFILE). */
  readonly fileLimit?: number;
  /** Extra node flags (e.g. `--expose-gc`). */
  readonly nodeArgs?: readonly string[];
}

/** One relay process. */
export class RelayChild {
  /** Everything it wrote (JSON log lines), for failure messages. */
  output = '';
  private constructor(
    /** Its TCP port. */
    readonly port: number,
    private readonly proc: ChildProcess,
  ) {}

  /** Starts `tidelog relay --port <free> --log-level warn ...args` and waits for `/healthz`. */
  static async start(args: readonly string[], options: RelayChildOptions = {}): Promise<RelayChild> {
    const port = await freePort();
    const node = [process.execPath, ...(options.nodeArgs ?? []), '--import', 'tsx', cli, 'relay', '--port', String(port), '--log-level', 'warn', ...args];
    const command = options.fileLimit === undefined ? node : ['prlimit', `--nofile=${options.fileLimit}:${options.fileLimit}`, ...node];
    const proc = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = new RelayChild(port, proc);
    proc.stdout?.on('data', (d: Buffer) => {
      relay.output += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      relay.output += d.toString();
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`${relay.http}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok) return relay;
      } catch {
        // not up yet
      }
      if (proc.exitCode !== null) throw new Error(`relay exited with ${proc.exitCode}: ${relay.output}`);
      if (Date.now() > deadline) throw new Error(`relay did not start: ${relay.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** `ws://127.0.0.1:port`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:port`. */
  get http(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The relay's pid (the node process: `prlimit` execs it). */
  get pid(): number {
    return this.proc.pid as number;
  }

  /** Resident memory of the relay process in bytes, from /proc (Linux). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? Number.NaN : Number(kb) * 1024;
  }

  /** CPU time (user + system) of the relay process so far, in ms, from /proc (Linux; clock ticks of 10 ms). */
  cpuMs(): number {
    try {
      const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return Number.NaN;
    }
  }

  /** Open file descriptors of the relay process right now. */
  openFiles(): number {
    try {
      return readdirSync(`/proc/${this.pid}/fd`).length;
    } catch {
      return Number.NaN;
    }
  }

  /** One sample of a metric from `/metrics` (`name` with its label set, e.g. `x{reason="y"}`), or NaN. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.http}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** Stops it (SIGTERM: a graceful drain; SIGKILL: a crash) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}
