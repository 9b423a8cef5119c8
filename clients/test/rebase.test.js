// A conflict between two devices, each an outbox with the apps' append
// transport (lib/sync.js) and a Drawing, over an in-memory paint API that
// answers as yibi's does (a stale rev is a 409). When one device undoes or
// clears while another appended, the undo must take back the stroke its
// author meant and the clear hide only what its author saw
// (docs/drawing.md, "Units, undo and clear"). sync.test.js runs the same
// against a real yibi.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createOutbox, SAVED, UNSAVED } from '../miniprogram/lib/outbox.js';
import { appendSender, rebase } from '../miniprogram/lib/sync.js';
import { Drawing } from '../miniprogram/lib/drawing.js';
import { replay, strokeActions, spaceAction } from '../miniprogram/lib/actions.js';
import { memStorage } from './memstorage.js';

// paintsAPI is the paint API's append and get on a Map: {actions, rev} per id.
function paintsAPI() {
  const paints = new Map();
  const answer = (statusCode, data) => ({ statusCode, data });
  return {
    paints,
    async call(name, body, id) {
      if (name === 'append') {
        const p = paints.get(body.id) || { actions: [], rev: 0 };
        if (body.rev !== p.rev) return answer(409, { code: -1, msg: 'fail', error: { reason: 'revision conflict' }, data: { rev: p.rev } });
        paints.set(body.id, { actions: p.actions.concat(body.actions), rev: p.rev + 1 });
        return answer(200, { code: 0, msg: 'success', data: { rev: p.rev + 1 } });
      }
      const p = paints.get(id);
      if (!p) return answer(404, { code: -1, msg: 'fail', error: { reason: 'not found' } });
      return answer(200, { code: 0, msg: 'success', data: { id, actions: JSON.stringify(p.actions), rev: p.rev } });
    },
  };
}

// drawn lists the strokes a drawing shows by their first point's y, as
// every client replays it.
function drawn(list) {
  const ys = [];
  const ctx = new Proxy({}, {
    get: (t, k) => (k === 'moveTo' ? (x, y) => ys.push(y) : () => {}),
    set: () => true,
  });
  replay(ctx, list);
  return ys;
}

// device is one phone or tab: an outbox over its own storage, a network
// that can be cut (online) or held (hold: a promise each call waits for),
// and the drawing its page shows, replaced when the outbox rebases.
function device(api, storage = memStorage()) {
  const d = { online: true, hold: null, drawing: null, states: [] };
  d.outbox = createOutbox({
    storage,
    send: appendSender(async (name, body, id) => {
      if (!d.online) throw new Error('offline');
      if (d.hold) await d.hold;
      return api.call(name, body, id);
    }),
    onChange: (id, st) => d.states.push(st),
    onRebase: (id, list) => { d.drawing = new Drawing(list); },
    setTimeout: () => null, // retries are driven by the test
    clearTimeout: () => {},
  });
  d.open = async (id) => {
    const res = await api.call('get', null, id);
    d.drawing = new Drawing(res.statusCode === 404 ? undefined : res.data.data.actions);
    if (res.statusCode !== 404) d.outbox.track(id, d.drawing.actions.length, res.data.data.rev);
  };
  d.stroke = (id, y) => { d.drawing.stroke([[10, y], [200, y]], { color: '#FF0000', width: 5 }); return d.outbox.put(id, d.drawing.actions); };
  d.undo = (id) => { assert.equal(d.drawing.undo().length, 1); return d.outbox.put(id, d.drawing.actions); };
  d.clear = (id) => { assert.equal(d.drawing.clear().length, 1); return d.outbox.put(id, d.drawing.actions); };
  return d;
}

// twoDevices: A draws s1 (saved); B opens the paint and appends s2 (saved);
// A, offline and not knowing of s2, goes on.
async function twoDevices() {
  const api = paintsAPI();
  const a = device(api);
  const b = device(api);
  await a.open('p');
  await a.stroke('p', 100);
  await b.open('p');
  await b.stroke('p', 200);
  assert.deepEqual(drawn(a.drawing.actions), [100], 'A has not seen s2');
  a.online = false;
  const server = () => api.paints.get('p').actions;
  return { api, a, b, server };
}

// reconnect brings A back: its next send conflicts and rebuilds.
async function reconnect(a) {
  a.online = true;
  await a.outbox.flush('p');
  assert.equal(a.outbox.pending('p'), false);
  assert.equal(a.outbox.state('p'), SAVED);
}

test('A undoes its acknowledged s1 offline while B appended s2: after the conflict s2 shows, s1 does not', async () => {
  const { a, b, server } = await twoDevices();
  await a.undo('p');
  assert.equal(a.outbox.state('p'), UNSAVED);
  assert.deepEqual(drawn(a.drawing.actions), []);
  await reconnect(a);
  assert.deepEqual(drawn(server()), [200], JSON.stringify(server()));
  assert.deepEqual(drawn(a.drawing.actions), [200], 'A shows the merged drawing');
  assert.deepEqual(a.drawing.actions, server());
  await b.open('p');
  assert.deepEqual(drawn(b.drawing.actions), [200], 'so does B');
  assert.equal(server().filter((x) => x.method === 'stroke').length, 2, 'both strokes are stored');
});

test('A clears offline while B appended s2: the clear hides s1 only', async () => {
  const { a, server } = await twoDevices();
  await a.clear('p');
  assert.deepEqual(drawn(a.drawing.actions), []);
  await reconnect(a);
  assert.deepEqual(drawn(server()), [200]);
  assert.deepEqual(drawn(a.drawing.actions), [200]);
  // The clear is A's latest unit: undoing it brings s1 back.
  await a.undo('p');
  assert.deepEqual(drawn(server()), [100, 200]);
});

test('A draws s3 offline, then undoes it: s1 and s2 stay, s3 goes', async () => {
  const { a, server } = await twoDevices();
  await a.stroke('p', 300);
  await a.undo('p');
  await reconnect(a);
  assert.deepEqual(drawn(server()), [100, 200]);
});

test('A draws s3 offline, then clears: s2, which A never saw, stays', async () => {
  const { a, server } = await twoDevices();
  await a.stroke('p', 300);
  await a.clear('p');
  assert.deepEqual(drawn(a.drawing.actions), []);
  await reconnect(a);
  assert.deepEqual(drawn(server()), [200]);
  assert.deepEqual(server().at(-1), { method: 'clear', data: [0, 1, 2, 3] }, 'the clear names s1 and s3');
});

test('an undo made while the conflict is being resolved follows the rebuilt drawing', async () => {
  const { a, server } = await twoDevices();
  a.online = true;
  let release;
  a.hold = new Promise((r) => { release = r; });
  const sending = a.stroke('p', 300); // held: s3 is A's unit 1 on the page
  const undoing = a.undo('p'); // undo of unit 1, made before the rebase says s3 is unit 2 now
  assert.deepEqual(a.drawing.actions.at(-1), { method: 'undo', data: [1] });
  a.hold = null;
  release();
  await Promise.all([sending, undoing]);
  await a.outbox.flush('p');
  assert.equal(a.outbox.pending('p'), false);
  assert.deepEqual(drawn(server()), [100, 200], JSON.stringify(server().slice(-2)));
  assert.deepEqual(a.drawing.actions, server());
});

test('a plain undo an older app left pending is pinned to the stroke it meant', async () => {
  const api = paintsAPI();
  const b = device(api);
  await b.open('p');
  await b.stroke('p', 100);
  const acked = b.drawing.actions.slice();
  await b.stroke('p', 200);
  // What an older app left in storage: s1 acknowledged at rev 1, a plain undo of it pending.
  const storage = memStorage();
  storage.set('yibi.outbox.p~old', { id: 'p', acked: acked.length, rev: 1, actions: [...acked, { method: 'undo', data: [] }] });
  const a = device(api, storage);
  await a.outbox.retryAll();
  assert.equal(a.outbox.pending('p'), false);
  assert.deepEqual(drawn(api.paints.get('p').actions), [200]);
  assert.deepEqual(api.paints.get('p').actions.at(-1), { method: 'undo', data: [0] });
});

test('rebase: ours follow the server, our targets move past what it gained', async (t) => {
  const S = spaceAction();
  const s = (y) => strokeActions([[10, y], [20, y]], '#FF0000', 5);
  const base = [S, ...s(1)];
  await t.test('undo of an acknowledged unit keeps its target', () => {
    const r = rebase([...base, { method: 'undo', data: [0] }], base.length, [...base, ...s(2)]);
    assert.deepEqual(r.actions, [...base, ...s(2), { method: 'undo', data: [0] }]);
    assert.deepEqual([r.at, r.by], [1, 1]);
  });
  await t.test('undo of a pending unit moves with it', () => {
    const r = rebase([...base, ...s(3), { method: 'undo', data: [1] }], base.length, [...base, ...s(2), ...s(4)]);
    assert.deepEqual(r.actions.at(-1), { method: 'undo', data: [3] });
    assert.deepEqual(drawn(r.actions), [1, 2, 4]);
  });
  await t.test('an append whose answer was lost: the server already has ours', () => {
    const ours = [...base, ...s(3)];
    const server = [...ours, ...s(2)];
    const r = rebase(ours, base.length, server);
    assert.equal(r.actions, server);
    assert.deepEqual([r.at, r.by], [2, 1], 'what we add next comes after s2');
  });
});
