/**
 * A real, small file system for out-of-space tests: a tmpfs of a few MiB mounted by the test.
 * Mounting needs root (or CAP_SYS_ADMIN); where it is not permitted, {@link mountSmallFs} says why
 * and the caller skips with that reason in the test name, so the skip is visible in every report.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A mounted tmpfs, or the reason there is none. */
export type SmallFs = { readonly dir: string; readonly unmount: () => void; readonly skipReason?: undefined } | { readonly dir?: undefined; readonly unmount?: undefined; readonly skipReason: string };

/** Mounts a tmpfs of `sizeBytes` on a fresh directory under the OS temp dir. Never throws. */
export function mountSmallFs(sizeBytes: number, prefix = 'tidelog-smallfs-'): SmallFs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    return { skipReason: `mounting a ${sizeBytes}-byte tmpfs is not permitted here (${stderr || 'mount failed'})` };
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
