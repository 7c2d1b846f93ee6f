/**
 * Offline start: registers the service worker (public/sw.js) and caches the
 * app shell (this page and the script and style it loaded), so a reload with
 * the network off still opens the app, which then reads IndexedDB as usual.
 */

/** Must match the cache name in public/sw.js. */
const SHELL_CACHE = 'tidelog-demo-shell-v1';

/** Registers the worker and caches the shell; resolves `false` where service workers are unavailable. */
export async function enableOfflineStart(): Promise<boolean> {
  if (!('serviceWorker' in navigator) || typeof caches === 'undefined') return false;
  await navigator.serviceWorker.register('./sw.js');
  const assets = [...document.querySelectorAll<HTMLScriptElement | HTMLLinkElement>('script[src], link[rel="stylesheet"][href]')].map((element) =>
    element instanceof HTMLScriptElement ? element.src : element.href,
  );
  const cache = await caches.open(SHELL_CACHE);
  await cache.addAll([location.pathname, ...assets]);
  return true;
}
