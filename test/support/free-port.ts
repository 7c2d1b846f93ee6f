/** A loopback port for child processes that must be told their port up front. */
import { createServer } from 'node:net';

/**
 * A port that was free a moment ago (bound on 127.0.0.1, then released). Another process
 * could take it in between; tests and benches that start their own servers accept that race.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
