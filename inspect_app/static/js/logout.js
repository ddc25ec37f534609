// Logging out on a shared tablet: warn about changes not yet sent, then forget the pages the
// service worker keeps for offline use.
import { openStore } from "./outbox.js";

export async function logOut(form) {
  let pending = 0;
  try {
    const mine = Number(form.dataset.user);
    for (const name of ["changes", "photos", "submissions"]) {
      pending += (await (await openStore(name)).all()).filter((c) => c.user_id === mine).length;
    }
  } catch {
    pending = 0;
  }
  if (pending && !window.confirm(form.dataset.pendingWarning.replace("{n}", pending))) return;
  navigator.serviceWorker?.controller?.postMessage({ type: "forget-pages" });
  await window.caches?.delete("inspect-pages-v1").catch(() => {});
  localStorage.removeItem(`inspect-prepared-${form.dataset.user}`);
  form.dataset.checked = "1";
  form.submit();
}
