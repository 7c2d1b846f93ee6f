/**
 * The demo's service worker: lets the app start with the network off.
 * Network first (a rebuilt app is never hidden behind a stale cache), the
 * cache when the network fails. The page fills the cache with its own shell
 * (see `cacheAppShell` in src/offline.ts); every later same-origin GET that
 * succeeds refreshes its entry.
 */
const CACHE = 'tidelog-demo-shell-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request).then(
      (response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      },
      // Offline: the cached copy; query strings (?relay=...) do not change the shell.
      () => caches.match(request, { ignoreSearch: true }).then((hit) => hit ?? Response.error()),
    ),
  );
});
