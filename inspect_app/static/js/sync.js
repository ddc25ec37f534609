// Sending what waits in the outbox from any page (the filling page sends its own answers and
// photos itself): answer changes in the order they were made, then photos, then a submission
// made offline, only once nothing else of that inspection waits. Loaded on demand.
import { csrfToken } from "./app.js";
import { keepRefused, openStore, transient, waitingPhoto } from "./outbox.js";

let token = csrfToken();

async function refreshToken() {
  const r = await fetch("/api/v1/csrf", { credentials: "same-origin" });
  if (r.ok) token = (await r.json()).csrf_token;
}

// POST with the CSRF token, fetching a fresh one once when the page's has expired.
async function post(url, body, json = true, retry = true) {
  const headers = { "X-CSRFToken": token };
  if (json) headers["Content-Type"] = "application/json";
  const r = await fetch(url, { method: "POST", credentials: "same-origin", headers, body: json ? JSON.stringify(body) : body });
  if (r.status === 400 && retry) {
    const err = await r.clone().json().catch(() => ({}));
    if (err.error && err.error.code === "csrf_failed") {
      await refreshToken();
      return post(url, body, json, false);
    }
  }
  if (r.status === 401) throw new TypeError("login"); // kept, like when offline
  return r;
}

// What waits for this user, by store.
export async function pending(userId) {
  const out = {};
  for (const name of ["changes", "photos", "submissions"]) {
    try {
      out[name] = (await (await openStore(name)).all()).filter((r) => r.user_id === userId);
    } catch {
      out[name] = [];
    }
  }
  return out;
}

// One inspection's answer changes: the first change of each item goes with its base version,
// a later one with the version the server gave the one before it.
async function sendChanges(inspectionId, changes, store) {
  const queues = new Map();
  for (const c of changes.sort((a, b) => a.seq - b.seq)) {
    if (!queues.has(c.item_id)) queues.set(c.item_id, []);
    queues.get(c.item_id).push(c);
  }
  let versions = null; // the server's, for a change whose base the filling page never stored
  while (queues.size) {
    const batch = [...queues.values()].map((q) => q[0]);
    if (batch.some((c) => c.base_version == null) && !versions) {
      const r = await fetch(`/api/v1/inspections/${inspectionId}`, { credentials: "same-origin" });
      if (!r.ok) return;
      versions = new Map((await r.json()).answers.map((a) => [a.item_id, a.version]));
    }
    for (const c of batch) if (c.base_version == null) c.base_version = versions.get(c.item_id) ?? 0;
    const r = await post(`/api/v1/inspections/${inspectionId}/answers`, {
      changes: batch.map((c) => ({ change_id: c.change_id, item_id: c.item_id, base_version: c.base_version, ...c.fields })),
    });
    if (!r.ok) return; // refused as a whole (e.g. submitted meanwhile): the filling page says why
    for (const result of (await r.json()).results) {
      const change = batch.find((c) => c.change_id === result.change_id);
      if (!change) continue;
      const q = queues.get(change.item_id);
      if (result.status === "conflict") {
        // Someone else changed the item: the filling page shows both answers.
        queues.delete(change.item_id);
        continue;
      }
      await store.delete(change.change_id);
      q.shift();
      if (q.length && result.answer) {
        q[0].base_version = result.answer.version;
        await store.put(q[0]);
      }
      if (!q.length) queues.delete(change.item_id);
    }
  }
}

async function sendPhotos(photos, store) {
  for (const photo of photos.filter(waitingPhoto)) {
    const data = new FormData();
    data.append("file", photo.blob, photo.name);
    data.append("item_id", String(photo.item_id));
    const r = await post(`/api/v1/inspections/${photo.inspection_id}/evidence`, data, false);
    if (r.ok) await store.delete(photo.id);
    else if (!transient(r.status)) {
      const body = await r.json().catch(() => ({}));
      await keepRefused(store, photo, r.status, body.error?.message);
    }
  }
}

// A submission made offline, once nothing else of its inspection waits. Returns "submitted",
// "refused" (kept with the server's reasons, shown on the page) or "waiting".
export async function sendSubmission(userId, inspectionId) {
  const waiting = await pending(userId);
  const sub = waiting.submissions.find((s) => s.inspection_id === inspectionId && !s.refused);
  if (!sub) return "none";
  if ([...waiting.changes, ...waiting.photos.filter(waitingPhoto)].some((c) => c.inspection_id === inspectionId)) return "waiting";
  const store = await openStore("submissions");
  const r = await post(`/api/v1/inspections/${inspectionId}/submit`, { signatory_name: sub.signatory_name, signature: sub.signature });
  if (r.ok || r.status === 409) {
    // 409: already submitted (the reply to an earlier try was lost on the way).
    await store.delete(sub.id);
    return "submitted";
  }
  if (r.status >= 500) return "waiting";
  const body = await r.json().catch(() => ({}));
  const error = body.error || {};
  await store.put({ ...sub, refused: { message: error.message || String(r.status), details: Array.isArray(error.details) ? error.details : [] } });
  return "refused";
}

// Everything of this user, except the answers and photos of the inspection whose filling page
// is open (that page sends them itself).
let running = null;
export function syncAll(userId, skipInspection = 0) {
  running = running || run(userId, skipInspection).finally(() => (running = null));
  return running;
}

async function run(userId, skipInspection) {
  try {
    const waiting = await pending(userId);
    // A conflict the filling page kept waits there for the inspector's choice: not sent again,
    // but it holds back its inspection's submission (sendSubmission).
    const changes = waiting.changes.filter((c) => c.inspection_id !== skipInspection && !c.conflict);
    const store = await openStore("changes");
    for (const id of new Set(changes.map((c) => c.inspection_id))) {
      await sendChanges(id, changes.filter((c) => c.inspection_id === id), store);
    }
    await sendPhotos(waiting.photos.filter((p) => p.inspection_id !== skipInspection), await openStore("photos"));
    const outcomes = {};
    for (const sub of waiting.submissions) outcomes[sub.inspection_id] = await sendSubmission(userId, sub.inspection_id);
    return outcomes;
  } catch {
    return {}; // offline again: everything stays in the outbox
  }
}
