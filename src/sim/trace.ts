/**
 * The run's trace: one line per event, hashed as it is written (FNV-1a, 64 bits
 * from two 32-bit lanes), with the last lines kept for failure excerpts. Two
 * runs of one seed must produce the same hash; the determinism check keeps
 * every line to name the first difference.
 */

/** Records trace lines. */
export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193 ^ 0x5bd1e995;
  private readonly ring: string[];
  private ringNext = 0;
  /** Number of lines written. */
  count = 0;
  /** Every line, when kept (determinism check, replay with --trace). */
  readonly lines: string[] | undefined;

  constructor(options: { readonly ringLines?: number; readonly keepAll?: boolean; readonly echo?: (line: string) => void } = {}) {
    this.ring = new Array(options.ringLines ?? 64);
    this.lines = options.keepAll ? [] : undefined;
    this.echo = options.echo;
  }

  private readonly echo: ((line: string) => void) | undefined;

  /** Appends one line. */
  write(line: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    this.h1 = Math.imul(h1 ^ 10, 0x01000193);
    this.h2 = Math.imul(h2 ^ 10, 0x5bd1e995);
    this.ring[this.ringNext] = line;
    this.ringNext = (this.ringNext + 1) % this.ring.length;
    this.lines?.push(line);
    this.echo?.(`#${this.count} ${line}`);
    this.count += 1;
  }

  /** The hash of every line so far, 16 hex digits. */
  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** The last lines written, oldest first. */
  tail(): string[] {
    const out: string[] = [];
    const first = this.count - Math.min(this.count, this.ring.length);
    for (let n = first; n < this.count; n++) out.push(`#${n} ${this.ring[n % this.ring.length]}`);
    return out;
  }
}
