// Loaded on demand by fill.js: photo downscaling and upload (queued offline), guidance and
// legal basis, conflicts.
import { keepRefused, openStore, transient, waitingPhoto } from "./outbox.js";

const MAX_EDGE = 1600;

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => resolve({ img, url });
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("unreadable image"));
    };
    img.src = url;
  });
}

// Never draw the photo into a full-size canvas (iOS limits canvas area): every canvas here is
// at most twice the target size, and large photos are halved step by step.
export async function downscale(file) {
  const { img, url } = await loadImage(file);
  try {
    const scale = Math.min(1, MAX_EDGE / Math.max(img.naturalWidth, img.naturalHeight));
    const w = Math.round(img.naturalWidth * scale);
    const h = Math.round(img.naturalHeight * scale);
    let source = img;
    if (scale < 0.5) {
      const mid = document.createElement("canvas");
      mid.width = w * 2;
      mid.height = h * 2;
      mid.getContext("2d").drawImage(img, 0, 0, mid.width, mid.height);
      source = mid;
    }
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(source, 0, 0, w, h);
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  } finally {
    URL.revokeObjectURL(url);
  }
}

function thumbnail(link, src, alt) {
  forgetBlob(link);
  if (src.startsWith("blob:")) link.dataset.blobUrl = src; // released when replaced or removed
  const thumb = document.createElement("img");
  thumb.src = src;
  thumb.width = 72;
  thumb.height = 72;
  thumb.alt = alt;
  link.replaceChildren(thumb);
}

// A thumbnail drawn from the photo on the device holds the image in memory until released.
function forgetBlob(link) {
  if (link.dataset.blobUrl) URL.revokeObjectURL(link.dataset.blobUrl);
  delete link.dataset.blobUrl;
}

// The login ended (logout elsewhere, idle timeout): the photo is kept like when offline and is
// sent once the inspector has logged in again.
class LoginNeeded extends TypeError {}

// The server could not take it now (outbox.js `transient`), or its reply cannot be read: the
// photo is kept like when offline and sent again shortly (the server keeps one copy of a file
// sent twice for an item).
class TryLater extends TypeError {}
const RETRY_MS = 30000;

// Refused by the server (the inspection submitted meanwhile, a file it does not take).
class Refused extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// A photo's file name on the record: "现场照片-20261207-0935.jpg" (the phone's own name is not
// kept: the photo is drawn again, smaller, before it is sent).
function photoName(ctx) {
  const d = new Date();
  const two = (n) => String(n).padStart(2, "0");
  const stamp = `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}`;
  return `${ctx.text("photoName")}-${stamp}.jpg`;
}

// Queued before there was a `pdf` flag, a photo was the one named "photo.jpg".
const isPdf = (photo) => photo.pdf ?? photo.name !== "photo.jpg";

// Send one photo; resolves to the server's attachment, rejects with a TypeError when offline.
async function send(photo, ctx) {
  const data = new FormData();
  data.append("file", photo.blob, photo.name);
  data.append("item_id", String(photo.item_id));
  const post = () =>
    fetch(ctx.url, { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": ctx.token() } });
  let r = await post();
  if (r.status === 400) {
    const err = await r.clone().json().catch(() => ({}));
    if (err.error && err.error.code === "csrf_failed") {
      await ctx.refreshToken();
      r = await post();
    }
  }
  if (r.status === 401) throw new LoginNeeded("login");
  if (transient(r.status)) throw new TryLater(String(r.status));
  // A proxy may answer with a page of its own (413 from nginx): no JSON, a message of ours.
  const body = await r.json().catch(() => null);
  if (r.ok && !body) throw new TryLater(String(r.status)); // a portal's page: perhaps stored
  if (!r.ok || !body) {
    if (body && body.error) throw new Refused(body.error.message, r.status);
    throw new Refused(r.status === 413 ? ctx.text("tooLarge") : ctx.text("badReply", { status: r.status }), r.status);
  }
  return body;
}

function show(link, body, ctx) {
  // The same file again on this item: the server keeps one copy, and the page shows one.
  if (document.querySelector(`.ph a[data-att="${body.id}"]`)) {
    forgetBlob(link);
    link.remove();
    return;
  }
  link.href = body.url;
  link.dataset.att = body.id;
  delete link.dataset.pending;
  if (body.thumbnail_url) thumbnail(link, body.thumbnail_url, ctx.label);
  else {
    forgetBlob(link);
    link.textContent = ctx.text("pdf");
  }
  if (!link.nextElementSibling?.matches("button.del")) {
    const del = Object.assign(document.createElement("button"), { type: "submit", className: "del", name: "del", value: String(body.id), textContent: "✕" });
    del.setAttribute("aria-label", ctx.delLabel);
    del.formNoValidate = true;
    link.after(del);
  }
}

// Delete a stored photo (the API refuses once submitted); replacing it is taking another, so the
// camera button gets the focus.
export async function deletePhoto(button, ctx) {
  const remove = () => fetch(`/api/v1/evidence/${button.value}`, { method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": ctx.token() } });
  let r;
  try {
    r = await remove();
    if (r.status === 400) {
      await ctx.refreshToken();
      r = await remove();
    }
  } catch {
    ctx.say("deleteOffline");
    return;
  }
  if (r.status === 401) return ctx.say("login");
  if (!r.ok && r.status !== 404) {
    const body = await r.json().catch(() => ({}));
    return ctx.say("failed", { msg: body.error ? body.error.message : String(r.status) });
  }
  const ph = button.closest(".ph");
  button.previousElementSibling?.remove();
  button.remove();
  ctx.say("deleted");
  ph.querySelector("input[type=file]")?.focus();
}

export async function uploadFile(el, input, ctx) {
  const file = input.files && input.files[0];
  if (!file) return;
  ctx.say("uploading");
  const pdf = file.type === "application/pdf";
  let photo;
  try {
    // Where it was taken, for the list of refused photos on any page: the unit and the item.
    const where = `${document.querySelector("h1")?.textContent.trim() ?? ""} · ${el.querySelector("legend b")?.textContent ?? ""}`;
    photo = { item_id: Number(el.id.slice(1)), blob: pdf ? file : await downscale(file), name: pdf ? file.name : photoName(ctx), pdf, where };
  } catch {
    ctx.say("failed", { msg: ctx.text("badImage") });
    return;
  }
  const link = document.createElement("a");
  input.closest(".ph").prepend(link);
  input.value = "";
  try {
    show(link, await send(photo, ctx), ctx);
    ctx.say(pdf ? "uploadedFile" : "uploaded");
  } catch (err) {
    const queued = { ...photo, id: crypto.randomUUID(), inspection_id: ctx.inspectionId, user_id: ctx.userId };
    if (!(err instanceof TypeError)) {
      // Refused: the photo may exist nowhere else (a camera capture is not always kept by the
      // device).
      try {
        await keepAsRefused(await openStore("photos"), queued, err, ctx);
        link.remove();
      } catch {
        offerAsFile(link, photo, ctx, err.message);
      }
      return;
    }
    // Offline: keep the photo on the device and send it when the network is back.
    try {
      await (await openStore("photos")).put(queued);
    } catch {
      offerAsFile(link, photo, ctx);
      return;
    }
    link.dataset.pending = queued.id;
    if (!pdf) thumbnail(link, URL.createObjectURL(photo.blob), ctx.label);
    ctx.say(err instanceof LoginNeeded ? "login" : err instanceof TryLater ? "photoLater" : "photoQueued");
    if (err instanceof TryLater) retrySoon(ctx);
  }
}

// Neither sent nor kept: the device's storage is full, or the browser keeps nothing (private
// browsing). The photo exists only in this page, so the link beside its item saves it as a file
// now; taking it again later is the other way.
function offerAsFile(link, photo, ctx, reason) {
  forgetBlob(link);
  delete link.dataset.pending;
  const url = URL.createObjectURL(photo.blob);
  link.dataset.blobUrl = url; // released if the link is replaced
  Object.assign(link, { href: url, download: photo.name, className: "button secondary", textContent: ctx.text("saveAsFile", { name: photo.name }) });
  link.dataset.notKept = ""; // closing the page asks first (fill.js) until it is saved
  link.addEventListener("click", () => delete link.dataset.notKept, { once: true });
  // The reason runs into the next sentence: a space after it unless it ends as Chinese does.
  ctx.say("photoNotKept", { msg: !reason || /[。！？]$/.test(reason) ? reason || "" : `${reason} ` });
}

// Refused by the server: not sent again, but kept on the device with the reason, to be saved
// elsewhere or discarded (the list at the top of every page: offline.js).
async function keepAsRefused(store, photo, err, ctx) {
  await keepRefused(store, photo, err.status || 0, err.message);
  ctx.say("photoRefused", { msg: err.message });
  document.dispatchEvent(new Event("inspect:refused"));
}

let retry = null;

function retrySoon(ctx) {
  retry = retry || setTimeout(() => {
    retry = null;
    uploadPending(ctx);
  }, RETRY_MS);
}

// Photos taken offline, for this inspection and user, sent in the order they were taken.
let sending = null;

export function uploadPending(ctx) {
  // One run at a time: the online event and a page load may both ask.
  sending = sending || sendQueued(ctx).finally(() => (sending = null));
  return sending;
}

async function sendQueued(ctx) {
  const store = await openStore("photos");
  const mine = (await store.all()).filter((p) => p.inspection_id === ctx.inspectionId && p.user_id === ctx.userId && waitingPhoto(p));
  // After a reload, show the photos that wait on the device beside their items.
  for (const photo of mine) {
    const el = document.getElementById(`i${photo.item_id}`);
    if (!el || document.querySelector(`[data-pending="${photo.id}"]`)) continue;
    const link = document.createElement("a");
    link.dataset.pending = photo.id;
    if (!isPdf(photo)) thumbnail(link, URL.createObjectURL(photo.blob), ctx.label);
    else link.textContent = ctx.text("pdf");
    el.querySelector(".ph").prepend(link);
  }
  for (const photo of mine) {
    let body;
    try {
      body = await send(photo, ctx);
    } catch (err) {
      if (err instanceof TryLater) retrySoon(ctx);
      if (err instanceof TypeError) return; // still offline, or logged out: try again later
      const shown = document.querySelector(`[data-pending="${photo.id}"]`);
      try {
        await keepAsRefused(store, photo, err, ctx);
      } catch {
        // Not marked refused: it stays on the device as it was (sent again later), and is
        // offered as a file now, with the reason.
        if (shown) offerAsFile(shown, photo, ctx, err.message);
        continue;
      }
      if (shown) {
        forgetBlob(shown);
        shown.remove();
      }
      continue;
    }
    await store.delete(photo.id);
    const el = document.getElementById(`i${photo.item_id}`);
    let link = document.querySelector(`[data-pending="${photo.id}"]`);
    if (!link && el) {
      link = document.createElement("a");
      el.querySelector(".ph").prepend(link);
    }
    if (link) show(link, body, ctx);
    ctx.say("uploaded");
  }
}


// Guidance and legal basis of every item, fetched once per page (the checklist version is immutable).
let guidance = null;

export async function showGuidance(details, url) {
  if (details.dataset.loaded) return;
  guidance = guidance || fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : {}));
  const entry = (await guidance)[details.closest("fieldset.q").id.slice(1)];
  if (!entry) return;
  details.dataset.loaded = "1";
  if (entry.guidance) details.append(Object.assign(document.createElement("p"), { textContent: entry.guidance }));
  for (const basis of entry.basis) details.append(Object.assign(document.createElement("p"), { className: "lb", textContent: basis }));
}

// Conflicts: the inspector's own answer, kept beside the one someone else saved first.
export function describe(fields, results) {
  const parts = [];
  if (fields.result) parts.push(results[fields.result] || fields.result);
  if (fields.value !== undefined && fields.value !== null) parts.push(String(fields.value));
  if (fields.note) parts.push(fields.note);
  if (fields.finding_description) parts.push(fields.finding_description);
  // the risk level and deadline by their labels, from the finding's template (an offer of
  // only these described nothing: "…first: .")
  const finding = document.getElementById("nc-template")?.content;
  const level = finding?.querySelector("select");
  const labelled = (input, value) => `${input?.closest("label")?.firstChild.textContent.trim() || ""}: ${value}`;
  if (fields.finding_severity) {
    const option = [...(level?.options || [])].find((o) => o.value === fields.finding_severity);
    parts.push(labelled(level, option ? option.textContent : fields.finding_severity));
  }
  if (fields.finding_deadline_days != null) parts.push(labelled(finding?.querySelector("input"), fields.finding_deadline_days));
  return parts.join(" · ");
}

// A change met by a conflict (with the item's later changes) stays on the device, holding back
// a submission, beside its item and the server's answer until the inspector picks one: nothing
// entered is lost. Only the fields the inspector changed are offered again (not the note someone
// else wrote meanwhile). Kept under the change's own id before the later ones go, so the outbox
// never lacks it. ctx: fill.js conflictCtx.
export async function keepConflict(el, change, later, server, ctx) {
  // One kept for the item before (a second conflict, or two found in the outbox) joins this one.
  const earlier = ctx.conflicts.get(change.item_id);
  // a change carries every field of its item; only those the inspector touched are theirs (the
  // others, shown from the server, must not cover what the earlier conflict kept)
  const mine = (c) => Object.fromEntries((c.touched || Object.keys(c.fields)).map((key) => [key, c.fields[key]]));
  const all = Object.assign({}, earlier?.fields, mine(change), ...later.map(mine));
  const touched = [change, ...later].flatMap((c) => c.touched || Object.keys(c.fields));
  const fields = Object.fromEntries([...Object.keys(earlier?.fields || {}), ...touched].map((key) => [key, all[key]]));
  const kept = { ...change, fields, touched: Object.keys(fields), conflict: server, sent: false };
  ctx.conflicts.set(kept.item_id, kept);
  await ctx.persist(kept);
  for (const c of later) await ctx.forget(c);
  if (earlier && earlier.change_id !== kept.change_id) await ctx.forget(earlier);
  offerConflict(el, kept, ctx);
}

// Changes this device kept for an inspection that became read-only (submitted meanwhile): they
// can never be sent, so they are listed above the checklist, each by its item, until the
// inspector discards them. ctx: fill.js (store, text, results, codeOf).
export function showUnsent(form, kept, ctx) {
  const box = document.createElement("div");
  box.className = "flash flash-warning";
  box.setAttribute("role", "alert");
  box.dataset.unsent = "";
  const list = document.createElement("ul");
  for (const change of kept) {
    const li = document.createElement("li");
    const link = Object.assign(document.createElement("a"), { href: `#i${change.item_id}`, textContent: ctx.codeOf(change.item_id) });
    li.append(link, `: ${describe(change.fields, ctx.results)}`);
    list.append(li);
  }
  const discard = Object.assign(document.createElement("button"), { type: "button", className: "button secondary", textContent: ctx.text("discardUnsent") });
  discard.addEventListener("click", async () => {
    if (!window.confirm(ctx.text("confirmDiscardUnsent"))) return;
    for (const change of kept) await ctx.store.delete(change.change_id);
    box.remove();
    document.dispatchEvent(new Event("inspect:refused")); // offline.js counts the outbox again
  });
  box.append(Object.assign(document.createElement("p"), { textContent: ctx.text("unsent", { n: kept.length }) }), list, discard);
  form.before(box);
}

// Use my answer again, or keep the current one: either ends the conflict.
export function offerConflict(el, change, ctx) {
  const end = () => {
    ctx.conflicts.delete(change.item_id);
    return ctx.forget(change);
  };
  offerMine(el, change.fields, {
    text: ctx.text("mine", { value: describe(change.fields, ctx.results) }),
    button: ctx.text("useMine"),
    other: ctx.text("keepTheirs"),
    apply: async () => {
      await end();
      ctx.use(el, change.fields);
    },
    discard: async () => {
      await end();
      ctx.kept();
    },
  });
}

// A conflict's offer beside its item: use my answer (ctx.apply) or keep the other (ctx.discard).
function offerMine(el, fields, ctx) {
  el.querySelector(".mine")?.remove();
  const box = document.createElement("p");
  box.className = "mine";
  box.textContent = `${ctx.text} `;
  for (const [label, action] of [[ctx.button, ctx.apply], [ctx.other, ctx.discard]]) {
    if (!label || !action) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary";
    button.textContent = label;
    button.addEventListener("click", () => {
      box.remove();
      action();
    });
    box.append(button);
  }
  el.querySelector(".ph").before(box);
}

// The first unanswered item below the sticky bars, else the first one from the top (fill.js
// lends its test of an unanswered item; loaded here, off the filling page's first weight).
export function nextUnanswered(form, unanswered) {
  const items = [...form.querySelectorAll("fieldset.q")].filter(unanswered);
  if (!items.length) return;
  const el = items.find((q) => q.getBoundingClientRect().top > 140) || items[0];
  el.scrollIntoView({ block: "start" });
  el.querySelector("input, select, textarea")?.focus({ preventScroll: true });
  history.replaceState(null, "", `#${el.id}`);
}
