// Offline on every page of a logged-in user (loaded by app.js):
// - stores this page for offline use on its first visit (body data-offline, with the extra
//   URLs it names), and the app's own offline page in the page's language;
// - "N changes waiting" with a Sync now button while the outbox holds anything;
// - a submission made offline: 待上传提交 while it waits, the server's reasons if refused;
// - photos the server refused, kept on the device: saved elsewhere, then discarded;
// - 准备离线 on "My inspections" (prepare.js);
// - the service worker's version in the footer.
import { openStore, waitingPhoto } from "./outbox.js";

// The service worker's cache of pages (PAGES in sw.js).
export const PAGES = "inspect-pages-v1";
const body = document.body;
const userId = Number(body.dataset.user);
const T = JSON.parse(document.getElementById("offline-i18n")?.textContent || "{}");
const fmt = (s, args) => (s || "").replace(/\{(\w+)\}/g, (_, k) => String(args[k] ?? ""));
const form = document.getElementById("fill-form");
const fillId = form && !form.hasAttribute("data-readonly") ? Number(form.dataset.inspection) : 0;

// Store pages in the service worker's cache; resolves to how many were stored. One run at a
// time, so a copy fetched earlier never replaces one fetched later.
let keeping = Promise.resolve();
export function keep(urls) {
  keeping = keeping.then(() => store(urls));
  return keeping;
}

async function store(urls) {
  if (!("caches" in window) || !navigator.onLine) return 0;
  const cache = await caches.open(PAGES);
  let stored = 0;
  for (const url of urls) {
    try {
      const r = await fetch(url, { credentials: "same-origin" });
      if (r.ok && !r.redirected) {
        await cache.put(url, r);
        stored += 1;
      }
    } catch {
      // offline meanwhile: an older copy, if any, stays
    }
  }
  return stored;
}

export const here = () => location.pathname + location.search;

// workerStart is 0 when no service worker handled this page's own request.
function cameThroughWorker() {
  const nav = performance.getEntriesByType?.("navigation")[0];
  return nav ? nav.workerStart > 0 : !!navigator.serviceWorker?.controller;
}

async function keepThisPage() {
  if (!("caches" in window) || !navigator.onLine) return;
  const urls = (body.dataset.offline ?? "").split(" ").filter(Boolean);
  // A page that came through the service worker was stored as it loaded. One that did not (the
  // first visit, even if the worker claimed the page before this script ran) is stored here.
  if ("offline" in body.dataset && (!cameThroughWorker() || !(await caches.match(here())))) urls.unshift(here());
  // "My inspections" too, so the day can go on from there.
  const mine = document.querySelector('[data-nav="inspections.mine"]')?.getAttribute("href");
  if (mine && !urls.includes(mine) && !(await caches.match(mine))) urls.push(mine);
  const lang = document.documentElement.lang;
  if (localStorage.getItem("inspect-offline-lang") !== lang || !(await caches.match("/offline"))) {
    urls.push("/offline");
    localStorage.setItem("inspect-offline-lang", lang);
  }
  await keep(urls);
}

// ---- what waits ------------------------------------------------------------------------------

const stores = {};
async function waiting() {
  const out = {};
  for (const name of ["changes", "photos", "submissions"]) {
    try {
      stores[name] = stores[name] || (await openStore(name));
      out[name] = (await stores[name].all()).filter((r) => r.user_id === userId);
    } catch {
      stores[name] = null; // closed for a newer page's upgrade: opened again next time
      out[name] = [];
    }
  }
  return out;
}

export async function refresh() {
  const w = await waiting();
  const n = w.changes.length + w.photos.filter(waitingPhoto).length + w.submissions.filter((s) => !s.refused).length;
  const bar = document.querySelector("[data-pending-bar]");
  if (bar) {
    bar.hidden = !n;
    bar.querySelector("[data-pending-text]").textContent = fmt(T.pending, { n });
  }
  for (const el of document.querySelectorAll("[data-submission]")) el.replaceChildren();
  for (const sub of w.submissions) {
    for (const el of document.querySelectorAll(`[data-submission="${sub.inspection_id}"]`)) showSubmission(el, sub);
  }
  showRefusedPhotos(w.photos.filter((p) => !waitingPhoto(p)));
  offerUpdate(w).catch(() => {});
  return w;
}

// Photos the server refused (the inspection submitted meanwhile, a file it does not take): the
// only copy may be this one, so each can be saved as a file before it is discarded.
let photoUrls = [];
let shownIds = "";
function showRefusedPhotos(photos) {
  const box = document.querySelector("[data-refused-photos]");
  if (!box) return;
  // Drawn again only when the list changes (refresh runs after every autosave): a button in use
  // keeps the focus.
  const ids = photos.map((p) => p.id).join(" ");
  if (ids === shownIds) return;
  shownIds = ids;
  for (const url of photoUrls) URL.revokeObjectURL(url);
  photoUrls = [];
  box.hidden = !photos.length;
  box.querySelector("[data-refused-text]").textContent = fmt(T.refusedPhotos, { n: photos.length });
  const items = photos.map((photo) => {
    const li = document.createElement("li");
    const url = URL.createObjectURL(photo.blob);
    photoUrls.push(url);
    const save = Object.assign(document.createElement("a"), { href: url, download: photo.name, className: "button secondary", textContent: fmt(T.savePhoto, { name: photo.name }) });
    // No message: a proxy's own page (nginx's 413), said in words as the filling page says it.
    const { message, status } = photo.refused;
    const reason = message || (status === 413 ? T.tooLarge : fmt(T.refusedStatus, { status }));
    const where = photo.where || `#${photo.inspection_id}`;
    const why = Object.assign(document.createElement("span"), { textContent: fmt(T.refusedFor, { where, reason }) });
    const discard = Object.assign(document.createElement("button"), { type: "button", className: "button secondary", textContent: T.discardPhoto });
    discard.setAttribute("aria-label", `${T.discardPhoto} ${photo.name}`);
    discard.addEventListener("click", async () => {
      if (!window.confirm(T.confirmDiscard)) return;
      await (await openStore("photos")).delete(photo.id);
      await refresh();
      // The focus stays in the list (the next photo's save link); an empty list hides.
      const next = box.querySelector("[data-refused-list] a");
      if (next) next.focus();
    });
    li.append(save, why, discard);
    return li;
  });
  box.querySelector("[data-refused-list]").replaceChildren(...items);
}

function showSubmission(el, sub) {
  const p = document.createElement("p");
  p.className = sub.refused ? "flash flash-error" : "flash flash-warning";
  p.textContent = sub.refused ? fmt(T.refused, { msg: sub.refused.message }) : T.submission;
  el.append(p);
  if (!sub.refused?.details.length) return;
  const list = document.createElement("ul");
  for (const d of sub.refused.details) {
    const li = document.createElement("li");
    const target = d.item_id ? Object.assign(document.createElement("a"), { href: `/inspections/${sub.inspection_id}#i${d.item_id}` }) : li;
    target.textContent = d.message;
    if (target !== li) li.append(target);
    list.append(li);
  }
  el.append(list);
}

// ---- sending ---------------------------------------------------------------------------------

let syncing = false;
export async function syncNow() {
  if (syncing || !navigator.onLine) return;
  syncing = true;
  try {
    // The filling page sends its own answers and photos; the rest goes from here.
    if (fillId) document.dispatchEvent(new Event("inspect:sync"));
    const sync = await import("./sync.js");
    const outcomes = await sync.syncAll(userId, fillId);
    if (outcomes[fillId] === "submitted") location.assign(`/inspections/${fillId}/record`);
  } finally {
    syncing = false;
    refresh();
  }
}

// The filling page says when everything of it is saved: its stored copy is refreshed (so an
// offline reload shows the answers as saved) and a submission made offline goes.
let saved = null;
let counting = null;
document.addEventListener("inspect:state", (event) => {
  clearTimeout(counting);
  counting = setTimeout(refresh, 300);
  if (event.detail !== "saved" || !fillId) return;
  clearTimeout(saved);
  saved = setTimeout(async () => {
    const sync = await import("./sync.js");
    const outcome = await sync.sendSubmission(userId, fillId).catch(() => "waiting");
    if (outcome === "submitted") location.assign(`/inspections/${fillId}/record`);
    else if (outcome === "refused") refresh();
    else keep([here()]);
  }, 3000);
});

document.querySelector("[data-sync-now]")?.addEventListener("click", syncNow);
document.addEventListener("inspect:refused", () => refresh());
window.addEventListener("online", () => setTimeout(syncNow, 500));

// A new version of the service worker waits until no tab uses the old one. Once nothing waits
// in the outbox, the footer offers to switch now (the page reloads under the new version);
// never while changes wait or a form is half filled.
async function offerUpdate(w) {
  const reg = await navigator.serviceWorker?.getRegistration();
  const button = document.querySelector("[data-sw-update]");
  if (!reg || !button) return;
  const pending = w.changes.length + w.photos.filter(waitingPhoto).length + w.submissions.filter((s) => !s.refused).length;
  button.hidden = !reg.waiting || pending > 0;
  if (!reg.onupdatefound) reg.onupdatefound = () => reg.installing?.addEventListener("statechange", () => refresh());
}

document.querySelector("[data-sw-update]")?.addEventListener("click", async () => {
  const reg = await navigator.serviceWorker.getRegistration();
  if (!reg?.waiting) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
  reg.waiting.postMessage({ type: "skip-waiting" });
});

async function showVersion() {
  const sw = await navigator.serviceWorker?.ready;
  if (!sw?.active) return;
  const channel = new MessageChannel();
  channel.port1.onmessage = (event) => {
    const el = document.querySelector("[data-sw-version]");
    if (el && event.data.version) el.textContent = fmt(T.swVersion, { v: event.data.version });
  };
  sw.active.postMessage({ type: "version" }, [channel.port2]);
}

refresh().then((w) => {
  if (navigator.onLine && (w.changes.length || w.photos.some(waitingPhoto) || w.submissions.length)) syncNow();
});
keepThisPage();
showVersion();
if (document.querySelector("[data-prepare-offline]")) import("./prepare.js");
