// Runs the mini program's pages in Node with a fake wx / App / Page /
// getApp, drives their handlers, and checks the requests they send and the
// data they set.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import wxsession from '../miniprogram/lib/wxsession.js';

const root = path.join(import.meta.dirname, '..', 'miniprogram');

function fakeCanvas() {
  const calls = [];
  const ctx = new Proxy({}, {
    get: (t, k) => (k in t ? t[k] : (...args) => calls.push([k, ...args])),
    set: (t, k, v) => { calls.push(['=' + k, v]); return true; },
  });
  return { node: { width: 0, height: 0, getContext: (kind) => (kind === '2d' ? ctx : null) }, calls, width: 375, height: 500 };
}

let loads = 0;

// harness loads app.js and one page afresh (a new module URL each time:
// both call App/Page when evaluated) with fake globals; the shared lib
// modules stay loaded, so the default session client is reset.
async function harness(pageName, { answer, storage, download } = {}) {
  const h = { requests: [], sessionLogins: [], uploads: [], downloads: [], saved: [], settings: 0, isNew: false, navigations: [], modals: [], toasts: [], canvases: {}, logins: 0, storage: storage || new Map() };
  // The default answer acknowledges every append with the next revision.
  let rev = 0;
  h.answer = answer || ((o) => ({ statusCode: 200, data: { code: 0, msg: 'success', data: o.url.endsWith('/append') ? { rev: ++rev } : {} } }));
  // download(o) answers wx.downloadFile: {statusCode} (a temporary file
  // wxfile://tmp_<n> is made for it), or an Error for no answer.
  h.download = download || (() => ({ statusCode: 200 }));
  // album(o) answers wx.saveImageToPhotosAlbum: null for success, or the fail's errMsg.
  h.album = () => null;
  global.wx = {
    login: (o) => { h.logins++; o.success({ errMsg: 'login:ok', code: 'c' + h.logins }); },
    getUserInfo: (o) => o.success({ rawData: '{"nickName":"n"}', signature: 's' }),
    request: (o) => {
      // The v2 login (app.js configures the SDK for v2): token t<n>, kept apart from h.requests.
      if (o.url.endsWith('/session/login')) {
        h.sessionLogins.push(o);
        const n = h.sessionLogins.length;
        setImmediate(() => o.success({ statusCode: 200, data: { code: 0, msg: 'success', data: { token: 't' + n, expiresIn: 604800, isNew: h.isNew, user: { nickName: '', avatarUrl: '' } } } }));
        return;
      }
      h.requests.push(o);
      const res = h.answer(o);
      setImmediate(() => (res instanceof Error ? o.fail({ errMsg: 'request:fail' }) : o.success(res)));
    },
    downloadFile: (o) => {
      h.downloads.push(o);
      const res = h.download(o);
      const file = 'wxfile://tmp_' + h.downloads.length;
      setImmediate(() => (res instanceof Error ? o.fail({ errMsg: 'downloadFile:fail' }) : o.success({ statusCode: res.statusCode, tempFilePath: file, errMsg: 'downloadFile:ok' })));
    },
    saveImageToPhotosAlbum: (o) => {
      const errMsg = h.album(o);
      setImmediate(() => (errMsg ? o.fail({ errMsg }) : (h.saved.push(o.filePath), o.success({ errMsg: 'saveImageToPhotosAlbum:ok' }))));
    },
    openSetting: () => { h.settings++; },
    showLoading: () => {},
    hideLoading: () => {},
    reLaunch: (o) => h.navigations.push('reLaunch:' + o.url),
    getWindowInfo: () => ({ pixelRatio: 2, windowWidth: 375 }),
    getStorageSync: (k) => (h.storage.has(k) ? h.storage.get(k) : ''),
    setStorageSync: (k, v) => h.storage.set(k, JSON.parse(JSON.stringify(v))),
    removeStorageSync: (k) => h.storage.delete(k),
    getStorageInfoSync: () => ({ keys: [...h.storage.keys()] }),
    enableAlertBeforeUnload: (o) => { h.alertBeforeUnload = o.message; },
    disableAlertBeforeUnload: () => { h.alertBeforeUnload = null; },
    navigateTo: (o) => h.navigations.push(o.url),
    showModal: (o) => { h.modals.push(o); if (h.modalAnswer) setImmediate(() => o.success(h.modalAnswer)); },
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
  wxsession.resetDefault();
  global.App = (o) => { h.app = o; };
  global.getApp = () => h.app;
  global.Page = (o) => {
    const page = Object.assign({}, o);
    page.data = JSON.parse(JSON.stringify(o.data || {}));
    page.setData = (d, cb) => { Object.assign(page.data, d); if (cb) cb(); };
    h.page = page;
  };
  const fresh = (...p) => import(pathToFileURL(path.join(root, ...p)).href + '?load=' + ++loads);
  await fresh('app.js');
  await fresh('pages', pageName, pageName + '.js');
  h.settle = () => new Promise((r) => setTimeout(r, 20));
  return h;
}

test.afterEach(() => { delete global.wx; delete global.App; delete global.Page; delete global.getApp; });

const touch = (x, y) => ({ touches: [{ x, y }], changedTouches: [{ x, y }] });

// The fake canvas is 300 px wide on screen: the drawing space (375 wide)
// is 1.25 logical units per pixel.
const K = 375 / 300;
const fakeSize = (h) => { h.canvases.c = Object.assign(fakeCanvas(), { width: 300, height: 400 }); };
const methods = (req) => req.data.actions.map((a) => a.method);
// appended is every action the page's appends carried, in order.
const appended = (h) => h.requests.filter((r) => r.url.endsWith('/append')).flatMap((r) => r.data.actions);

async function drawPage(opts) {
  const h = await harness('draw', opts);
  fakeSize(h);
  return h;
}

function stroke(page, x, y) {
  page.touchstart(touch(x, y));
  page.touchmove(touch(x + 10, y + 15));
  page.touchmove(touch(x + 20, y + 30));
  page.touchend({});
}

test('draw: a stroke is drawn, recorded in the drawing space in the 2016 shape and saved', async () => {
  const h = await drawPage();
  const page = h.page;
  page.onLoad({});
  page.onReady();
  assert.equal(h.canvases.c.node.width, 600, 'canvas scaled by the pixel ratio');
  page.pick({ currentTarget: { dataset: { color: '#FF0000' } } });
  stroke(page, 10, 10);
  assert.equal(page.data.saveState, 'saving');
  await h.settle();
  assert.equal(page.data.saveState, 'saved');
  assert.equal(h.requests.length, 1);
  const req = h.requests[0];
  assert.equal(req.url, 'http://127.0.0.1:5757/applet/session/paints/append');
  assert.equal(req.data.rev, 0, 'a new paint is appended at revision 0');
  assert.equal(req.method, 'POST');
  assert.deepEqual(req.header, { Authorization: 'Bearer t1' }, 'protocol v2: a bearer token, no X-WX-* header');
  assert.deepEqual(h.sessionLogins.map((l) => [l.url, l.data]), [['http://127.0.0.1:5757/applet/session/login', { code: 'c1' }]]);
  assert.match(req.data.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const saved = req.data.actions;
  assert.deepEqual(saved.map((a) => a.method), ['space', 'save', 'moveTo', 'lineTo', 'lineTo', 'setStrokeStyle', 'setLineWidth', 'stroke', 'restore']);
  assert.deepEqual(saved[0].data, [375, 500]);
  assert.deepEqual(saved[2].data, [10 * K, 10 * K]);
  assert.deepEqual(saved[4].data, [30 * K, 40 * K]);
  assert.deepEqual(saved[5].data, ['#FF0000']);
  assert.deepEqual(saved[6].data, [5]);
  const calls = h.canvases.c.calls;
  assert.ok(calls.some((c) => c[0] === 'scale' && c[1] === 300 / 375), `scaled to the canvas: ${JSON.stringify(calls.slice(0, 8))}`);
  assert.ok(calls.some((c) => c[0] === 'stroke'), 'drawn on the canvas');
});

test('draw: every edit appends only its new actions, at the revision the last one answered', async () => {
  const h = await drawPage();
  h.page.onLoad({});
  h.page.onReady();
  for (const x of [10, 50]) {
    stroke(h.page, x, x);
    await h.settle();
  }
  assert.equal(h.requests.length, 2);
  assert.equal(h.requests[0].data.id, h.requests[1].data.id);
  assert.equal(h.requests[1].data.actions.length, 8, 'the second stroke only');
  assert.equal(h.requests[1].data.rev, 1);
  assert.deepEqual(h.requests[1].header, { Authorization: 'Bearer t1' }, 'the later save reuses the token');
  assert.equal(h.sessionLogins.length, 1);
});

test('draw: widths, eraser, undo and clear', async () => {
  const h = await drawPage();
  const page = h.page;
  page.onLoad({});
  page.onReady();
  assert.equal(page.data.canUndo, false);
  assert.equal(page.data.canClear, false);
  page.pickWidth({ currentTarget: { dataset: { width: '12' } } });
  stroke(page, 10, 10);
  page.pickEraser();
  stroke(page, 12, 12);
  await h.settle();
  const saved = appended(h);
  const styles = saved.filter((a) => a.method === 'setStrokeStyle' || a.method === 'setLineWidth').map((a) => a.data[0]);
  assert.deepEqual(styles, ['#666666', 12, '#FFFFFF', 20]);
  assert.equal(page.data.canUndo, true);

  const before = h.canvases.c.calls.length;
  page.undo();
  await h.settle();
  assert.equal(methods(h.requests.at(-1)).at(-1), 'undo');
  assert.ok(h.canvases.c.calls.slice(before).some((c) => c[0] === 'clearRect'), 'repainted after undo');
  page.clear();
  await h.settle();
  assert.equal(methods(h.requests.at(-1)).at(-1), 'clear');
  assert.equal(page.data.canClear, false, 'nothing left to clear');
  assert.equal(page.data.canUndo, true, 'the clear can be undone');
  page.undo();
  page.undo();
  page.undo();
  await h.settle();
  assert.deepEqual(appended(h).map((a) => a.method).slice(-3), ['clear', 'undo', 'undo'], 'undo stops when nothing stands');
  assert.equal(page.data.canUndo, false);
  const n = h.requests.length;
  page.undo();
  page.clear();
  await h.settle();
  assert.equal(h.requests.length, n, 'an undo or clear that changes nothing sends nothing');
});

// getAnswer answers get for the paints of byId ({id: {actions (an array
// or a string), rev}}), 404 for others, and acknowledges appends.
const getAnswer = (byId) => {
  let rev = 0;
  return (o) => {
    const ok = (data) => ({ statusCode: 200, data: { code: 0, msg: 'success', data } });
    if (o.url.endsWith('/get')) {
      const p = byId[o.data.id];
      if (!p) return { statusCode: 404, data: { code: -1, msg: 'fail', error: { reason: 'not found' } } };
      return ok({ id: o.data.id, actions: typeof p.actions === 'string' ? p.actions : JSON.stringify(p.actions), rev: p.rev });
    }
    return ok(o.url.endsWith('/append') ? { rev: ++rev } : {});
  };
};

test('draw: a full drawing takes no stroke and says so', async () => {
  const big = [{ method: 'space', data: [375, 500] }];
  const pad = { method: 'moveTo', data: [1, 1] };
  const size = JSON.stringify(pad).length + 1;
  for (let i = 0; i < (1048576 - 1000) / size; i++) big.push(pad);
  const h = await drawPage({ answer: getAnswer({ big: { actions: big, rev: 3 } }) });
  h.page.onLoad({ id: 'big' });
  h.page.onReady();
  await h.settle();
  assert.equal(h.page.data.full, true);
  stroke(h.page, 10, 10);
  await h.settle();
  assert.deepEqual(h.requests.map((r) => r.url.split('/').pop()), ['get'], 'no save of a stroke that does not fit');
  assert.equal(h.toasts.length, 1);
  assert.match(h.toasts[0].title, /已满/);
});

test('draw: a failed save shows not saved yet', async () => {
  const h = await drawPage({ answer: () => ({ statusCode: 200, data: { code: -1, msg: 'fail', error: { reason: 'x' } } }) });
  h.page.onLoad({});
  h.page.onReady();
  stroke(h.page, 1, 1);
  await h.settle();
  assert.equal(h.page.data.saveState, 'unsaved');
});

test('draw: a network failure shows not saved yet', async () => {
  const h = await drawPage({ answer: () => new Error('down') });
  h.page.onLoad({});
  h.page.onReady();
  stroke(h.page, 1, 1);
  await h.settle();
  assert.equal(h.page.data.saveState, 'unsaved');
});

test('draw: opening a paint reads it with get and continues it at its revision', async () => {
  const h = await drawPage({ answer: getAnswer({ p1: { actions: [{ method: 'save', data: [] }, { method: 'moveTo', data: [1, 1] }], rev: 7 } }) });
  h.page.onLoad({ id: 'p1' });
  h.page.onReady();
  assert.equal(h.page.data.loading, true);
  h.page.touchstart(touch(5, 5)); // before the drawing came: not a stroke
  h.page.touchend({});
  await h.settle();
  assert.equal(h.page.data.loading, false);
  assert.equal(h.requests[0].url, 'http://127.0.0.1:5757/applet/session/paints/get');
  assert.deepEqual(h.requests[0].data, { id: 'p1' });
  assert.equal(h.requests.length, 1, 'a touch while loading draws nothing');
  assert.ok(h.canvases.c.calls.some((c) => c[0] === 'moveTo' && c[1] === 1), 'replayed the old drawing');
  h.page.touchstart(touch(5, 5));
  h.page.touchend({});
  await h.settle();
  const req = h.requests[1];
  assert.equal(req.url, 'http://127.0.0.1:5757/applet/session/paints/append');
  assert.equal(req.data.id, 'p1');
  assert.equal(req.data.actions.length, 7, 'only the new stroke');
  assert.equal(req.data.rev, 7, 'at the revision get answered');
});

test('draw: a new drawing is not read; one with unsaved strokes is drawn from the outbox, not read', async () => {
  const storage = new Map();
  const d = await drawPage({ answer: () => new Error('down'), storage });
  d.page.onLoad({});
  d.page.onReady();
  stroke(d.page, 10, 10);
  await d.settle();
  assert.deepEqual(d.requests.map((r) => r.url.split('/').pop()), ['append'], 'no get for a new drawing');
  const id = d.page.paintId;
  const h = await drawPage({ answer: getAnswer({}), storage });
  h.page.onLoad({ id });
  h.page.onReady();
  await h.settle();
  assert.equal(h.requests.filter((r) => r.url.endsWith('/get')).length, 0, 'the outbox has newer strokes than the server');
  assert.ok(h.canvases.c.calls.some((c) => c[0] === 'stroke'), 'the unsaved stroke is shown');
});

test('draw: a drawing that cannot be read says so and shows what the device has', async () => {
  const h = await drawPage({ answer: () => new Error('down') });
  h.page.onLoad({ id: 'p1' });
  h.page.onReady();
  await h.settle();
  assert.equal(h.page.data.loading, false);
  assert.match(h.page.data.loadError, /加载失败/);
});

test('draw: colours, widths and the eraser are picked on touchstart', async () => {
  const { readFile } = await import('node:fs/promises');
  const wxml = await readFile(path.join(root, 'pages', 'draw', 'draw.wxml'), 'utf8');
  for (const handler of ['pick', 'pickWidth', 'pickEraser']) {
    assert.match(wxml, new RegExp(`bindtouchstart="${handler}"`), handler);
  }
});

// listAnswer plays a server with paints a and b: list (without actions,
// as the gallery asks), get, and success for the rest.
const drawnA = [{ method: 'moveTo', data: [30, 30] }, { method: 'lineTo', data: [90, 90] }, { method: 'stroke', data: [] }];
const listAnswer = (o) => {
  const ok = (data) => ({ statusCode: 200, data: { code: 0, msg: 'success', data } });
  const stamp = '2026-11-25T13:02:41.044Z';
  if (o.url.includes('/list')) {
    return ok([{ id: 'a', rev: 1, createdAt: stamp, updatedAt: stamp }, { id: 'b', rev: 2, createdAt: stamp, updatedAt: stamp }]);
  }
  if (o.url.endsWith('/get')) return ok({ id: o.data.id, actions: o.data.id === 'a' ? JSON.stringify(drawnA) : 'not json', rev: 1 });
  return ok({});
};

const ids = (h) => h.page.data.paints.map((p) => p.id);

test('gallery: thumbnails are the server\'s pictures, downloaded with the bearer token', async () => {
  const h = await harness('gallery', { answer: listAnswer });
  h.page.onShow();
  assert.equal(h.page.data.loading, true);
  await h.settle();
  assert.equal(h.requests[0].url, 'http://127.0.0.1:5757/applet/session/paints/list?actions=0&timestamps=1&limit=30',
    'listed without the actions: the thumbnails are the server\'s pictures');
  assert.deepEqual(h.requests.filter((r) => r.url.includes('/session/paints/')).length, 1, 'no drawing read');
  assert.deepEqual(ids(h), ['a', 'b']);
  assert.equal(h.page.data.loading, false);
  // A 230rpx tile on a 375 px wide screen is 115 px: 230 pixels at pixel ratio 2.
  assert.deepEqual(h.downloads.map((d) => d.url).sort(), [
    'http://127.0.0.1:5757/applet/session/paints/image?id=a&w=230',
    'http://127.0.0.1:5757/applet/session/paints/image?id=b&w=230',
  ]);
  for (const d of h.downloads) assert.deepEqual(d.header, { Authorization: 'Bearer t1' }, d.url);
  assert.equal(h.sessionLogins.length, 1, 'list, me and the pictures share one login');
  for (const p of h.page.data.paints) {
    assert.match(p.src, /^wxfile:\/\/tmp_\d$/, p.id);
    assert.equal(p.local, false);
  }
  assert.deepEqual(Object.keys(h.canvases), [], 'nothing replayed here');
  const wxml = await (await import('node:fs/promises')).readFile(path.join(root, 'pages', 'gallery', 'gallery.wxml'), 'utf8');
  assert.match(wxml, /<image wx:if="\{\{!item.local && item.src\}\}" class="thumb" src="\{\{item.src\}\}"/);
});

test('gallery: a drawing still in the outbox, or whose picture fails, is replayed on its canvas', async () => {
  const storage = new Map();
  const d = await drawPage({ answer: () => new Error('down'), storage });
  d.page.onLoad({ id: 'c' });
  d.page.onReady();
  await d.settle(); // its get failed: a drawing this device has not got
  stroke(d.page, 10, 10);
  await d.settle();
  const h = await harness('gallery', {
    storage,
    answer: (o) => (o.url.includes('/save') ? new Error('still down') : listAnswer(o)),
    download: (o) => (o.url.includes('id=b') ? { statusCode: 404 } : { statusCode: 200 }),
  });
  for (const id of ['t-a', 't-b', 't-c']) h.canvases[id] = Object.assign(fakeCanvas(), { width: 115, height: 153 });
  h.page.onShow();
  await h.settle();
  assert.deepEqual(ids(h), ['c', 'a', 'b'], 'the drawing not saved yet first');
  assert.deepEqual(h.downloads.map((x) => new URL(x.url).searchParams.get('id')).sort(), ['a', 'b'], 'no picture asked for c');
  assert.deepEqual(h.requests.filter((r) => r.url.endsWith('/get')).map((r) => r.data.id), ['b'], 'b, whose picture failed, is read to be replayed; c is local');
  const byId = Object.fromEntries(h.page.data.paints.map((p) => [p.id, p]));
  assert.equal(byId.a.local, false);
  assert.ok(byId.a.src);
  assert.equal(byId.b.local, true, 'a 404 picture falls back to a replay');
  assert.equal(byId.c.local, true);
  assert.equal(h.canvases['t-a'].calls.length, 0, 'a is the server\'s picture');
  assert.ok(h.canvases['t-c'].calls.some((c) => c[0] === 'stroke'), 'c, not saved yet, is replayed');
  assert.ok(h.canvases['t-c'].calls.some((c) => c[0] === 'scale' && Math.abs(c[1] - 115 / 375) < 1e-9), 'scaled to the tile');
  assert.ok(h.canvases['t-b'].calls.some((c) => c[0] === 'scale'), 'b is replayed');
});

test('gallery: lists pages as it scrolls to the end, each drawing once, the unsaved one first', async () => {
  const storage = new Map();
  const d = await drawPage({ answer: () => new Error('down'), storage });
  d.page.onLoad({});
  d.page.onReady();
  stroke(d.page, 10, 10);
  await d.settle();
  const pending = d.page.paintId;
  const stamp = '2026-11-25T13:02:41.044Z';
  const item = (id) => ({ id, rev: 1, createdAt: stamp, updatedAt: stamp });
  const first = Array.from({ length: 30 }, (_, i) => item('p' + i));
  const h = await harness('gallery', {
    storage,
    answer: (o) => {
      const ok = (data, more) => ({ statusCode: 200, data: Object.assign({ code: 0, msg: 'success', data }, more) });
      if (!o.url.includes('/list')) return o.url.endsWith('/append') ? new Error('still down') : ok({});
      const q = new URL(o.url).searchParams;
      assert.equal(q.get('actions'), '0', o.url);
      if (q.get('limit') === '33') return ok(first.concat([item('p30'), item(pending), item('p31')]));
      assert.equal(q.get('limit'), '30', o.url);
      if (!q.get('cursor')) return ok(first, { next: 'page2' });
      assert.equal(q.get('cursor'), 'page2');
      return ok([item('p30'), item(pending), item('p31')]);
    },
  });
  h.page.onShow();
  await h.settle();
  assert.equal(ids(h).length, 31);
  assert.equal(ids(h)[0], pending, 'the drawing not saved yet first');
  assert.deepEqual(ids(h).slice(1), first.map((p) => p.id));
  const lists = () => h.requests.filter((r) => r.url.includes('/list'));
  assert.equal(lists().length, 1, 'one page listed');
  h.page.onReachBottom();
  h.page.onReachBottom(); // while the page is on its way: not listed twice
  await h.settle();
  assert.equal(lists().length, 2);
  assert.deepEqual(ids(h).slice(-2), ['p30', 'p31'], 'the next page after the first');
  assert.equal(ids(h).filter((id) => id === pending).length, 1, 'shown once');
  assert.equal(h.page.data.paints.find((p) => p.id === pending).local, true);
  h.page.onReachBottom();
  await h.settle();
  assert.equal(lists().length, 2, 'no page after the last');
  const asked = h.downloads.map((x) => new URL(x.url).searchParams.get('id'));
  assert.equal(asked.length, 32, 'a picture for each saved drawing');
  assert.equal(new Set(asked).size, 32, 'each picture asked for once');
  assert.ok(!asked.includes(pending));
  assert.equal(h.page.data.more, false);
  // Shown again (back from a drawing), it lists as many as it showed, at once.
  h.page.onShow();
  await h.settle();
  assert.equal(new URL(lists().at(-1).url).searchParams.get('limit'), '33');
  assert.equal(ids(h).length, 33);
});

test('gallery: a failed list shows an error', async () => {
  const h = await harness('gallery', { answer: () => new Error('down') });
  h.page.onShow();
  await h.settle();
  assert.equal(h.page.data.loading, false);
  assert.ok(h.page.data.error);
});

test('gallery: "+" opens a new drawing, a tile opens that drawing', async () => {
  const h = await harness('gallery');
  h.page.create();
  h.page.open({ currentTarget: { dataset: { id: 'a' } } });
  assert.deepEqual(h.navigations, ['/pages/draw/draw', '/pages/draw/draw?id=a']);
});

test('gallery: long press asks, confirm deletes, cancel keeps', async () => {
  const h = await harness('gallery', { answer: listAnswer });
  h.page.onShow();
  await h.settle();
  h.page.confirmDelete({ currentTarget: { dataset: { id: 'a' } } });
  h.modals[0].success({ confirm: false, cancel: true });
  await h.settle();
  const paintCalls = () => h.requests.filter((r) => r.url.includes('/session/paints/'));
  assert.equal(paintCalls().length, 1, 'cancel sends nothing');
  h.page.confirmDelete({ currentTarget: { dataset: { id: 'a' } } });
  h.modals[1].success({ confirm: true });
  await h.settle();
  const del = paintCalls()[1];
  assert.equal(del.url, 'http://127.0.0.1:5757/applet/session/paints/delete');
  assert.deepEqual(del.data, { id: 'a' });
  assert.deepEqual(ids(h), ['b']);
});

test('index: enter opens the gallery', async () => {
  const h = await harness('index');
  h.page.enter();
  assert.deepEqual(h.navigations, ['/pages/gallery/gallery']);
});

test('draw: strokes whose save failed stay in wx storage, guard leaving, and are resent when the app starts again', async () => {
  const storage = new Map();
  const h = await drawPage({ answer: () => new Error('down'), storage });
  h.page.onLoad({});
  h.page.onReady();
  stroke(h.page, 10, 10);
  stroke(h.page, 20, 20);
  await h.settle();
  assert.equal(h.page.data.saveState, 'unsaved');
  assert.match(h.alertBeforeUnload || '', /尚未保存/, 'leaving asks first');
  const [key] = [...storage.keys()];
  assert.match(key, /^yibi\.outbox\./);
  const kept = storage.get(key);
  assert.equal(kept.actions.filter((a) => a.method === 'stroke').length, 2);

  // The app starts again, online: the gallery shows the drawing, and onLaunch resends it.
  const g = await harness('gallery', { answer: listAnswer, storage });
  g.app.onLaunch();
  g.page.onShow();
  await g.settle();
  const save = g.requests.find((r) => r.url.endsWith('/append'));
  assert.ok(save, 'resent on launch');
  assert.equal(save.data.id, kept.id);
  assert.equal(save.data.actions.length, kept.actions.length);
  assert.ok(g.page.data.paints.some((p) => p.id === kept.id), 'the unsaved drawing is in the gallery');
  await g.settle();
  assert.deepEqual([...storage.keys()].filter((k) => k.startsWith('yibi.outbox.')), [], 'nothing pending once saved');
});

// profileAnswer plays /session/me, /session/profile and /session/phone (v2).
const profileAnswer = (o) => {
  const ok = (data) => ({ statusCode: 200, data: { code: 0, msg: 'success', data } });
  if (o.url.endsWith('/session/me')) return ok({ nickName: '小明', avatarUrl: '/applet/session/avatars/abc.png', hasPhone: false });
  if (o.url.endsWith('/session/phone')) return ok({ phoneNumber: '13812345678', purePhoneNumber: '13812345678', countryCode: '86' });
  if (o.url.endsWith('/session/profile')) return ok({ nickName: o.data.nickName, avatarUrl: '', hasPhone: false });
  return ok([]);
};

test('gallery: shows the profile, and opens the profile page once after a first login (isNew)', async () => {
  const h = await harness('gallery', { answer: profileAnswer });
  h.isNew = true;
  h.page.onShow();
  await h.settle();
  assert.deepEqual(h.page.data.profile, { nickName: '小明', avatar: 'http://127.0.0.1:5757/applet/session/avatars/abc.png' });
  assert.deepEqual(h.navigations, ['/pages/profile/profile?new=1']);
  for (const r of h.requests) assert.deepEqual(r.header, { Authorization: 'Bearer t1' }, r.url);
  assert.equal(h.sessionLogins.length, 1, 'list and me share one login');
  h.page.onShow(); // back from the profile page
  await h.settle();
  assert.equal(h.navigations.length, 1, 'asked once');
  h.page.openProfile();
  assert.equal(h.navigations[1], '/pages/profile/profile');
});

test('profile: chooseAvatar + nickname upload with wx.uploadFile; JSON without an avatar', async () => {
  const h = await harness('profile', { answer: profileAnswer });
  wx.uploadFile = (o) => {
    h.uploads.push(o);
    setImmediate(() => o.success({ statusCode: 200, data: JSON.stringify({ code: 0, msg: 'success', data: { nickName: o.formData.nickName, avatarUrl: '/applet/session/avatars/new.png', hasPhone: false } }) }));
  };
  h.page.onLoad({ new: '1' });
  await h.settle();
  assert.equal(h.page.data.isNew, true);
  assert.equal(h.page.data.nickName, '小明');
  h.page.onChooseAvatar({ detail: { avatarUrl: 'wxfile://tmp_avatar.png' } });
  assert.equal(h.page.data.avatar, 'wxfile://tmp_avatar.png', 'the chosen file shows at once');
  h.page.save({ detail: { value: { nickName: ' 小红 ' } } });
  await h.settle();
  assert.equal(h.uploads.length, 1);
  const u = h.uploads[0];
  assert.equal(u.url, 'http://127.0.0.1:5757/applet/session/profile');
  assert.equal(u.filePath, 'wxfile://tmp_avatar.png');
  assert.equal(u.name, 'avatar');
  assert.deepEqual(u.formData, { nickName: '小红' });
  assert.deepEqual(u.header, { Authorization: 'Bearer t1' });
  assert.equal(h.page.data.avatar, 'http://127.0.0.1:5757/applet/session/avatars/new.png');
  assert.equal(h.page.data.nickName, '小红');
  // Nickname only: JSON, no upload.
  h.page.save({ detail: { value: { nickName: '小刚' } } });
  await h.settle();
  assert.equal(h.uploads.length, 1);
  const last = h.requests.at(-1);
  assert.equal(last.url, 'http://127.0.0.1:5757/applet/session/profile');
  assert.deepEqual(last.data, { nickName: '小刚' });
  // Nothing to save: a toast, no request.
  const n = h.requests.length;
  h.page.save({ detail: { value: { nickName: '  ' } } });
  assert.equal(h.requests.length, n);
  assert.equal(h.toasts.at(-1).title, '请填写昵称');
});

test('profile: 绑定手机号 sends the getPhoneNumber code and shows the masked number', async () => {
  const h = await harness('profile', { answer: profileAnswer });
  h.page.onLoad({});
  await h.settle();
  h.page.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
  await h.settle();
  assert.equal(h.requests.filter((r) => r.url.endsWith('/session/phone')).length, 0, 'a refusal sends nothing');
  h.page.onGetPhoneNumber({ detail: { errMsg: 'getPhoneNumber:ok', code: 'pc1' } });
  await h.settle();
  const req = h.requests.find((r) => r.url.endsWith('/session/phone'));
  assert.deepEqual(req.data, { code: 'pc1' });
  assert.equal(h.page.data.phone, '138****5678');
  assert.equal(h.storage.get('yibi.phone'), '138****5678');
});

test('profile: logout ends the session and forgets the token', async () => {
  const h = await harness('profile', { answer: profileAnswer });
  wx.reLaunch = (o) => h.navigations.push('reLaunch:' + o.url);
  h.page.onLoad({});
  await h.settle();
  assert.equal(h.storage.get('wxsession.token'), 't1');
  h.page.logout();
  await h.settle();
  const out = h.requests.at(-1);
  assert.equal(out.url, 'http://127.0.0.1:5757/applet/session/logout');
  assert.deepEqual(out.header, { Authorization: 'Bearer t1' });
  assert.equal(h.storage.has('wxsession.token'), false);
  assert.deepEqual(h.navigations, ['reLaunch:/pages/index/index']);
});

// shareAnswer plays the share route: paint 'a' is on the server, others are not.
const shareAnswer = (o) => (o.url.endsWith('/paints/share')
  ? (o.data.id === 'a'
    ? { statusCode: 200, data: { code: 0, msg: 'success', data: { url: '/s/gpKD7dkNC23HkM73YyHmeh5o', image: '/s/gpKD7dkNC23HkM73YyHmeh5o.png', card: '/s/gpKD7dkNC23HkM73YyHmeh5o.card.png' } } }
    : { statusCode: 404, data: { code: -1, msg: 'fail', error: { reason: 'not found' } } })
  : { statusCode: 200, data: { code: 0, msg: 'success', data: {} } });

test('draw: the share card shares first, shows the server picture and opens the view page', async () => {
  const h = await drawPage({ answer: shareAnswer });
  h.page.onLoad({ id: 'a' });
  const card = h.page.onShareAppMessage({ from: 'button' });
  assert.deepEqual({ title: card.title, path: card.path }, { title: '一笔到底', path: '/pages/index/index' }, 'the card WeChat shows if sharing is slow');
  assert.deepEqual(await card.promise, {
    title: '一笔到底',
    path: '/pages/view/view?token=gpKD7dkNC23HkM73YyHmeh5o',
    imageUrl: 'http://127.0.0.1:5757/s/gpKD7dkNC23HkM73YyHmeh5o.card.png',
  }, 'the 5:4 card picture: WeChat would crop the 3:4 one');
  const req = h.requests.find((r) => r.url.endsWith('/share'));
  assert.equal(req.url, 'http://127.0.0.1:5757/applet/session/paints/share');
  assert.equal(req.method, 'POST');
  assert.deepEqual(req.data, { id: 'a' });
  assert.equal(req.header.Authorization, 'Bearer t1');
  // A server from before card pictures: its 3:4 picture, cropped but there.
  h.answer = () => ({ statusCode: 200, data: { code: 0, msg: 'success', data: { url: '/s/gpKD7dkNC23HkM73YyHmeh5o', image: '/s/gpKD7dkNC23HkM73YyHmeh5o.png' } } });
  assert.equal((await h.page.onShareAppMessage({}).promise).imageUrl, 'http://127.0.0.1:5757/s/gpKD7dkNC23HkM73YyHmeh5o.png');
  h.answer = shareAnswer;
  // A drawing the server does not have yet: the default card, no error.
  h.page.onLoad({ id: 'new' });
  assert.deepEqual(await h.page.onShareAppMessage({}).promise, { title: '一笔到底', path: '/pages/index/index' });
  const wxml = await (await import('node:fs/promises')).readFile(path.join(root, 'pages', 'draw', 'draw.wxml'), 'utf8');
  assert.match(wxml, /open-type="share"/);
  assert.match(wxml, /bindtap="saveToAlbum"/);
});

test('draw: 保存到相册 downloads the 750 px picture with the token and saves it; a refusal explains and offers the settings', async () => {
  const h = await drawPage();
  h.page.onLoad({ id: 'a' });
  assert.equal(await h.page.saveToAlbum(), 'saved');
  assert.equal(h.downloads[0].url, 'http://127.0.0.1:5757/applet/session/paints/image?id=a&w=750');
  assert.deepEqual(h.downloads[0].header, { Authorization: 'Bearer t1' });
  assert.deepEqual(h.saved, ['wxfile://tmp_1']);
  assert.equal(h.toasts.at(-1).title, '已保存到相册');

  h.album = () => 'saveImageToPhotosAlbum:fail auth deny';
  h.modalAnswer = { confirm: true };
  assert.equal(await h.page.saveToAlbum(), 'denied');
  assert.equal(h.modals.length, 1);
  assert.match(h.modals[0].content, /添加到相册/);
  assert.equal(h.modals[0].confirmText, '去设置');
  assert.equal(h.settings, 1, 'confirm opens the settings');
  h.modalAnswer = { confirm: false, cancel: true };
  assert.equal(await h.page.saveToAlbum(), 'denied');
  assert.equal(h.settings, 1, 'later: no settings');

  h.album = () => 'saveImageToPhotosAlbum:fail cancel';
  const toasts = h.toasts.length;
  assert.equal(await h.page.saveToAlbum(), 'cancelled');
  assert.equal(h.modals.length, 2, 'a cancel asks nothing');
  assert.equal(h.toasts.length, toasts, 'and says nothing');

  h.download = () => ({ statusCode: 404 });
  assert.equal(await h.page.saveToAlbum(), 'unsaved');
  assert.match(h.toasts.at(-1).title, /还没有保存/);
  h.download = () => new Error('down');
  assert.equal(await h.page.saveToAlbum(), 'failed');
  assert.match(h.toasts.at(-1).title, /网络错误/);
  assert.equal(h.saved.length, 1);
});

const TOKEN = 'gpKD7dkNC23HkM73YyHmeh5o';
const viewAnswer = (o) => (o.url.endsWith(`/s/${TOKEN}.json`)
  ? { statusCode: 200, data: JSON.stringify([{ method: 'save', data: [] }, { method: 'moveTo', data: [30, 30] }, { method: 'lineTo', data: [300, 400] }, { method: 'setStrokeStyle', data: ['#FF0000'] }, { method: 'stroke', data: [] }, { method: 'restore', data: [] }]) }
  : { statusCode: 404, data: '{"code":-1,"msg":"fail","error":{"reason":"not found"}}' });

test('view: shows the public picture, replays from the actions, saves to the album, passes the card on', async () => {
  const h = await harness('view', { answer: viewAnswer });
  h.canvases.v = Object.assign(fakeCanvas(), { width: 375, height: 500 });
  h.page.onLoad({ token: TOKEN });
  assert.equal(h.page.data.src, `http://127.0.0.1:5757/s/${TOKEN}.png`);
  assert.equal(h.page.data.gone, false);

  h.page.replay();
  assert.equal(h.page.data.replaying, true);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(h.page.data.replaying, false, 'done');
  const req = h.requests[0];
  assert.equal(req.url, `http://127.0.0.1:5757/s/${TOKEN}.json`);
  assert.equal(req.header, undefined, 'no session: the link is public');
  const calls = h.canvases.v.calls;
  assert.ok(calls.some((c) => c[0] === 'lineTo' && c[1] === 300 && c[2] === 400), `replayed: ${JSON.stringify(calls)}`);
  assert.ok(calls.some((c) => c[0] === '=strokeStyle' && c[1] === '#FF0000'));
  assert.equal(h.sessionLogins.length, 0, 'no login');

  assert.equal(await h.page.saveToAlbum(), 'saved');
  assert.equal(h.downloads[0].url, `http://127.0.0.1:5757/s/${TOKEN}.png`);
  assert.equal(h.downloads[0].header, undefined);
  assert.deepEqual(h.saved, ['wxfile://tmp_1']);

  assert.deepEqual(h.page.onShareAppMessage({}), { title: '一笔到底', path: `/pages/view/view?token=${TOKEN}`, imageUrl: `http://127.0.0.1:5757/s/${TOKEN}.card.png` });
  const app = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(root, 'app.json'), 'utf8'));
  assert.ok(app.pages.includes('pages/view/view'));
});

test('view: an unshared link says so; a malformed token is not asked for', async () => {
  const h = await harness('view', { answer: viewAnswer, download: () => ({ statusCode: 404 }) });
  h.page.onLoad({ token: 'unsharedTOKENxxxxxxxxxxx' });
  h.page.replay();
  await h.settle();
  assert.equal(h.page.data.gone, true);
  assert.equal(h.page.data.replaying, false);
  const h2 = await harness('view', { answer: viewAnswer, download: () => ({ statusCode: 404 }) });
  h2.page.onLoad({ token: 'x' });
  assert.equal(await h2.page.saveToAlbum(), 'failed');
  assert.equal(h2.page.data.gone, true, 'a 404 picture');
  assert.deepEqual(h2.saved, []);
  h2.page.imageError();
  assert.equal(h2.page.data.gone, true);
  const h3 = await harness('view');
  h3.page.onLoad({ token: '../x' });
  assert.equal(h3.page.data.gone, true);
  assert.equal(h3.page.data.src, '');
  h3.page.replay();
  assert.deepEqual(h3.requests, []);
  assert.deepEqual(h3.page.onShareAppMessage({}), { title: '一笔到底', path: '/pages/index/index' });
});
