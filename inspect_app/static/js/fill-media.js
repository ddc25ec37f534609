// Loaded on demand by fill.js: photo downscaling and upload, guidance and legal basis, conflicts.

const MAX_EDGE = 1600;

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => resolve({ img, url });
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("image"));
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

export async function uploadFile(el, input, ctx) {
  const file = input.files && input.files[0];
  if (!file) return;
  ctx.say("uploading");
  try {
    const blob = file.type === "application/pdf" ? file : await downscale(file);
    const data = new FormData();
    data.append("file", blob, file.type === "application/pdf" ? file.name : "photo.jpg");
    data.append("item_id", el.id.slice(1));
    const send = () =>
      fetch(ctx.url, { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": ctx.token() } });
    let r = await send();
    if (r.status === 400) {
      const err = await r.clone().json().catch(() => ({}));
      if (err.error && err.error.code === "csrf_failed") {
        await ctx.refreshToken();
        r = await send();
      }
    }
    const body = await r.json();
    if (!r.ok) throw new Error(body.error ? body.error.message : String(r.status));
    const link = document.createElement("a");
    link.href = body.url;
    link.dataset.att = body.id;
    if (body.thumbnail_url) {
      const thumb = document.createElement("img");
      thumb.src = body.thumbnail_url;
      thumb.width = 72;
      thumb.height = 72;
      thumb.alt = ctx.label;
      link.append(thumb);
    } else {
      link.textContent = "PDF";
    }
    input.closest(".ph").prepend(link);
    input.value = "";
    ctx.say("uploaded");
  } catch (err) {
    ctx.say("failed", { msg: err.message });
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
  return parts.join(" · ");
}

export function offerMine(el, fields, ctx) {
  el.querySelector(".mine")?.remove();
  const box = document.createElement("p");
  box.className = "mine";
  box.textContent = `${ctx.text} `;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary";
  button.textContent = ctx.button;
  button.addEventListener("click", () => {
    ctx.apply();
    box.remove();
  });
  box.append(button);
  el.querySelector(".ph").before(box);
}
