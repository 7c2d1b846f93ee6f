/**
 * The next segment file, made ready off the event loop before the active one fills up.
 * Creating a segment (header + zero-filled preallocation + fdatasync) takes milliseconds;
 * done at the roll, it stalls every writer waiting on the group commit behind it. A spare is
 * written under a temporary name (`log-<index>.tlog.tmp`, which recovery deletes on open, so a
 * crash leaves nothing half-made in the log) and renamed into place at the roll.
 */
import * as fs from 'node:fs';

/** A segment file being prepared, or prepared, under a temporary name. */
export class SpareSegment {
  /** The open file, once it is fully written and synced. */
  private fd: number | undefined;
  private failed = false;
  /** Settles (never rejects) once the file is ready or has failed; it is closed and removed if it failed. */
  readonly settled: Promise<void>;

  private constructor(
    /** The segment index it is made for. */
    readonly index: number,
    /** Its temporary path. */
    readonly tmpPath: string,
    /** The file's initial content: the segment header followed by zeros. */
    content: Uint8Array,
  ) {
    this.settled = this.create(content);
  }

  /** Starts preparing `tmpPath` with `content` on the libuv thread pool. */
  static prepare(index: number, tmpPath: string, content: Uint8Array): SpareSegment {
    return new SpareSegment(index, tmpPath, content);
  }

  /** The file descriptor if the spare is ready now (hands ownership to the caller), else undefined. */
  take(): number | undefined {
    const fd = this.fd;
    this.fd = undefined;
    return fd;
  }

  /** Closes and removes whatever is left of the spare once its preparation has settled. */
  async discard(): Promise<void> {
    await this.settled;
    const fd = this.take();
    if (fd !== undefined) fs.closeSync(fd);
    if (!this.failed) fs.rmSync(this.tmpPath, { force: true });
  }

  private async create(content: Uint8Array): Promise<void> {
    let fd: number | undefined;
    try {
      fd = await call<number>((done) => fs.open(this.tmpPath, 'wx', done));
      let written = 0;
      while (written < content.length) {
        const at = written;
        written += await call<number>((done) => fs.write(fd as number, content, at, content.length - at, at, done));
      }
      await call<void>((done) => fs.fdatasync(fd as number, done));
      this.fd = fd;
    } catch {
      // A spare is an optimization: the roll then creates the segment itself and meets the real error, if any.
      this.failed = true;
      if (fd === undefined) return; // not ours (the open failed): leave whatever is there alone
      fs.closeSync(fd);
      fs.rmSync(this.tmpPath, { force: true });
    }
  }
}

function call<T>(start: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
}
