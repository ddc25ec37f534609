// Service worker: the filling pages keep working without a network.
// - static files: served from the cache, refreshed in the background;
// - the pages kept for offline use ("我的检查", each inspection's filling, guidance and submit
//   pages): network first, the cached copy when offline. offline.js stores a page's own copy
//   on its first visit (before this worker controlled it), and 准备离线 stores every editable
//   inspection of the inspector, in the same cache (PAGES);
// - any other page when offline: the app's own offline page, never a browser error;
// - the API and every non-GET request: always the network (changes wait in the outbox, in
//   IndexedDB, which this worker never touches: a new version loses nothing).
// /sw.js replaces the version below with the app's version and a hash of its files.
const VERSION = "__SW_VERSION__";
const STATIC = `inspect-static-${VERSION}`;
// Kept across versions: a new worker keeps the pages prepared for offline use.
const PAGES = "inspect-pages-v1";
const OFFLINE = "/offline";
const PRECACHE = [
  "/static/css/app.css",
  "/static/css/pages.css",
  "/static/js/app.js",
  "/static/js/fill.js",
  "/static/js/fill-media.js",
  "/static/js/conditions.js",
  "/static/js/outbox.js",
  "/static/js/logout.js",
  "/static/js/offline.js",
  "/static/js/sync.js",
  "/static/js/prepare.js",
  "/static/js/signature.js",
  "/static/js/submit-offline.js",
  "/static/favicon.svg",
];
const PAGE = /^\/inspections\/(\d+(\/(guidance|submit))?)?\/?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    Promise.all([
      caches.open(STATIC).then((cache) => cache.addAll(PRECACHE)),
      caches.open(PAGES).then((cache) => cache.add(OFFLINE).catch(() => {})),
    ]),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== STATIC && k !== PAGES).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function staleWhileRevalidate(request) {
  const cache = await caches.open(STATIC);
  const cached = await cache.match(request, { ignoreSearch: true });
  const fresh = fetch(request)
    .then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    })
    .catch(() => cached);
  return cached || fresh;
}

async function offlinePage(request) {
  if (request.mode !== "navigate") return Response.error();
  return (await caches.match(OFFLINE)) || Response.error();
}

async function networkFirst(request, keep) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (keep && response.ok && !response.redirected) cache.put(request, response.clone());
    return response;
  } catch (err) {
    return (await cache.match(request)) || offlinePage(request);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(request));
  } else if (PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(request, true));
  } else if (request.mode === "navigate" && !url.pathname.startsWith("/api/")) {
    event.respondWith(networkFirst(request, false));
  }
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (msg) => event.ports[0]?.postMessage(msg);
  if (data.type === "forget-pages") {
    // Logging out on a shared tablet: forget the cached pages.
    event.waitUntil(caches.delete(PAGES).then(() => reply({ ok: true })));
  } else if (data.type === "skip-waiting") {
    // Asked by a page once nothing waits in the outbox and the user agreed (offline.js).
    self.skipWaiting();
  } else if (data.type === "version") {
    reply({ version: VERSION });
  }
});
