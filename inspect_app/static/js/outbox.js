// The device's outbox in IndexedDB, so closing the tab, losing the network or running out of
// battery loses nothing: "changes" holds unsent answer changes (keyed by change_id), "photos"
// holds photos taken offline (keyed by id) until they are uploaded.
const DB_NAME = "inspect-outbox";
const STORES = { changes: "change_id", photos: "id" };

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function openStore(name = "changes") {
  if (!("indexedDB" in window)) throw new Error("IndexedDB is not available");
  const open = indexedDB.open(DB_NAME, 2);
  open.onupgradeneeded = () => {
    for (const [store, keyPath] of Object.entries(STORES)) {
      if (!open.result.objectStoreNames.contains(store)) open.result.createObjectStore(store, { keyPath });
    }
  };
  const db = await request(open);
  const tx = (mode) => db.transaction(name, mode).objectStore(name);
  return {
    put: (record) => {
      const { sent, ...clean } = record;
      return request(tx("readwrite").put(clean));
    },
    delete: (key) => request(tx("readwrite").delete(key)),
    all: () => request(tx("readonly").getAll()),
  };
}
