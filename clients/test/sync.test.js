// The outbox with the apps' append transport (lib/sync.js) against a real
// yibi: two devices on one paint, a lost answer, a deleted paint, a full
// paint. Each "device" is an outbox over its own storage and session.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import wxsession from '../miniprogram/lib/wxsession.js';
import { createSimPlatform } from '../web/simplatform.js';
import { createOutbox, SAVED, FULL } from '../miniprogram/lib/outbox.js';
import { appendSender } from '../miniprogram/lib/sync.js';
import { Drawing } from '../miniprogram/lib/drawing.js';
import { parse, visible, MAX_BYTES } from '../miniprogram/lib/actions.js';
import { startYibi } from './yibi.js';
import { memStorage } from './memstorage.js';

test('append transport against a real yibi', async (t) => {
  const srv = await startYibi(t);
  if (!srv) return;
  const run = crypto.randomBytes(4).toString('hex');
  const paths = (name) => `/applet/session/paints/${name}`;

  // device is one phone or tab of user: a session, an outbox, and the
  // drawing its page shows (rebuilt when the outbox merges).
  const device = (user, { lose = () => false } = {}) => {
    const c = wxsession.createClient({ platform: createSimPlatform({ base: srv.url, user }) });
    const d = { c, bodies: [], states: [], drawing: null };
    const call = async (name, body, id) => {
      if (body) d.bodies.push(body);
      const res = await c.requestAsync(body
        ? { url: paths(name), method: 'POST', data: body }
        : { url: paths(name), data: { id } });
      if (body && lose(body, res)) throw new Error('answer lost'); // the request did arrive
      return res;
    };
    d.outbox = createOutbox({
      storage: memStorage(),
      send: appendSender(call),
      onChange: (id, st) => d.states.push(st),
      onRebase: (id, list) => { d.drawing = new Drawing(list); },
      setTimeout: () => null, // retries are driven by the test
      clearTimeout: () => {},
    });
    d.open = async (id) => {
      const res = await c.requestAsync({ url: paths('get'), data: { id } });
      if (res.statusCode === 404) { d.drawing = new Drawing(); return; }
      d.drawing = new Drawing(res.data.data.actions);
      d.outbox.track(id, d.drawing.actions.length, res.data.data.rev);
    };
    d.stroke = (id, y, color = '#FF0000') => {
      d.drawing.stroke([[10, y], [200, y + 1]], { color, width: 5 });
      return d.outbox.put(id, d.drawing.actions);
    };
    return d;
  };
  const get = async (d, id) => (await d.c.requestAsync({ url: paths('get'), data: { id } })).data.data;
  const strokes = (list) => parse(list).filter((a) => a.method === 'stroke').length;
  const colors = (list) => parse(list).filter((a) => a.method === 'setStrokeStyle').map((a) => a.data[0]);

  await t.test('each save appends only the new stroke; the server has the concatenation', async () => {
    const a = device('grow-' + run);
    const id = crypto.randomUUID();
    await a.open(id);
    for (let i = 0; i < 5; i++) await a.stroke(id, 10 + i * 20);
    const p = await get(a, id);
    assert.equal(p.rev, 5);
    assert.equal(p.actions, JSON.stringify(a.drawing.actions));
    assert.equal(a.bodies[0].rev, 0);
    assert.equal(a.bodies[0].actions.length, 8, 'space + the first stroke');
    for (const b of a.bodies.slice(1)) assert.equal(b.actions.length, 7, 'one stroke each');
    assert.equal(a.outbox.pending(id), false);
  });

  await t.test('two devices on one paint: both sides\' strokes end up in it, in both', async () => {
    const user = 'two-' + run;
    const id = crypto.randomUUID();
    const a = device(user);
    const b = device(user);
    await a.open(id);
    await a.stroke(id, 10);
    await b.open(id);
    // Both draw on revision 2 at once: one wins, the other rebuilds.
    await Promise.all([a.stroke(id, 100, '#FF0000'), b.stroke(id, 200, '#0000FF')]);
    await a.stroke(id, 300, '#FF0000'); // a is behind b now: its next append conflicts
    await b.outbox.flush(id);
    await a.outbox.flush(id);
    const p = await get(a, id);
    assert.equal(strokes(p.actions), 4, p.actions);
    assert.deepEqual(colors(p.actions).sort(), ['#0000FF', '#FF0000', '#FF0000', '#FF0000']);
    assert.equal(JSON.stringify(a.drawing.actions), p.actions, 'device a shows the merged drawing');
    assert.ok(b.bodies.some((x) => x.actions.length === 7 && x.rev > 0), 'b appended at the server revision');
    assert.equal(a.outbox.pending(id) || b.outbox.pending(id), false);
    assert.ok(![...a.states, ...b.states].includes('full'));
  });

  // shown lists the strokes a drawing shows (visible), by colour.
  const shown = (list) => visible(parse(list)).filter((a) => a.method === 'setStrokeStyle').map((a) => a.data[0]);

  for (const edit of ['undo', 'clear']) {
    await t.test(`${edit === 'undo' ? 'an undo' : 'a clear'} of this device's stroke after another device's stroke: the other's stays`, async () => {
      const user = `${edit}-` + run;
      const id = crypto.randomUUID();
      const a = device(user);
      const b = device(user);
      await a.open(id);
      await a.stroke(id, 10, '#FF0000'); // s1, saved
      await b.open(id);
      await b.stroke(id, 200, '#0000FF'); // s2, saved; a has not seen it
      a.drawing[edit]();
      await a.outbox.put(id, a.drawing.actions); // a's rev is stale: a conflict, then the rebuilt drawing
      const p = await get(a, id);
      assert.deepEqual(shown(p.actions), ['#0000FF'], p.actions);
      assert.equal(strokes(p.actions), 2, 'both strokes are stored');
      assert.equal(JSON.stringify(a.drawing.actions), p.actions, 'device a shows the merged drawing');
      assert.equal(a.outbox.pending(id), false);
    });
  }

  await t.test('an append whose answer was lost is not drawn twice', async () => {
    let lost = 0;
    const a = device('lost-' + run, { lose: (body) => body.rev === 1 && lost++ === 0 });
    const id = crypto.randomUUID();
    await a.open(id);
    await a.stroke(id, 10);
    await a.stroke(id, 50); // arrives at rev 1, answer lost
    assert.equal(a.outbox.pending(id), true);
    await a.outbox.flush(id); // rev 1 again: conflict, and the server already has it
    const p = await get(a, id);
    assert.equal(strokes(p.actions), 2, p.actions);
    assert.equal(p.rev, 2);
    assert.equal(a.outbox.pending(id), false);
    assert.equal(a.outbox.state(id), SAVED);
  });

  await t.test('a paint deleted elsewhere is created again with everything on the device', async () => {
    const user = 'gone-' + run;
    const a = device(user);
    const id = crypto.randomUUID();
    await a.open(id);
    await a.stroke(id, 10);
    const del = await a.c.requestAsync({ url: paths('delete'), method: 'POST', data: { id } });
    assert.equal(del.data.code, 0);
    await a.stroke(id, 50);
    const p = await get(a, id);
    assert.equal(strokes(p.actions), 2);
    assert.equal(p.actions, JSON.stringify(a.drawing.actions));
  });

  await t.test('paint is full: shown as full, the strokes stay on the device', async () => {
    const user = 'full-' + run;
    const a = device(user);
    const id = crypto.randomUUID();
    // Nearly 1 MiB already on the server, written by another client.
    const pad = { method: 'moveTo', data: [1, 1] };
    const n = Math.floor((MAX_BYTES - 60) / (JSON.stringify(pad).length + 1));
    const save = await a.c.requestAsync({ url: paths('save'), method: 'POST', data: { id, actions: JSON.stringify(Array(n).fill(pad)) } });
    assert.equal(save.data.code, 0, JSON.stringify(save.data));
    await a.open(id);
    a.drawing.maxBytes = Infinity; // as if the device thought it had room
    a.drawing.room = Infinity;
    await a.stroke(id, 10);
    assert.equal(a.outbox.state(id), FULL);
    assert.equal(a.outbox.pending(id), true);
    assert.equal(strokes(a.outbox.actions(id)), 1, 'kept on the device');
    assert.equal(strokes((await get(a, id)).actions), 0);
  });
});
