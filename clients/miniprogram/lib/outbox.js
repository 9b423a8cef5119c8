/*
 * outbox: edits not yet acknowledged by the server, kept on the device
 * until they are. Nothing drawn is lost to a failed save, a closed tab or a
 * restarted app: every edit is written to storage before it is sent, sent
 * again with backoff (and at once when the network returns), and the
 * entry is dropped only when the server has acknowledged everything in it.
 *
 * Per paint the outbox keeps the whole local drawing, how much of it the
 * server has acknowledged (`acked`, a count of actions) and the revision
 * it was acknowledged at (`rev`). The transport decides what to send: the
 * apps' (lib/sync.js) appends actions.slice(acked) at rev and returns the
 * new revision. When another device wrote first, the transport rebuilds
 * the drawing as the server's actions followed by ours and returns it; the
 * outbox keeps that (with any edit made meanwhile) and tells the page
 * (onRebase), so the page draws on the merged drawing.
 *
 * Storage is a small synchronous key/value interface, so it fits both
 * localStorage and wx.getStorageSync / wx.setStorageSync.
 */

/** States reported for a paint: an edit is being sent, all sent, or some not yet. */
export const SAVING = 'saving';
export const SAVED = 'saved';
export const UNSAVED = 'unsaved';
/** States for a save the server refused for good: the paint or the user's storage is full. */
export const FULL = 'full';
export const QUOTA = 'quota';

/** Retry delays after a failure: doubling from first to max, milliseconds. */
export const BACKOFF = { first: 1000, max: 30000 };

/**
 * createOutbox makes an outbox.
 * opts.storage: {get(key), set(key, value), remove(key), keys()} holding JSON-able values;
 * opts.prefix: the storage key prefix (one per user: entries are sent with that user's session);
 * opts.instance: this outbox's name in its keys (default random: one per tab or app launch);
 * opts.send({id, actions, acked, rev}): resolves with {rev?, actions?, follow?}
 *   when the server has everything in actions (actions: the drawing rebuilt
 *   after a conflict, which the server now has whole; follow(edits): edits
 *   made on the old drawing during the send, rewritten for the rebuilt
 *   one), rejects otherwise; an error with state FULL or QUOTA is a
 *   refusal that waiting will not fix soon;
 * opts.onChange(id, state): called when a paint's state changes;
 * opts.onRebase(id, actions): the paint's local drawing was rebuilt after a conflict;
 * opts.setTimeout / opts.clearTimeout: the timers (tests pass fakes).
 */
export function createOutbox(opts) {
  const storage = opts.storage;
  const prefix = opts.prefix || 'yibi.outbox.';
  const send = opts.send;
  const onChange = opts.onChange || (() => {});
  const onRebase = opts.onRebase || (() => {});
  // A retry waiting must not keep a Node process (a script, a test) alive.
  const setTimer = opts.setTimeout || ((fn, ms) => {
    const t = setTimeout(fn, ms);
    if (t && typeof t.unref === 'function') t.unref();
    return t;
  });
  const clearTimer = opts.clearTimeout || clearTimeout;
  const backoff = opts.backoff || BACKOFF;
  // live: per paint, what this session knows beyond storage: the send in
  // flight, the retry timer, and the last acknowledged base (acked, rev),
  // which a new entry starts from once an earlier one is done.
  const live = {}; // id -> {inFlight, timer, delay, state, acked, rev}
  // mem mirrors what was written, so a storage that refuses a write (full,
  // private mode) still leaves the edit queued for this session.
  const mem = {};

  // Each outbox writes its entries under its own keys (prefix + id + '~' +
  // instance): two tabs of one browser share localStorage, and one tab's
  // entry (its own base and drawing) must never become the other's.
  const me = opts.instance || Math.random().toString(36).slice(2, 10);
  function key(id) { return prefix + id + '~' + me; }

  // stored lists the entries in storage: [{key, e}].
  function stored() {
    const out = [];
    try {
      for (const k of storage.keys()) {
        if (!k.startsWith(prefix)) continue;
        const e = storage.get(k);
        if (e && typeof e === 'object' && typeof e.id === 'string' && Array.isArray(e.actions)) out.push({ key: k, e });
      }
    } catch (err) { /* memory only */ }
    return out;
  }

  // read is this outbox's entry for a paint. A paint it knows nothing of
  // may have one left by a closed tab or app (or a reload of this one): it
  // is adopted, moved to this outbox's key, and sent from its own base.
  // A paint this outbox has saved is its own: another open tab's entry
  // stays that tab's.
  function read(id) {
    if (mem[id]) return mem[id];
    if (live[id] && live[id].acked !== undefined) return null;
    const left = stored().filter((x) => x.e.id === id);
    if (!left.length) return null;
    // The latest; any other (two tabs closed with unsaved edits) is adopted
    // by a later start, never removed unsent.
    const { key: k, e } = left[left.length - 1];
    write(id, e);
    if (k !== key(id)) try { storage.remove(k); } catch (err) { /* sent twice at worst */ }
    return e;
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
    if (l.state === FULL || l.state === QUOTA) l.delay = backoff.max; // asking often will not help
    l.timer = setTimer(() => { l.timer = null; flush(id); }, l.delay);
  }

  /** flush sends a paint's unacknowledged edits now, unless a send is already out. */
  function flush(id) {
    const l = liveOf(id);
    const e = read(id);
    if (!e) { report(id, SAVED); return Promise.resolve(); }
    if (l.inFlight) { l.again = true; return l.inFlight; }
    if (l.timer) { clearTimer(l.timer); l.timer = null; }
    // What is sent is fixed now: an edit made before the send starts is
    // the next send's (n must match what was sent, or it would go twice).
    const req = { id, actions: e.actions, acked: e.acked || 0, rev: e.rev };
    const n = req.actions.length;
    report(id, SAVING);
    l.inFlight = Promise.resolve()
      .then(() => send(req))
      .then((res) => {
        l.inFlight = null;
        l.delay = 0;
        const now = read(id);
        if (!now) return;
        if (res && Array.isArray(res.actions)) {
          // Rebuilt after a conflict: the server has res.actions whole; edits
          // made during the send follow them, rewritten to fit (follow).
          const during = now.actions.slice(n);
          now.actions = res.actions.concat(typeof res.follow === 'function' ? res.follow(during) : during);
          now.acked = res.actions.length;
          onRebase(id, now.actions);
        } else {
          now.acked = Math.max(now.acked || 0, n);
        }
        if (res && res.rev !== undefined) now.rev = res.rev;
        l.acked = now.acked;
        l.rev = now.rev;
        if (now.acked >= now.actions.length) remove(id);
        else write(id, now);
        if (now.acked < now.actions.length || l.again) { l.again = false; return flush(id); }
        report(id, SAVED);
      }, (err) => {
        l.inFlight = null;
        l.again = false;
        const refused = err && (err.state === FULL || err.state === QUOTA);
        report(id, refused ? err.state : UNSAVED);
        schedule(id);
      });
    return l.inFlight;
  }

  return {
    /**
     * track records what the server has of a paint as loaded (its length
     * in actions and its revision), the base of the next edit. A paint with
     * unacknowledged edits keeps its own base, and a newer one is kept.
     */
    track(id, acked, rev) {
      if (read(id)) return;
      const l = liveOf(id);
      if (l.rev !== undefined && (rev || 0) < l.rev) return; // an older listing than this session's save
      l.acked = acked || 0;
      l.rev = rev || 0;
    },
    /**
     * put records a paint's whole local drawing after an edit, in storage
     * first, and sends it. A paint with no entry yet starts from its
     * tracked base, else from acked (how much the server had before the
     * edit) at revision 0 (the transport finds the real one).
     */
    put(id, actions, acked) {
      const l = liveOf(id);
      const e = read(id) || (l.acked !== undefined
        ? { id, acked: l.acked, rev: l.rev }
        : { id, acked: acked || 0, rev: 0 });
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
      for (const x of stored()) ids.add(x.e.id);
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
      l.acked = undefined;
      l.rev = undefined;
      remove(id);
      for (const x of stored()) if (x.e.id === id) try { storage.remove(x.key); } catch (err) { /* left */ }
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

export default { createOutbox, localStorageOf, wxStorageOf, SAVING, SAVED, UNSAVED, FULL, QUOTA, BACKOFF };
