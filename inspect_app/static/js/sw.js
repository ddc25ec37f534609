// Service worker: the filling pages keep working without a network.
// - static files: served from the cache, refreshed in the background;
// - an inspection's filling page and its guidance: network first, the cached copy when offline;
// - the API and every non-GET request: always the network (answers wait in the page's outbox).
const STATIC = "inspect-static-v2";
const PAGES = "inspect-pages-v1";
const PRECACHE = [
  "/static/css/app.css",
  "/static/css/pages.css",
  "/static/js/app.js",
  "/static/js/fill.js",
  "/static/js/fill-media.js",
  "/static/js/conditions.js",
  "/static/js/outbox.js",
  "/static/js/logout.js",
  "/static/favicon.svg",
];
const PAGE = /^\/inspections\/(\d+\/?(guidance)?)?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC).then((cache) => cache.addAll(PRECACHE)));
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
  const cached = await cache.match(request);
  const fresh = fetch(request)
    .then((response) => {
      if (response.ok) cache.put(request, response.clone());
      return response;
    })
    .catch(() => cached);
  return cached || fresh;
}

async function networkFirst(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(request, { ignoreSearch: false });
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(request));
  } else if (PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(request));
  }
});

// Logging out on a shared tablet: forget the cached pages.
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "forget-pages") {
    event.waitUntil(caches.delete(PAGES));
  }
});
