// The filling page: every change is kept on the device (IndexedDB) and sent to the API in
// batches; replies say applied / duplicate / conflict / rejected for each change. Photos are
// downscaled here before upload. show_if conditions are evaluated live.
import { csrfToken } from "./app.js";
import { evaluate } from "./conditions.js";
import { openStore, waitingPhoto } from "./outbox.js";

const form = document.getElementById("fill-form");
const readonly = !form || form.hasAttribute("data-readonly");
const T = JSON.parse(document.getElementById("fill-i18n")?.textContent || "{}");
const fmt = (s, args) => (s || "").replace(/\{(\w+)\}/g, (_, k) => String(args[k] ?? ""));
const stateEl = document.querySelector("[data-save-state]");
const inspectionId = form ? Number(form.dataset.inspection) : 0;
// Changes are kept per user: on a shared tablet nobody replays someone else's answers.
const userId = form ? Number(form.dataset.user) : 0;

const queues = new Map(); // item id -> [change, ...]; the head may be in flight
const conflicts = new Map(); // item id -> a change met by a conflict (keepConflict)
let inflight = false;
let token = csrfToken();
let store = null;
let seq = Date.now();

function setState(text, kind) {
  if (!stateEl) return;
  stateEl.textContent = text;
  stateEl.dataset.kind = kind;
  document.dispatchEvent(new CustomEvent("inspect:state", { detail: kind })); // see offline.js
}

function pendingCount() {
  let n = 0;
  for (const q of queues.values()) n += q.length;
  return n;
}

function settle() {
  const [item] = conflicts.keys(); // one waits for a choice beside its item: not "saved"
  if (item) setState(fmt(T.failed, { msg: fmt(T.conflict, { code: codeOf(itemEl(item)) }) }), "failed");
  else setState(T.saved, "saved");
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const itemEl = (id) => document.getElementById(`i${id}`);
const itemId = (el) => el.id.slice(1);
const kindOf = (el) => el.dataset.kind || "yes_no";
// Answer versions travel in one hidden input that a no-JS save also posts, as runs of
// consecutive item ids: "101-220:1 221:3" (services.encode_versions).
const versionsInput = form ? form.elements.namedItem("versions") : null;
const versions = new Map();
for (const run of versionsInput ? versionsInput.value.split(" ").filter(Boolean) : []) {
  const [ids, v] = run.split(":");
  const [a, b] = ids.split("-").map(Number);
  for (let id = a; id <= (b || a); id += 1) versions.set(id, Number(v));
}
const versionOf = (el) => versions.get(Number(itemId(el))) ?? 0;
function setVersion(el, version) {
  versions.set(Number(itemId(el)), version);
  const runs = [];
  for (const [id, v] of [...versions].sort((x, y) => x[0] - y[0])) {
    const last = runs[runs.length - 1];
    if (last && last[1] === id - 1 && last[2] === v) last[1] = id;
    else runs.push([id, id, v]);
  }
  versionsInput.value = runs.map(([a, b, v]) => (a === b ? `${a}:${v}` : `${a}-${b}:${v}`)).join(" ");
}
const codeOf = (el) => el.querySelector("legend b").textContent;
const SEVERITY = { h: "high", m: "medium", l: "low" };
// Radio values are one letter on the page (see _item.html).
const RESULTS = { c: "compliant", n: "noncompliant", x: "not_applicable" };
const SHORT = { compliant: "c", noncompliant: "n", not_applicable: "x" };
// What an input sets, by its name's prefix (_item.html)
const FIELDS_OF = { r: ["result"], val: ["value"], na: ["result"], n: ["note"], fd: ["finding_description"], fs: ["finding_severity"], fdd: ["finding_deadline_days"] };

// ---- reading the inputs --------------------------------------------------------------------

function fieldsOf(el) {
  const id = itemId(el);
  const get = (name) => form.elements.namedItem(`${name}${id}`);
  const out = {};
  if (kindOf(el) === "yes_no") {
    const checked = el.querySelector(`input[name="r${id}"]:checked`);
    out.result = checked ? RESULTS[checked.value] : null;
  } else {
    const val = get("val");
    const na = get("na");
    let value = val && val.value !== "" ? val.value : null;
    if (value !== null && kindOf(el) === "number") value = Number(value);
    out.value = value;
    out.result = na && na.checked ? "not_applicable" : null;
  }
  out.note = get("n")?.value ?? "";
  const fd = get("fd");
  if (fd) {
    out.finding_description = fd.value;
    out.finding_severity = get("fs")?.value || null;
    const days = get("fdd")?.value;
    out.finding_deadline_days = days ? Number(days) : null;
  }
  return out;
}

function answerValue(el) {
  const f = fieldsOf(el);
  if (kindOf(el) === "yes_no" || f.result === "not_applicable") return f.result;
  return f.value;
}

// ---- show_if, evaluated by conditions.js as the server does ------------------------------

function refreshVisibility() {
  const answers = {};
  for (const el of form.querySelectorAll("fieldset.q")) {
    let shown = true;
    if (el.dataset.show) shown = evaluate(JSON.parse(el.dataset.show), (code) => answers[code]);
    el.hidden = !shown;
    if (shown) {
      const v = answerValue(el);
      if (v !== null && v !== "" && el.dataset.code) answers[el.dataset.code] = v;
    }
  }
  refreshProgress();
}

function refreshProgress() {
  let done = 0;
  let total = 0;
  const perSection = new Map();
  for (const el of form.querySelectorAll("fieldset.q")) {
    if (el.hidden) continue;
    const answered = answerValue(el) !== null && answerValue(el) !== "";
    total += 1;
    done += answered ? 1 : 0;
    const sec = el.closest("[data-section]").dataset.section;
    const s = perSection.get(sec) || [0, 0];
    perSection.set(sec, [s[0] + (answered ? 1 : 0), s[1] + 1]);
  }
  const bar = document.querySelector("[data-progress]");
  if (bar) {
    bar.max = total || 1;
    bar.value = done;
  }
  const text = document.querySelector("[data-progress-text]");
  if (text) text.textContent = fmt(T.answered, { done, total });
  const next = document.querySelector("[data-next]");
  if (next) next.hidden = done === total;
  for (const [sec, [d, t]] of perSection) {
    const span = document.querySelector(`[data-section-count="${sec}"]`);
    if (span) span.textContent = `${d}/${t}`;
  }
}

// ---- the finding block for a non-compliant answer -------------------------------------------

function ensureFinding(el) {
  if (el.querySelector(".nc")) return false;
  const id = itemId(el);
  const block = document.getElementById("nc-template").content.firstElementChild.cloneNode(true);
  for (const input of block.querySelectorAll("[name]")) input.name = `${input.name}${id}`;
  // The same first draft as services.finding_prefill: no 是否, no question mark.
  const requirement = el.querySelector(".qt").textContent.trim().replaceAll("是否", "").replace(/[？?。 ]+$/, "");
  block.querySelector(`[name="fd${id}"]`).value = fmt(T.prefill, { requirement });
  block.querySelector(`[name="fs${id}"]`).value = SEVERITY[el.dataset.d[0]];
  block.querySelector(`[name="fdd${id}"]`).value = el.dataset.d.slice(1);
  el.querySelector(".ph").before(block);
  return true;
}

function showResultClass(el) {
  const f = fieldsOf(el);
  el.classList.remove("r-compliant", "r-noncompliant", "r-not_applicable");
  if (f.result) el.classList.add(`r-${f.result}`);
  const nc = el.querySelector(".nc");
  if (nc) nc.hidden = f.result !== "noncompliant";
}

// ---- the queue ------------------------------------------------------------------------------

// False without IndexedDB or with it full: unsent changes live only in the page.
let deviceKeeps = true;

async function persist(change) {
  if (!store) return;
  try {
    await store.put({ ...change, inspection_id: inspectionId, user_id: userId });
  } catch {
    deviceKeeps = false;
    if (!navigator.onLine) setState(fmt(T.offlineNotKept, { n: pendingCount() }), "failed");
  }
}

function offlineState() {
  if (deviceKeeps) setState(fmt(T.offline, { n: pendingCount() }), "offline");
  else setState(fmt(T.offlineNotKept, { n: pendingCount() }), "failed");
}

// Closing asks first while that holds anything, or a photo offered as a file is unsaved.
window.addEventListener("beforeunload", (event) => {
  if ((deviceKeeps || !pendingCount()) && !document.querySelector("[data-not-kept]")) return;
  event.preventDefault();
  event.returnValue = "";
});

async function forget(change) {
  if (store) await store.delete(change.change_id);
}

// `touched`: the fields the inspector changed, all a conflict offers again (not others' note)
function enqueue(el, fields, touched = Object.keys(fields)) {
  const id = Number(itemId(el));
  const q = queues.get(id) || [];
  let change = q[q.length - 1];
  if (!change || change.sent) {
    change = { change_id: uuid(), item_id: id, base_version: q.length ? null : versionOf(el), seq: seq++, fields: {}, touched: [] };
    q.push(change);
  }
  Object.assign(change.fields, fields);
  change.touched = [...new Set([...(change.touched || []), ...touched])];
  queues.set(id, q);
  persist(change);
  if (navigator.onLine) setState(T.saving, "pending");
  else if (deviceKeeps) setState(fmt(T.offline, { n: pendingCount() }), "pending");
  else setState(fmt(T.offlineNotKept, { n: pendingCount() }), "failed");
}

let timer = null;
function scheduleFlush(delay = 0) {
  clearTimeout(timer);
  timer = setTimeout(flush, delay);
}

async function refreshToken() {
  const r = await fetch("/api/v1/csrf", { credentials: "same-origin" });
  if (r.ok) token = (await r.json()).csrf_token;
}

async function post(url, body, retry = true) {
  const r = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
    body: JSON.stringify(body),
  });
  if (r.status === 400 && retry) {
    const err = await r.clone().json().catch(() => ({}));
    if (err.error && err.error.code === "csrf_failed") {
      await refreshToken();
      return post(url, body, false);
    }
  }
  return r;
}

function applyServerAnswer(el, answer) {
  setVersion(el, answer.version);
}

function showServerValues(el, answer) {
  const id = itemId(el);
  if (kindOf(el) === "yes_no") {
    for (const r of el.querySelectorAll(`input[name="r${id}"]`)) r.checked = r.value === SHORT[answer.result];
  } else {
    const val = form.elements.namedItem(`val${id}`);
    if (val) val.value = answer.value ?? "";
  }
  const note = form.elements.namedItem(`n${id}`);
  if (note) note.value = answer.note ?? "";
  if (answer.result === "noncompliant") ensureFinding(el);
  const fd = form.elements.namedItem(`fd${id}`);
  if (fd) fd.value = answer.finding_description ?? "";
  // stale, they would go back with the item's next change; with no finding on the server, the
  // item's own (as a new finding starts: ensureFinding)
  const fs = form.elements.namedItem(`fs${id}`);
  if (fs) fs.value = answer.finding_severity || SEVERITY[el.dataset.d[0]];
  const fdd = form.elements.namedItem(`fdd${id}`);
  if (fdd) fdd.value = answer.finding_deadline_days ?? el.dataset.d.slice(1);
  showResultClass(el);
}

// What fill-media.js keepConflict and offerConflict work with (a change met by a conflict).
const conflictCtx = {
  conflicts,
  persist,
  forget,
  text: (key, args) => fmt(T[key], args || {}),
  results: T.results,
  use: (el, fields) => {
    showServerValues(el, { ...fieldsOf(el), ...fields });
    enqueue(el, fields);
    scheduleFlush(0);
  },
  kept: () => (pendingCount() ? scheduleFlush(0) : settle()),
};

async function flush() {
  if (inflight || readonly) return;
  const batch = [];
  for (const q of queues.values()) {
    const head = q[0];
    if (!head || head.sent) continue;
    if (head.base_version === null) head.base_version = versionOf(itemEl(head.item_id));
    head.sent = true;
    batch.push(head);
  }
  if (!batch.length) {
    if (!pendingCount()) settle();
    return;
  }
  inflight = true;
  setState(T.saving, "pending");
  let problem = null;
  try {
    const r = await post(form.dataset.api, {
      changes: batch.map((c) => ({ change_id: c.change_id, item_id: c.item_id, base_version: c.base_version, ...c.fields })),
    });
    if (r.status === 401) throw new Error("login");
    const body = await r.json();
    if (!r.ok) {
      problem = body.error ? body.error.message : fmt(T.badReply, { status: r.status });
      for (const c of batch) {
        c.sent = false;
      }
      if (r.status >= 500) throw new Error(problem);
      // The whole batch was refused (e.g. submitted meanwhile): keep it on the device.
    } else {
      for (const result of body.results) {
        const change = batch.find((c) => c.change_id === result.change_id);
        if (!change) continue;
        const el = itemEl(change.item_id);
        const q = queues.get(change.item_id);
        q.shift();
        if (!q.length) queues.delete(change.item_id);
        if (result.status === "conflict") {
          // The item's queue ends here, before any wait: what is typed meanwhile builds on the
          // server's answer, shown now.
          const later = q.splice(0);
          queues.delete(change.item_id);
          applyServerAnswer(el, result.server);
          showServerValues(el, result.server);
          await (await import("./fill-media.js")).keepConflict(el, change, later, result.server, conflictCtx);
          problem = fmt(T.conflict, { code: codeOf(el) });
          continue;
        }
        await forget(change);
        if (result.status === "applied" || result.status === "duplicate") {
          el.classList.remove("q-error");
          if (result.answer) applyServerAnswer(el, result.answer);
          if (q.length && q[0].base_version === null) q[0].base_version = versionOf(el);
        } else {
          problem = result.message;
          el.classList.add("q-error");
        }
      }
    }
  } catch (err) {
    for (const c of batch) c.sent = false;
    inflight = false;
    if (err.message === "login") setState(T.login, "failed");
    else offlineState();
    scheduleFlush(15000);
    return;
  }
  inflight = false;
  refreshVisibility();
  if (problem) setState(fmt(T.failed, { msg: problem }), "failed");
  else if (pendingCount()) scheduleFlush(0);
  else {
    settle();
    sendPhotos(); // the server answers again: a photo it could not take waits no longer
  }
}

// ---- photos (fill-media.js, loaded when needed) ----------------------------------------------

function mediaCtx() {
  return {
    url: form.dataset.evidence,
    token: () => token,
    refreshToken,
    inspectionId,
    userId,
    label: T.photoAlt,
    delLabel: T.del,
    text: (key, args) => fmt(T[key], args || {}),
    say: (key, args) => {
      const kind = key === "failed" || key === "login" || key === "deleteOffline" || key === "photoRefused" || key === "photoNotKept" ? "failed" : key === "uploaded" || key === "uploadedFile" || key === "deleted" ? "saved" : key === "photoQueued" || key === "photoLater" ? "offline" : "pending";
      if (kind === "saved" && conflicts.size) settle(); // a photo saved: a conflict still waits
      else setState(fmt(T[key], args || {}), kind);
    },
  };
}

async function sendPhotos() {
  try {
    const photos = await (await openStore("photos")).all();
    if (!photos.some((p) => p.inspection_id === inspectionId && p.user_id === userId && waitingPhoto(p))) return;
  } catch {
    return;
  }
  (await import("./fill-media.js")).uploadPending(mediaCtx());
}

// ---- next unanswered item, and deleting a photo ---------------------------------------------

const unanswered = (el) => !el.hidden && (answerValue(el) === null || answerValue(el) === "");

function onClick(event) {
  // The link is hidden once everything is answered (refreshProgress); fill-media.js goes on.
  if (event.target.closest("[data-next]")) {
    event.preventDefault();
    import("./fill-media.js").then((media) => media.nextUnanswered(form, unanswered));
  }
  const del = event.target.closest("button.del");
  if (!del || readonly) return;
  event.preventDefault();
  if (!window.confirm(T.confirmDelete)) return;
  import("./fill-media.js").then((media) => media.deletePhoto(del, mediaCtx()));
}

// ---- wiring ---------------------------------------------------------------------------------

function onInput(event) {
  const el = event.target.closest("fieldset.q");
  if (!el || readonly) return;
  if (event.target.type === "file") {
    if (event.type !== "change") return; // browsers fire both input and change for a file
    // Photo handling is loaded only when a photo is taken: the page stays light.
    import("./fill-media.js").then((media) => media.uploadFile(el, event.target, mediaCtx()));
    return;
  }
  const typing = event.type === "input" && (event.target.tagName === "TEXTAREA" || event.target.type === "number");
  if (event.type === "input" && !typing) return;
  const fields = fieldsOf(el);
  const touched = [...(FIELDS_OF[event.target.name.match(/^[a-z]*/)[0]] || Object.keys(fields))];
  if (fields.result === "noncompliant" && ensureFinding(el)) {
    Object.assign(fields, fieldsOf(el)); // the finding's first draft is this inspector's too
    touched.push("finding_description", "finding_severity", "finding_deadline_days");
  }
  showResultClass(el);
  enqueue(el, fields, touched);
  refreshVisibility();
  scheduleFlush(typing ? 600 : 0);
}

async function restore() {
  try {
    store = await openStore();
  } catch {
    store = null;
    deviceKeeps = false;
    return;
  }
  const saved = (await store.all())
    .filter((c) => c.inspection_id === inspectionId && c.user_id === userId)
    .sort((a, b) => a.seq - b.seq);
  for (const change of saved) {
    const el = itemEl(change.item_id);
    if (!el) continue;
    if (change.conflict) {
      // the page shows the server's answer already; two kept for one item are one (the later)
      import("./fill-media.js").then((media) => media.keepConflict(el, change, [], change.conflict, conflictCtx));
      continue;
    }
    change.sent = false;
    const q = queues.get(change.item_id) || [];
    q.push(change);
    queues.set(change.item_id, q);
    showServerValues(el, { ...fieldsOf(el), ...change.fields });
  }
  if (saved.length) scheduleFlush(0); // with only conflicts: says they wait for a choice
  sendPhotos();
}

// Read-only now (submitted meanwhile): what this device kept for it can never be sent; it is
// shown, to be copied, until the inspector discards it (fill-media.js showUnsent).
if (form && readonly) {
  openStore()
    .then(async (s) => {
      const kept = (await s.all()).filter((c) => c.inspection_id === inspectionId && c.user_id === userId);
      if (kept.length) (await import("./fill-media.js")).showUnsent(form, kept, { store: s, text: (key, args) => fmt(T[key], args || {}), results: T.results, codeOf: (id) => (itemEl(id) ? codeOf(itemEl(id)) : `#${id}`) });
    })
    .catch(() => {});
}

if (form && !readonly) {
  form.addEventListener("change", onInput);
  form.addEventListener("input", onInput);
  form.addEventListener("submit", (event) => {
    if (!navigator.onLine || pendingCount() || window.fetch) {
      event.preventDefault();
      scheduleFlush(0);
    }
  });
  const sendAll = () => {
    scheduleFlush(0);
    sendPhotos();
  };
  window.addEventListener("online", sendAll);
  document.addEventListener("inspect:sync", sendAll); // the Sync now button (offline.js)
  document.addEventListener("visibilitychange", () => {
    // Back from another tab (perhaps after logging in again there): send what waits.
    if (document.visibilityState === "visible") {
      scheduleFlush(0);
      sendPhotos();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (pendingCount() && !store) event.preventDefault();
  });
  restore();
}
if (form) {
  // Each item's guidance disclosure gets its summary here (its text 120 times was a twentieth of
  // the page; without scripts the page links the guidance page instead).
  for (const d of form.querySelectorAll("details[data-g]")) d.prepend(Object.assign(document.createElement("summary"), { textContent: T.guidance }));
  refreshVisibility();
  document.addEventListener("click", onClick);
}


// Guidance and legal basis are loaded on demand, once per page, when a <details> is opened.
document.addEventListener("toggle", async (event) => {
  const details = event.target;
  if (!(details instanceof HTMLDetailsElement) || !details.open || !details.hasAttribute("data-g")) return;
  const media = await import("./fill-media.js");
  media.showGuidance(details, document.querySelector("[data-guidance-url]")?.dataset.guidanceUrl);
}, true);
