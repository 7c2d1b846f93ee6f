/** Small durable-file helpers: the write-temp, fsync, rename, fsync-directory dance. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Fsyncs a directory so that creations, renames and deletions in it survive a power cut. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** {@link fsyncDir} on the libuv thread pool. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fd = await new Promise<number>((resolve, reject) => fs.open(dir, 'r', (error, opened) => (error ? reject(error) : resolve(opened))));
  try {
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes all of `bytes` to `fd` at `position`, looping over short writes. */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) {
    written += fs.writeSync(fd, bytes, written, bytes.length - written, position + written);
  }
}

/** {@link writeFully} on the libuv thread pool; the first write is issued before this returns. */
export async function writeFullyAsync(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const at = written;
    written += await new Promise<number>((resolve, reject) => fs.write(fd, bytes, at, bytes.length - at, position + at, (error, count) => (error ? reject(error) : resolve(count))));
  }
}

/**
 * Replaces `file` atomically with `chunks`: readers see the old content or the new,
 * never a mix, and once this returns the new content survives a power cut.
 */
export function writeFileAtomic(file: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    let position = 0;
    for (const chunk of chunks) {
      writeFully(fd, chunk, position);
      position += chunk.length;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** fdatasync as a promise: runs on the libuv thread pool, so the event loop keeps serving writers meanwhile. */
export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
