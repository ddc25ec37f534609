// The device's outbox: unsent answer changes kept in IndexedDB, so closing the tab, losing the
// network or running out of battery loses nothing. One object store keyed by change_id.
const DB_NAME = "inspect-outbox";
const STORE = "changes";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function openStore() {
  if (!("indexedDB" in window)) throw new Error("IndexedDB is not available");
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "change_id" });
  const db = await request(open);
  const tx = (mode) => db.transaction(STORE, mode).objectStore(STORE);
  return {
    put: (record) => {
      const { sent, ...clean } = record;
      return request(tx("readwrite").put(clean));
    },
    delete: (key) => request(tx("readwrite").delete(key)),
    all: () => request(tx("readonly").getAll()),
  };
}
