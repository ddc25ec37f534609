// 准备离线 on "My inspections": store every editable inspection of mine — its filling page (with
// the current answers, their versions and last round's answers), guidance, and submit page —
// then mark each card 可离线 with the time it was stored. Done again by itself whenever the
// list is opened online after a first time. Asks for persistent storage and says when refused
// or when storage is nearly full.
import { keep, PAGES } from "./offline.js";

const T = JSON.parse(document.getElementById("prepare-i18n")?.textContent || "{}");
const fmt = (s, args) => (s || "").replace(/\{(\w+)\}/g, (_, k) => String(args[k] ?? ""));
const button = document.querySelector("[data-prepare-offline]");
const state = document.querySelector("[data-prepare-state]");
const KEY = `inspect-prepared-${document.body.dataset.user}`;
const cards = [...document.querySelectorAll("[data-offline-id]")];

const stored = () => JSON.parse(localStorage.getItem(KEY) || "{}");
const timeOf = (iso) => new Date(iso).toLocaleString(document.documentElement.lang, { dateStyle: "short", timeStyle: "short" });

// A card is marked only while its filling page is really in the cache.
async function mark() {
  const times = stored();
  const cache = "caches" in window ? await caches.open(PAGES) : null;
  for (const card of cards) {
    const el = card.querySelector("[data-offline-state]");
    const at = times[card.dataset.offlineId];
    const url = card.dataset.offlineUrls.split(" ")[0];
    el.hidden = !(at && cache && (await cache.match(url)));
    if (!el.hidden) el.textContent = fmt(T.stored, { time: timeOf(at) });
  }
}

// Some browsers ask the user, or never answer: after 5 s the question counts as unanswered.
const answer = (promise) => Promise.race([promise, new Promise((ok) => setTimeout(() => ok(null), 5000))]);

async function storage() {
  const notes = [];
  if (navigator.storage?.persist && !(await navigator.storage.persisted()) && (await answer(navigator.storage.persist())) === false) {
    notes.push(T.refused);
  }
  const est = await navigator.storage?.estimate?.();
  if (est && est.quota && est.usage / est.quota > 0.9) {
    const mb = (n) => Math.round(n / 1048576);
    notes.push(fmt(T.full, { used: mb(est.usage), quota: mb(est.quota) }));
  }
  return notes;
}

export async function prepare() {
  if (!("caches" in window)) {
    state.textContent = T.unsupported;
    return;
  }
  if (!navigator.onLine) {
    state.textContent = T.offline;
    return;
  }
  if (!cards.length) {
    state.textContent = T.none;
    return;
  }
  button.disabled = true;
  state.textContent = fmt(T.storing, { n: cards.length });
  const times = stored();
  let n = 0;
  for (const card of cards) {
    const urls = card.dataset.offlineUrls.split(" ");
    if ((await keep(urls)) === urls.length) {
      times[card.dataset.offlineId] = new Date().toISOString();
      n += 1;
    }
  }
  // Inspections no longer listed (submitted, reassigned) are no longer marked.
  const listed = new Set(cards.map((c) => c.dataset.offlineId));
  for (const id of Object.keys(times)) if (!listed.has(id)) delete times[id];
  localStorage.setItem(KEY, JSON.stringify(times));
  await keep([location.pathname + location.search]);
  state.textContent = fmt(T.done, { n });
  button.disabled = false;
  await mark();
  const notes = await storage().catch(() => []);
  if (notes.length) state.textContent = [fmt(T.done, { n }), ...notes].join(" ");
}

button.addEventListener("click", prepare);
button.disabled = false; // disabled in the page until this script is there to do the work
mark().then(() => {
  if (!navigator.onLine) state.textContent = T.offline;
  else if (localStorage.getItem(KEY)) prepare(); // prepared before: store again, fresh
});
