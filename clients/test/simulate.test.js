// The mini program's pages rendered and driven by miniprogram-simulate
// (WeChat's own component simulator: the real WXML templates, rendered by
// j-component on jsdom) with a `wx` backed by a real yibi: wx.login and
// wx.getUserInfo go through Yibi's WeChat simulator, wx.request is fetch,
// wx storage is a Map. Draw (touch events on the canvas), undo, save (read
// back through the API), gallery.
//
// miniprogram-simulate loads a component's .js with require() and offers
// only Component(); the pages are ES modules calling Page(), as WeChat
// DevTools compiles them. So the harness imports each page as the module it
// is, takes the options it gives Page(), and hands them to
// simulate.load({template, data, methods}) with the page's own .wxml: the
// simulator's documented way to load a definition object. The simulator
// has no canvas, layout or canvas touches: the harness's
// wx.createSelectorQuery gives each <canvas> found in the rendered page a
// recording 2d context at the phone's size, and touches get the x / y a
// WeChat canvas touch has (the canvas sits at the page's origin).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { JSDOM } from 'jsdom';
import { startYibi } from './yibi.js';
import { createSimPlatform } from '../web/simplatform.js';

const require = createRequire(import.meta.url);
const root = path.join(import.meta.dirname, '..', 'miniprogram');

// The simulator renders into a DOM: jsdom's, set up before it loads.
const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { pretendToBeVisual: true });
globalThis.window = dom.window;
for (const k of ['document', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent', 'TouchEvent', 'MouseEvent']) globalThis[k] = dom.window[k];
const simulate = require('miniprogram-simulate');
const wxMock = globalThis.wx; // the simulator's wx: every API, most doing nothing

// A canvas touch in WeChat has x and y (relative to the canvas).
const SimTouch = globalThis.Touch;
globalThis.Touch = window.Touch = class CanvasTouch extends SimTouch {
  constructor(o = {}) { super(o); this.x = o.clientX; this.y = o.clientY; }
};

// The phone: 375 pt wide, 2 device pixels per point; the board fills the width.
const PHONE = { width: 375, pixelRatio: 2 };
const BOARD = { width: 375, height: 500 };
const THUMB = { width: 110, height: 110 * 500 / 375 };

function recordingCanvas() {
  const calls = [];
  const ctx = new Proxy({}, {
    get: (t, k) => (k in t ? t[k] : (...args) => calls.push([k, ...args])),
    set: (t, k, v) => { calls.push(['=' + k, v]); return true; },
  });
  return { width: 0, height: 0, calls, getContext: (kind) => (kind === '2d' ? ctx : null) };
}

let loads = 0;

// phone makes a `wx` for user against srv and loads app.js; open(name,
// query) renders a page and runs its lifecycle.
async function phone(srv, user, storage = new Map()) {
  const sim = createSimPlatform({ base: srv.url, user });
  const h = { navigations: [], toasts: [], modals: [], canvases: {}, storage, pages: [], requests: [] };
  const cb = (o, p) => p.then((r) => { o.success && o.success(r); o.complete && o.complete(r); },
    (e) => { o.fail && o.fail(e); o.complete && o.complete(e); });
  globalThis.wx = {
    ...wxMock,
    login: (o) => cb(o, sim.login()),
    getUserInfo: (o) => cb(o, sim.getUserInfo()),
    // Every request, with its answer once it came (h.requests).
    request: (o) => {
      const r = { url: o.url, data: o.data, res: null };
      h.requests.push(r);
      cb(o, sim.request(o).then((res) => { r.res = res; return res; }));
    },
    downloadFile: (o) => cb(o, sim.downloadFile(o)),
    getWindowInfo: () => ({ ...PHONE }),
    getStorageSync: (k) => (storage.has(k) ? JSON.parse(storage.get(k)) : ''),
    setStorageSync: (k, v) => storage.set(k, JSON.stringify(v)),
    removeStorageSync: (k) => storage.delete(k),
    getStorageInfoSync: () => ({ keys: [...storage.keys()] }),
    enableAlertBeforeUnload: (o) => { h.alert = o.message; },
    disableAlertBeforeUnload: () => { h.alert = null; },
    onNetworkStatusChange: () => {},
    navigateTo: (o) => h.navigations.push(o.url),
    showToast: (o) => h.toasts.push(o),
    showModal: (o) => h.modals.push(o),
    stopPullDownRefresh: () => {},
    createSelectorQuery: () => {
      let comp = null;
      let sel = null;
      const q = {
        in: (page) => { comp = h.pages.find((p) => p.instance === page); return q; },
        select: (s) => { sel = s; return q; },
        fields: () => q,
        exec: (done) => {
          const el = comp && comp.querySelector(sel);
          if (!el || el.dom.tagName !== 'WX-CANVAS') { done([null]); return; }
          const id = sel.slice(1);
          const node = h.canvases[id] || (h.canvases[id] = recordingCanvas());
          const size = id === 'c' ? BOARD : THUMB;
          done([{ node, width: size.width, height: size.height }]);
        },
      };
      return q;
    },
  };
  const wxsession = (await import('../miniprogram/lib/wxsession.js')).default;
  wxsession.resetDefault(); // the default client is bound to this wx
  const config = (await import('../miniprogram/config.js')).default;
  config.host = srv.url;
  globalThis.App = (o) => { h.app = o; };
  globalThis.getApp = () => h.app;
  let pageOptions = null;
  globalThis.Page = (o) => { pageOptions = o; };
  await import(pathToFileURL(path.join(root, 'app.js')).href + '?load=' + ++loads);
  h.app.onLaunch();

  h.open = async (name, query = {}) => {
    const file = path.join(root, 'pages', name, name);
    await import(pathToFileURL(file + '.js').href + '?load=' + ++loads);
    const methods = {};
    for (const [k, v] of Object.entries(pageOptions)) if (typeof v === 'function') methods[k] = v;
    const id = simulate.load({ template: fs.readFileSync(file + '.wxml', 'utf8'), data: pageOptions.data || {}, methods });
    const comp = simulate.render(id);
    comp.attach(document.createElement('parent-wrapper'));
    h.pages.push(comp);
    const page = comp.instance;
    if (page.onLoad) page.onLoad(query);
    if (page.onShow) page.onShow();
    if (page.onReady) page.onReady();
    return comp;
  };
  return h;
}

// until polls cond (the page talks to a real server) for up to 10 s.
async function until(cond, what) {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await simulate.sleep(50);
  }
  assert.fail('timed out waiting for ' + what);
}

// swipe draws a stroke on the board with touch events, in screen points.
async function swipe(comp, from, to) {
  const c = comp.querySelector('#c');
  const at = ([x, y]) => ({ touches: [{ x, y }], changedTouches: [{ x, y }] });
  c.dispatchEvent('touchstart', at(from));
  for (let i = 1; i <= 4; i++) c.dispatchEvent('touchmove', at([from[0] + (to[0] - from[0]) * i / 4, from[1] + (to[1] - from[1]) * i / 4]));
  c.dispatchEvent('touchend', { touches: [], changedTouches: [{ x: to[0], y: to[1] }] });
  await simulate.sleep(10);
}

test('mini program pages in miniprogram-simulate against a real yibi', { timeout: 60000 }, async (t) => {
  const srv = await startYibi(t);
  if (!srv) return;
  const user = 'mp-' + crypto.randomBytes(4).toString('hex');
  const api = createSimPlatform({ base: srv.url, user });
  const wxsession = (await import('../miniprogram/lib/wxsession.js')).default;
  const reader = wxsession.createClient({ platform: api });
  const getPaint = async (id) => (await reader.requestAsync({ url: '/applet/session/paints/get', data: { id } })).data;

  const h = await phone(srv, user);
  const gallery = await h.open('gallery');
  await until(() => !gallery.data.loading, 'the empty gallery');
  assert.deepEqual(gallery.data.paints, []);
  assert.equal(gallery.data.error, '');
  // A first login (isNew) opens the profile page once.
  await until(() => h.navigations.length === 1, 'the profile page');
  assert.equal(h.navigations[0], '/pages/profile/profile?new=1');

  // "+" opens a new drawing.
  gallery.querySelector('.add').dispatchEvent('tap');
  await until(() => h.navigations.length === 2, 'navigation');
  assert.equal(h.navigations[1], '/pages/draw/draw');
  const draw = await h.open('draw');
  const id = draw.instance.paintId;
  assert.equal(h.canvases.c.width, BOARD.width * PHONE.pixelRatio, 'the board at device pixels');

  // Pick red on touchstart, draw two strokes.
  const red = draw.querySelectorAll('.palette .target')[1];
  red.dispatchEvent('touchstart', { touches: [{ x: 1, y: 1 }] });
  await until(() => draw.data.color === '#FF0000', 'red picked');
  await swipe(draw, [30, 40], [300, 60]);
  await until(() => draw.data.saveState === 'saved', 'the first stroke saved');
  assert.ok(draw.querySelector('.save-state').dom.textContent.includes('已保存'), draw.querySelector('.save-state').dom.textContent);
  await swipe(draw, [30, 200], [300, 220]);
  await until(() => draw.data.saveState === 'saved' && draw.data.canUndo, 'the second stroke saved');
  await until(async () => (await getPaint(id)).data.rev === 2, 'rev 2');
  let p = (await getPaint(id)).data;
  let list = JSON.parse(p.actions);
  assert.deepEqual(list[0], { method: 'space', data: [375, 500] });
  assert.equal(list.filter((a) => a.method === 'stroke').length, 2);
  assert.deepEqual(list.find((a) => a.method === 'moveTo').data, [30, 40], 'touch points in the drawing space');
  assert.deepEqual(list.filter((a) => a.method === 'setStrokeStyle').map((a) => a.data[0]), ['#FF0000', '#FF0000']);
  assert.ok(h.canvases.c.calls.some((c) => c[0] === 'lineTo'), 'drawn on the canvas');

  // Undo, by tapping 撤销: appended, so the server has it.
  const undo = draw.querySelectorAll('.tools .target').find((el) => el.dom.textContent === '撤销');
  undo.dispatchEvent('tap');
  await until(async () => (await getPaint(id)).data.rev === 3, 'the undo saved');
  p = (await getPaint(id)).data;
  list = JSON.parse(p.actions);
  assert.equal(list.at(-1).method, 'undo');
  assert.equal(list.filter((a) => a.method === 'stroke').length, 2, 'an undo is appended, nothing removed');
  draw.instance.onUnload();
  assert.deepEqual([...h.storage.keys()].filter((k) => k.startsWith('yibi.outbox.')), [], 'nothing pending');

  // The gallery lists it, with the server's picture as its thumbnail,
  // and without its actions.
  const sent = h.requests.length;
  const again = await h.open('gallery');
  await until(() => !again.data.loading, 'the gallery');
  const listed = h.requests.slice(sent).filter((r) => r.url.includes('/session/paints/'));
  assert.deepEqual(listed.map((r) => r.url.replace(srv.url, '')), ['/applet/session/paints/list?actions=0&timestamps=1&limit=30'], 'the gallery reads no drawing');
  const answer = listed[0].res.data;
  assert.deepEqual(answer.data.map((p) => Object.keys(p).sort()), [['createdAt', 'id', 'rev', 'updatedAt']]);
  assert.deepEqual([answer.data[0].id, answer.data[0].rev], [id, 3]);
  assert.ok(JSON.stringify(answer).length < 200, `the list is ids and revisions: ${JSON.stringify(answer)}`);
  assert.deepEqual(again.data.paints.map((p) => p.id), [id]);
  const tile = again.querySelectorAll('.tile').find((el) => el.dom.getAttribute('data-id') === id);
  assert.ok(tile, 'a tile for the drawing');
  await until(() => again.data.paints[0].src, 'the thumbnail');
  assert.match(again.data.paints[0].src, /^blob:/, 'the thumbnail is the server picture, downloaded with the session');
  assert.equal(again.data.paints[0].local, false, 'a saved drawing is not replayed on the device');
  tile.dispatchEvent('tap');
  await until(() => h.navigations.length === 3, 'open');
  assert.equal(h.navigations[2], '/pages/draw/draw?id=' + id);

  // Reopened, the drawing is read with get; a new stroke appends only
  // itself, at the revision get answered.
  const reopened = await h.open('draw', { id });
  await until(() => !reopened.data.loading, 'the drawing read');
  assert.ok(h.requests.some((r) => r.url.endsWith('/applet/session/paints/get') && r.data.id === id), 'read with get');
  await swipe(reopened, [50, 300], [200, 320]);
  await until(() => reopened.data.saveState === 'saved', 'saved after reopening');
  p = (await getPaint(id)).data;
  assert.equal(p.rev, 4);
  assert.equal(JSON.parse(p.actions).filter((a) => a.method === 'stroke').length, 3);
});
