// The device's outbox in IndexedDB, so closing the tab, losing the network or running out of
// battery loses nothing: "changes" holds unsent answer changes (keyed by change_id), "photos"
// holds photos taken offline (keyed by id) until they are uploaded (or, refused by the server,
// until the inspector has saved or discarded them: offline.js); "submissions" holds a
// submission made offline (keyed by "user-inspection"), sent after every earlier change.
// A new version only adds stores: what an older page queued is kept and sent.
const DB_NAME = "inspect-outbox";
const STORES = { changes: "change_id", photos: "id", submissions: "id" };

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

// Kept once the transaction commits: a full device aborts it after the request succeeded.
function written(store, write) {
  return new Promise((resolve, reject) => {
    const tx = store.transaction;
    write(store);
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException("The write was not kept.", "AbortError"));
    tx.onerror = () => reject(tx.error);
  });
}

export async function openStore(name = "changes") {
  if (!("indexedDB" in window)) throw new Error("IndexedDB is not available");
  const open = indexedDB.open(DB_NAME, 3);
  open.onupgradeneeded = () => {
    for (const [store, keyPath] of Object.entries(STORES)) {
      if (!open.result.objectStoreNames.contains(store)) open.result.createObjectStore(store, { keyPath });
    }
  };
  const db = await request(open);
  db.onversionchange = () => db.close(); // let a newer page upgrade the database
  const tx = (mode) => db.transaction(name, mode).objectStore(name);
  return {
    put: (record) => {
      const { sent, ...clean } = record;
      return written(tx("readwrite"), (store) => store.put(clean));
    },
    delete: (key) => written(tx("readwrite"), (store) => store.delete(key)),
    all: () => request(tx("readonly").getAll()),
    get: (key) => request(tx("readonly").get(key)),
  };
}

// A photo waits to be sent unless the server refused it.
export const waitingPhoto = (photo) => !photo.refused;

// The server could not take it now (a proxy's 502 or 504, a database restarting: 503, a rate
// limit): sent again later, as when offline. A 500 is the app failing on that request: sent
// again forever, it would hold back every later photo, so it counts as refused.
export const transient = (status) => [502, 503, 504, 408, 429].includes(status);

// A photo the server refused is kept with the reason, not deleted: it may be the only copy.
export async function keepRefused(store, photo, status, message) {
  await store.put({ ...photo, refused: { status, message: message || "" } });
}
