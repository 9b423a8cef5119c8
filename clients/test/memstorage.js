// memStorage is the outbox's storage interface over a Map of JSON strings
// (what localStorage and wx storage keep), for tests; m is the Map.
export function memStorage() {
  const m = new Map();
  return {
    m,
    get: (k) => (m.has(k) ? JSON.parse(m.get(k)) : null),
    set: (k, v) => m.set(k, JSON.stringify(v)),
    remove: (k) => m.delete(k),
    keys: () => [...m.keys()],
  };
}
