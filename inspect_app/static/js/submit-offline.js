// Submitting without a network, or while earlier changes still wait on this device: the name,
// the signature and the submission are queued in the outbox and sent after every earlier change
// (offline.js, sync.js). The filling page shows 待上传提交 meanwhile. Online with nothing
// waiting, the form is posted as usual.
import { openStore, waitingPhoto } from "./outbox.js";

const form = document.querySelector("[data-offline-submit]");
const T = JSON.parse(document.getElementById("submit-i18n")?.textContent || "{}");
const userId = Number(document.body.dataset.user);
const inspectionId = Number(form?.dataset.inspection);
const key = `${userId}-${inspectionId}`;

async function waitingBefore() {
  let n = 0;
  for (const name of ["changes", "photos"]) {
    n += (await (await openStore(name)).all()).filter((r) => r.user_id === userId && r.inspection_id === inspectionId && waitingPhoto(r)).length;
  }
  return n;
}

function showMissing(messages) {
  form.querySelector(".missing")?.remove();
  const box = document.createElement("div");
  box.className = "missing flash flash-error";
  box.setAttribute("role", "alert");
  box.append(Object.assign(document.createElement("strong"), { textContent: T.missing }));
  const list = document.createElement("ul");
  for (const m of messages) list.append(Object.assign(document.createElement("li"), { textContent: m }));
  box.append(list);
  form.prepend(box);
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  let store;
  let queue = !navigator.onLine;
  try {
    store = await openStore("submissions");
    queue = queue || (await waitingBefore()) > 0;
  } catch {
    store = null; // no IndexedDB: only the ordinary form is left
  }
  if (!queue || !store) {
    await store?.delete(key); // a refusal shown earlier is replaced by this answer
    form.submit();
    return;
  }
  const name = form.elements.namedItem("signatory_name").value.trim();
  const signature = form.elements.namedItem("signature").value;
  const missing = [];
  if (!name) missing.push(T.name);
  if (!signature) missing.push(T.signature);
  if (!form.elements.namedItem("confirm").checked) missing.push(T.confirm);
  if (missing.length) {
    showMissing(missing);
    return;
  }
  await store.put({ id: key, inspection_id: inspectionId, user_id: userId, signatory_name: name, signature, queued_at: new Date().toISOString() });
  location.assign(form.dataset.fill);
});
