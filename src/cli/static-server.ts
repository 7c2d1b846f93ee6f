/**
 * A tiny static file server for the built demo app, on loopback. Enough for
 * the demo and the browser tests; not a production web server.
 */
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

/** A running static server. */
export interface StaticServer {
  /** Base URL, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** Directory to serve (the Vite build output). */
  readonly rootDir: string;
  /** Port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Interface; loopback by default. */
  readonly host?: string;
  /** Served as `/tidelog-config.json`: the app reads its default relay URL from it. */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Serves `rootDir` over HTTP; unknown paths get `index.html` so deep links work. */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const rootDir = resolve(options.rootDir);
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    const answer =
      options.config !== undefined && request.url?.split('?')[0] === '/tidelog-config.json'
        ? Promise.resolve({ status: 200, type: MIME_TYPES['.json'] as string, body: JSON.stringify(options.config) })
        : serveFile(rootDir, request.url ?? '/');
    answer.then(
      ({ status, type, body }) => {
        // no-store: tests rebuild the app between runs and must never see a stale bundle.
        response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        response.end(body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end('internal error');
      },
    );
  });
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () => closeServer(server),
  };
}

async function serveFile(rootDir: string, rawUrl: string): Promise<{ status: number; type: string; body: Buffer | string }> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(rawUrl, 'http://localhost').pathname);
  } catch {
    return { status: 400, type: 'text/plain', body: 'bad request' };
  }
  const path = normalize(join(rootDir, pathname));
  // Refuse anything that escapes the root (`..`, encoded or not).
  if (path !== rootDir && !path.startsWith(rootDir + sep)) return { status: 403, type: 'text/plain', body: 'forbidden' };
  const file = (await isFile(path)) ? path : join(rootDir, 'index.html');
  if (!(await isFile(file))) return { status: 404, type: 'text/plain', body: 'not found (was the app built?)' };
  return { status: 200, type: MIME_TYPES[extname(file)] ?? 'application/octet-stream', body: await readFile(file) };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}
