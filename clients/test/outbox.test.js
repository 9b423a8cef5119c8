// The outbox with an in-memory storage, fake timers and a transport that
// fails when told to: nothing is dropped before the server has it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createOutbox, localStorageOf, SAVED, UNSAVED, SAVING, BACKOFF } from '../miniprogram/lib/outbox.js';
import { memStorage } from './memstorage.js';

function harness({ failures = 0 } = {}) {
  const h = { sent: [], states: [], timers: [], failures, server: {} };
  h.storage = memStorage();
  h.make = () => createOutbox({
    storage: h.storage,
    prefix: 'p.',
    send: async (req) => {
      h.sent.push({ id: req.id, n: req.actions.length, acked: req.acked });
      await null;
      if (h.failures > 0) { h.failures--; throw new Error('HTTP 503'); }
      h.server[req.id] = req.actions.slice();
      return {};
    },
    onChange: (id, state) => h.states.push(state),
    setTimeout: (fn, ms) => { const t = { fn, ms }; h.timers.push(t); return t; },
    clearTimeout: (t) => { h.timers = h.timers.filter((x) => x !== t); },
  });
  h.fire = async () => {
    const t = h.timers.shift();
    assert.ok(t, 'a retry is scheduled');
    await t.fn();
    await settle();
    return t.ms;
  };
  return h;
}

const settle = () => new Promise((r) => setTimeout(r, 5));

test('an acknowledged edit leaves nothing behind', async () => {
  const h = harness();
  const o = h.make();
  await o.put('a', [1, 2, 3]);
  await settle();
  assert.deepEqual(h.server.a, [1, 2, 3]);
  assert.equal(o.pending('a'), false);
  assert.equal(h.storage.m.size, 0);
  assert.deepEqual(h.states, [SAVING, SAVED]);
});

test('503 three times then 200: retried with backoff, nothing lost, shown as not saved yet', async () => {
  const h = harness({ failures: 3 });
  const o = h.make();
  await o.put('a', [1]);
  await settle();
  assert.equal(o.state('a'), UNSAVED);
  assert.equal(o.pending('a'), true);
  assert.deepEqual([...h.storage.m.values()].map((v) => JSON.parse(v).actions), [[1]], 'kept in storage');
  await o.put('a', [1, 2]); // an edit while unsaved is queued with it
  await settle();
  const delays = [];
  while (o.pending('a')) delays.push(await h.fire());
  // Each edit is tried at once; each failure doubles the wait.
  assert.deepEqual(delays, [BACKOFF.first * 2, BACKOFF.first * 4]);
  assert.deepEqual(h.server.a, [1, 2]);
  assert.equal(o.state('a'), SAVED);
  assert.equal(h.sent.length, 4);
});

test('backoff doubles up to its maximum', async () => {
  const h = harness({ failures: 100 });
  const o = h.make();
  await o.put('a', [1]);
  await settle();
  const delays = [];
  for (let i = 0; i < 8; i++) delays.push(await h.fire());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('reopening resends what was never acknowledged', async () => {
  const h = harness({ failures: 1 });
  await h.make().put('a', [1, 2]);
  await settle();
  assert.equal(h.server.a, undefined);
  const reopened = h.make(); // a reload: a new outbox over the same storage
  assert.deepEqual(reopened.ids(), ['a']);
  assert.deepEqual(reopened.actions('a'), [1, 2]);
  await reopened.retryAll();
  await settle();
  assert.deepEqual(h.server.a, [1, 2]);
  assert.deepEqual(reopened.ids(), []);
});

test('edits during a send are sent after it, in order', async () => {
  const h = harness();
  const o = h.make();
  const first = o.put('a', [1]);
  o.put('a', [1, 2]);
  o.put('a', [1, 2, 3]);
  await first;
  await settle();
  assert.deepEqual(h.server.a, [1, 2, 3]);
  assert.equal(o.pending('a'), false);
  assert.ok(h.sent.length <= 3, `sent ${h.sent.length} times`);
  assert.equal(h.sent[1].acked, 1, 'the second send knows what the server had');
});

test('a storage that refuses writes still keeps the edit for this session', async () => {
  const h = harness({ failures: 1 });
  h.storage.set = () => { throw new Error('QuotaExceededError'); };
  const o = h.make();
  await o.put('a', [1]);
  await settle();
  assert.equal(o.pending('a'), true);
  await h.fire();
  assert.deepEqual(h.server.a, [1]);
});

test('drop forgets a deleted paint', async () => {
  const h = harness({ failures: 1 });
  const o = h.make();
  await o.put('a', [1]);
  await settle();
  o.drop('a');
  assert.equal(o.pending('a'), false);
  assert.equal(h.timers.length, 0);
});

test('two tabs over one storage keep their own entries; a reload adopts what a tab left', async () => {
  const h = harness({ failures: 2 });
  const a = h.make();
  const b = h.make();
  a.track('x', 1, 1);
  b.track('x', 1, 1);
  await a.put('x', [0, 'a1']);
  await b.put('x', [0, 'b1']);
  await settle();
  assert.equal(h.storage.m.size, 2, 'one entry per tab');
  assert.deepEqual(a.actions('x'), [0, 'a1']);
  assert.deepEqual(b.actions('x'), [0, 'b1']);
  b.drop('y'); // another paint: nothing of x goes
  assert.equal(h.storage.m.size, 2);
  // Tab b closes; a reload of it (a new outbox) adopts its entry and sends it from its base.
  const reloaded = h.make();
  await reloaded.flush('x');
  await settle();
  assert.equal(h.sent.at(-1).acked, 1);
  assert.ok(['a1', 'b1'].includes(h.server.x[1]));
  assert.equal(h.storage.m.size, 1, 'the adopted entry is gone once sent; the other tab\'s stays');
});

test('a send that rebuilt the drawing after a conflict: kept, with edits made meanwhile, and the page told', async () => {
  const storage = memStorage();
  const rebased = [];
  let release;
  const o = createOutbox({
    storage,
    send: () => new Promise((r) => { release = r; }),
    onRebase: (id, list) => rebased.push(list),
  });
  o.track('p', 1, 4);
  const sent = o.put('p', ['s', 'mine']);
  await settle();
  o.put('p', ['s', 'mine', 'later']); // drawn while the send is out
  release({ rev: 6, actions: ['s', 'theirs', 'mine'] });
  await settle();
  assert.deepEqual(rebased, [['s', 'theirs', 'mine', 'later']]);
  // The later edit goes out next, from the rebuilt base: only it.
  assert.deepEqual(o.actions('p'), ['s', 'theirs', 'mine', 'later']);
  release({ rev: 7 });
  await sent;
  assert.equal(o.pending('p'), false);
});

test('localStorageOf round-trips JSON through a Web Storage', () => {
  const m = new Map();
  const ls = {
    getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k),
    key: (i) => [...m.keys()][i], get length() { return m.size; },
  };
  const s = localStorageOf(ls);
  s.set('x', { a: [1] });
  assert.deepEqual(s.get('x'), { a: [1] });
  assert.deepEqual(s.keys(), ['x']);
  s.remove('x');
  assert.equal(s.get('x'), null);
});
