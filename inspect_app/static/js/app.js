// Small progressive enhancements shared by every page: the menu toggle and confirmations.

const toggle = document.querySelector("[data-nav-toggle]");
if (toggle) {
  const nav = document.getElementById(toggle.getAttribute("aria-controls"));
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    nav.classList.toggle("open", !open);
  });
}

// <form data-confirm="message"> asks before submitting.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Logging out (logout.js): warn about unsent changes, forget pages kept for offline use.
const logout = document.querySelector('form[action$="/auth/logout"]');
logout?.addEventListener("submit", (event) => {
  if (logout.dataset.checked) return;
  event.preventDefault();
  import("./logout.js").then((m) => m.logOut(logout));
});

// Offline copies of the pages and their scripts (/sw.js); changes waiting, 准备离线 (offline.js).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" }).catch(() => {});
}
if (document.body.dataset.user && "indexedDB" in window) import("./offline.js");
