/*
 * outbox: edits not yet acknowledged by the server, kept on the device
 * until they are. Nothing drawn is lost to a failed save, a closed tab or a
 * restarted app: every edit is written to storage before it is sent, sent
 * again with backoff (and at once when the network returns), and the
 * entry is dropped only when the server has acknowledged everything in it.
 *
 * Per paint the outbox keeps the whole local drawing and how much of it
 * the server has acknowledged (`acked`, a count of actions). The transport
 * decides what to send: today `send` saves the whole drawing (v1 `save`);
 * with incremental saves it sends actions.slice(acked) with the paint's
 * revision and returns the new one (`rev` is kept for it).
 *
 * Storage is a small synchronous key/value interface, so it fits both
 * localStorage and wx.getStorageSync / wx.setStorageSync.
 */

/** States reported for a paint: an edit is being sent, all sent, or some not yet. */
export const SAVING = 'saving';
export const SAVED = 'saved';
export const UNSAVED = 'unsaved';

/** Retry delays after a failure: doubling from first to max, milliseconds. */
export const BACKOFF = { first: 1000, max: 30000 };

/**
 * createOutbox makes an outbox.
 * opts.storage: {get(key), set(key, value), remove(key), keys()} holding JSON-able values;
 * opts.prefix: the storage key prefix (one per user: entries are sent with that user's session);
 * opts.send({id, actions, acked, rev}): resolves with {rev?} when the server has
 *   everything in actions, rejects otherwise;
 * opts.onChange(id, state): called when a paint's state changes;
 * opts.setTimeout / opts.clearTimeout: the timers (tests pass fakes).
 */
export function createOutbox(opts) {
  const storage = opts.storage;
  const prefix = opts.prefix || 'yibi.outbox.';
  const send = opts.send;
  const onChange = opts.onChange || (() => {});
  // A retry waiting must not keep a Node process (a script, a test) alive.
  const setTimer = opts.setTimeout || ((fn, ms) => {
    const t = setTimeout(fn, ms);
    if (t && typeof t.unref === 'function') t.unref();
    return t;
  });
  const clearTimer = opts.clearTimeout || clearTimeout;
  const backoff = opts.backoff || BACKOFF;
  const live = {}; // id -> {inFlight, timer, delay, state}
  // mem mirrors what was written, so a storage that refuses a write (full,
  // private mode) still leaves the edit queued for this session.
  const mem = {};

  function key(id) { return prefix + id; }

  function read(id) {
    if (mem[id]) return mem[id];
    try {
      const e = storage.get(key(id));
      return e && typeof e === 'object' && Array.isArray(e.actions) ? (mem[id] = e) : null;
    } catch (err) {
      return null;
    }
  }

  function write(id, e) {
    mem[id] = e;
    try { storage.set(key(id), e); } catch (err) { /* kept in memory */ }
  }

  function remove(id) {
    delete mem[id];
    try { storage.remove(key(id)); } catch (err) { /* nothing more to do */ }
  }

  function liveOf(id) {
    return live[id] || (live[id] = { inFlight: false, timer: null, delay: 0, state: SAVED });
  }

  function report(id, state) {
    const l = liveOf(id);
    if (l.state === state) return;
    l.state = state;
    onChange(id, state);
  }

  function schedule(id) {
    const l = liveOf(id);
    if (l.timer) return;
    l.delay = l.delay ? Math.min(l.delay * 2, backoff.max) : backoff.first;
    l.timer = setTimer(() => { l.timer = null; flush(id); }, l.delay);
  }

  /** flush sends a paint's unacknowledged edits now, unless a send is already out. */
  function flush(id) {
    const l = liveOf(id);
    const e = read(id);
    if (!e) { report(id, SAVED); return Promise.resolve(); }
    if (l.inFlight) { l.again = true; return l.inFlight; }
    if (l.timer) { clearTimer(l.timer); l.timer = null; }
    const n = e.actions.length;
    report(id, SAVING);
    l.inFlight = Promise.resolve()
      .then(() => send({ id, actions: e.actions, acked: e.acked || 0, rev: e.rev }))
      .then((res) => {
        l.inFlight = null;
        l.delay = 0;
        const now = read(id);
        if (!now) return;
        now.acked = Math.max(now.acked || 0, n);
        if (res && res.rev !== undefined) now.rev = res.rev;
        if (now.acked >= now.actions.length) remove(id);
        else write(id, now);
        if (now.acked < now.actions.length || l.again) { l.again = false; return flush(id); }
        report(id, SAVED);
      }, () => {
        l.inFlight = null;
        l.again = false;
        report(id, UNSAVED);
        schedule(id);
      });
    return l.inFlight;
  }

  return {
    /**
     * put records a paint's whole local drawing after an edit, in storage
     * first, and sends it. acked is how much of it the server had before
     * the edit (the length of the drawing as loaded), when the paint has no
     * entry yet.
     */
    put(id, actions, acked) {
      const e = read(id) || { id, acked: acked || 0 };
      e.actions = actions;
      write(id, e);
      return flush(id);
    },
    /** actions is the paint's local drawing when it has unacknowledged edits, else null. */
    actions(id) {
      const e = read(id);
      return e ? e.actions : null;
    },
    /** pending says whether a paint has edits the server has not acknowledged. */
    pending(id) { return !!read(id); },
    /** ids lists the paints with pending edits. */
    ids() {
      const ids = new Set(Object.keys(mem));
      try {
        for (const k of storage.keys()) if (k.startsWith(prefix)) ids.add(k.slice(prefix.length));
      } catch (err) { /* memory only */ }
      return [...ids].filter((id) => read(id));
    },
    /** state is a paint's last reported state. */
    state(id) { return read(id) ? liveOf(id).state : SAVED; },
    flush,
    /** retryAll sends every pending paint now (start-up, the network is back). */
    retryAll() { return Promise.all(this.ids().map((id) => flush(id))); },
    /** drop forgets a paint's pending edits (the paint was deleted). */
    drop(id) {
      const l = liveOf(id);
      if (l.timer) { clearTimer(l.timer); l.timer = null; }
      remove(id);
    },
  };
}

/** localStorageOf adapts a Web Storage object (localStorage) to the outbox's storage. */
export function localStorageOf(ls) {
  return {
    get(k) { const v = ls.getItem(k); return v == null ? null : JSON.parse(v); },
    set(k, v) { ls.setItem(k, JSON.stringify(v)); },
    remove(k) { ls.removeItem(k); },
    keys() { const out = []; for (let i = 0; i < ls.length; i++) out.push(ls.key(i)); return out; },
  };
}

/** wxStorageOf adapts the mini program's wx storage API to the outbox's storage. */
export function wxStorageOf(wx) {
  return {
    get(k) { const v = wx.getStorageSync(k); return v === '' || v == null ? null : v; },
    set(k, v) { wx.setStorageSync(k, v); },
    remove(k) { wx.removeStorageSync(k); },
    keys() { return wx.getStorageInfoSync().keys || []; },
  };
}

export default { createOutbox, localStorageOf, wxStorageOf, SAVING, SAVED, UNSAVED, BACKOFF };
