'use strict';
// Runs the mini program's pages in Node with a fake wx / App / Page /
// getApp, drives their handlers, and checks the requests they send and the
// data they set.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const root = path.join(__dirname, '..', 'miniprogram');

function fakeCanvas() {
  const calls = [];
  const ctx = new Proxy({}, {
    get: (t, k) => (k in t ? t[k] : (...args) => calls.push([k, ...args])),
    set: (t, k, v) => { calls.push(['=' + k, v]); return true; },
  });
  return { node: { width: 0, height: 0, getContext: (kind) => (kind === '2d' ? ctx : null) }, calls, width: 375, height: 500 };
}

// harness loads app.js and one page with fresh modules and fake globals.
function harness(pageName, { answer } = {}) {
  const h = { requests: [], navigations: [], modals: [], toasts: [], canvases: {}, logins: 0 };
  h.answer = answer || (() => ({ statusCode: 200, data: { code: 0, msg: 'success', data: {} } }));
  global.wx = {
    login: (o) => { h.logins++; o.success({ errMsg: 'login:ok', code: 'c' + h.logins }); },
    getUserInfo: (o) => o.success({ rawData: '{"nickName":"n"}', signature: 's' }),
    request: (o) => {
      h.requests.push(o);
      const res = h.answer(o);
      setImmediate(() => (res instanceof Error ? o.fail({ errMsg: 'request:fail' }) : o.success(res)));
    },
    getWindowInfo: () => ({ pixelRatio: 2 }),
    navigateTo: (o) => h.navigations.push(o.url),
    showModal: (o) => { h.modals.push(o); },
    showToast: (o) => h.toasts.push(o),
    stopPullDownRefresh: () => {},
    createSelectorQuery: () => {
      let id;
      const q = {
        in: () => q,
        select: (sel) => { id = sel.slice(1); return q; },
        fields: () => q,
        exec: (cb) => {
          const c = h.canvases[id] || (h.canvases[id] = fakeCanvas());
          cb([{ node: c.node, width: c.width, height: c.height }]);
        },
      };
      return q;
    },
  };
  for (const k of Object.keys(require.cache)) if (k.startsWith(root)) delete require.cache[k];
  global.App = (o) => { h.app = o; };
  global.getApp = () => h.app;
  global.Page = (o) => {
    const page = Object.assign({}, o);
    page.data = JSON.parse(JSON.stringify(o.data || {}));
    page.setData = (d, cb) => { Object.assign(page.data, d); if (cb) cb(); };
    h.page = page;
  };
  require(path.join(root, 'app.js'));
  require(path.join(root, 'pages', pageName, pageName + '.js'));
  h.settle = () => new Promise((r) => setTimeout(r, 20));
  return h;
}

test.afterEach(() => { delete global.wx; delete global.App; delete global.Page; delete global.getApp; });

const touch = (x, y) => ({ touches: [{ x, y }], changedTouches: [{ x, y }] });

test('draw: a stroke is drawn, recorded in the 2016 shape and saved', async () => {
  const h = harness('draw');
  const page = h.page;
  page.onLoad({});
  page.onReady();
  assert.deepEqual(h.canvases.c.node.width, 750, 'canvas scaled by the pixel ratio');
  page.pick({ currentTarget: { dataset: { color: '#FF0000' } } });
  page.touchstart(touch(10, 10));
  page.touchmove(touch(20, 25));
  page.touchmove(touch(30, 40));
  page.touchend({});
  assert.equal(page.data.saveState, 'saving');
  await h.settle();
  assert.equal(page.data.saveState, 'saved');
  assert.equal(h.requests.length, 1);
  const req = h.requests[0];
  assert.equal(req.url, 'http://127.0.0.1:5757/applet/session/paints/save');
  assert.equal(req.method, 'POST');
  assert.equal(req.header['X-WX-Code'], 'c1');
  assert.ok(req.header['X-WX-RawData']);
  assert.match(req.data.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const saved = JSON.parse(req.data.actions);
  assert.deepEqual(saved.map((a) => a.method), ['save', 'moveTo', 'lineTo', 'lineTo', 'setStrokeStyle', 'setLineWidth', 'stroke', 'restore']);
  assert.deepEqual(saved[4].data, ['#FF0000']);
  assert.ok(h.canvases.c.calls.some((c) => c[0] === 'stroke'), 'drawn on the canvas');
});

test('draw: every stroke saves the whole drawing with the same id', async () => {
  const h = harness('draw');
  h.page.onLoad({});
  h.page.onReady();
  for (const x of [10, 50]) {
    h.page.touchstart(touch(x, x));
    h.page.touchmove(touch(x + 5, x + 5));
    h.page.touchend({});
    await h.settle();
  }
  assert.equal(h.requests.length, 2);
  assert.equal(h.requests[0].data.id, h.requests[1].data.id);
  assert.equal(JSON.parse(h.requests[1].data.actions).length, 14);
  assert.deepEqual(h.requests[1].header, { 'X-WX-Code': 'c1' }, 'the later save sends only the code');
});

test('draw: a failed save shows failed', async () => {
  const h = harness('draw', { answer: () => ({ statusCode: 200, data: { code: -1, msg: 'fail', error: { reason: 'x' } } }) });
  h.page.onLoad({});
  h.page.onReady();
  h.page.touchstart(touch(1, 1));
  h.page.touchend({});
  await h.settle();
  assert.equal(h.page.data.saveState, 'failed');
});

test('draw: a network failure shows failed', async () => {
  const h = harness('draw', { answer: () => new Error('down') });
  h.page.onLoad({});
  h.page.touchstart(touch(1, 1));
  h.page.touchend({});
  await h.settle();
  assert.equal(h.page.data.saveState, 'failed');
});

test('draw: opening a known paint continues it', async () => {
  const h = harness('draw');
  h.app.globalData.paints.p1 = [{ method: 'save', data: [] }, { method: 'moveTo', data: [1, 1] }];
  h.page.onLoad({ id: 'p1' });
  h.page.onReady();
  assert.ok(h.canvases.c.calls.some((c) => c[0] === 'moveTo' && c[1] === 1), 'replayed the old drawing');
  h.page.touchstart(touch(5, 5));
  h.page.touchend({});
  await h.settle();
  assert.equal(h.requests[0].data.id, 'p1');
  assert.equal(JSON.parse(h.requests[0].data.actions).length, 2 + 7);
});

const listAnswer = (o) => (o.url.endsWith('/list')
  ? { statusCode: 200, data: { code: 0, msg: 'success', data: [
    { id: 'a', actions: JSON.stringify([{ method: 'moveTo', data: [30, 30] }, { method: 'lineTo', data: [90, 90] }, { method: 'stroke', data: [] }]) },
    { id: 'b', actions: 'not json' },
  ] } }
  : { statusCode: 200, data: { code: 0, msg: 'success', data: {} } });

test('gallery: lists paints and draws thumbnails at one third', async () => {
  const h = harness('gallery', { answer: listAnswer });
  h.page.onShow();
  assert.equal(h.page.data.loading, true);
  await h.settle();
  assert.equal(h.requests[0].url, 'http://127.0.0.1:5757/applet/session/paints/list');
  assert.deepEqual(h.page.data.paints, [{ id: 'a' }, { id: 'b' }]);
  assert.equal(h.page.data.loading, false);
  const calls = h.canvases['t-a'].calls;
  assert.ok(calls.some((c) => c[0] === 'scale' && Math.abs(c[1] - 1 / 3) < 1e-9), `got ${JSON.stringify(calls)}`);
  assert.ok(calls.some((c) => c[0] === 'lineTo' && c[1] === 90));
  assert.ok(h.canvases['t-b'], 'a broken paint still gets its tile');
});

test('gallery: a failed list shows an error', async () => {
  const h = harness('gallery', { answer: () => new Error('down') });
  h.page.onShow();
  await h.settle();
  assert.equal(h.page.data.loading, false);
  assert.ok(h.page.data.error);
});

test('gallery: "+" opens a new drawing, a tile opens that drawing', () => {
  const h = harness('gallery');
  h.page.create();
  h.page.open({ currentTarget: { dataset: { id: 'a' } } });
  assert.deepEqual(h.navigations, ['/pages/draw/draw', '/pages/draw/draw?id=a']);
});

test('gallery: long press asks, confirm deletes, cancel keeps', async () => {
  const h = harness('gallery', { answer: listAnswer });
  h.page.onShow();
  await h.settle();
  h.page.confirmDelete({ currentTarget: { dataset: { id: 'a' } } });
  h.modals[0].success({ confirm: false, cancel: true });
  await h.settle();
  assert.equal(h.requests.length, 1, 'cancel sends nothing');
  h.page.confirmDelete({ currentTarget: { dataset: { id: 'a' } } });
  h.modals[1].success({ confirm: true });
  await h.settle();
  const del = h.requests[1];
  assert.equal(del.url, 'http://127.0.0.1:5757/applet/session/paints/delete');
  assert.deepEqual(del.data, { id: 'a' });
  assert.deepEqual(h.page.data.paints, [{ id: 'b' }]);
});

test('index: enter opens the gallery', () => {
  const h = harness('index');
  h.page.enter();
  assert.deepEqual(h.navigations, ['/pages/gallery/gallery']);
});
