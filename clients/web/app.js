// 一笔到底 in the browser. The same session SDK, drawing format and
// drawing model as the mini program (its lib/, served as is), logged in
// through Yibi's WeChat simulator as a user you pick, with protocol v2
// (wx.login alone, a bearer token kept in localStorage, a real profile). Screens (by URL
// hash): #/users, #/gallery, #/draw/<id>. An ES module: it sets no globals.
import wxsession from '../miniprogram/lib/wxsession.js';
import actions from '../miniprogram/lib/actions.js';
import { Drawing, ink } from '../miniprogram/lib/drawing.js';
import { createOutbox, localStorageOf } from '../miniprogram/lib/outbox.js';
import { appendSender } from '../miniprogram/lib/sync.js';
import { createSimPlatform, listUsers } from './simplatform.js';
import { createPictures } from './pictures.js';
import { t, localize } from './text.js';

const BASE = document.querySelector('meta[name="yibi-route-base"]')?.content || '/applet';
const USER_KEY = 'yibi.user';
const { width: WIDTH, height: HEIGHT } = actions.SPACE;

localize(document);

const $ = (sel, el = document) => el.querySelector(sel);
const tid = (id) => $(`[data-testid="${id}"]`);

let user = null;
let client = null;
let platform = null; // the simulator's wx for the current user (chooseAvatar, getPhoneNumber)
// outbox: the current user's edits not yet acknowledged, kept in
// localStorage (lib/outbox.js) and sent until the server has them.
let outbox = null;
// paints: id -> actions array of the drawings this tab has read (get) or
// drawn. The gallery lists ids and revisions only (list?actions=0): it
// shows the server's pictures, so it never downloads a drawing.
let paints = new Map();
// made: ids of drawings made here with "+", which the server cannot have yet.
const made = new Set();
// pictures: the current user's server-drawn thumbnails and PNGs (web/pictures.js).
let pictures = null;
// THUMB_PX: thumbnails are fetched at twice the tile's CSS width (sharp on 2× screens).
const THUMB_PX = Math.round(WIDTH * actions.THUMBNAIL_SCALE * 2);

function setState(id, text, isError = false) {
  const el = tid(id);
  el.textContent = text;
  el.hidden = !text;
  el.classList.toggle('error', isError);
}

function describe(err) {
  if (!err) return t('errUnknown');
  if (err.type === 'ERR_REQUEST_FAILED') return t('errNetwork');
  if (err.type === 'ERR_SESSION') return t('errSession', err.reason);
  if (err.type === 'ERR_WX_LOGIN_FAILED' || err.type === 'ERR_WX_GET_USER_INFO') return t('errLogin');
  if (err.type === 'ERR_API' && err.reason) return err.reason;
  return err.message || String(err);
}

// apiAnswer calls the paint API as the current user (or as c); resolves
// with the answer's envelope, rejects with a readable error (its
// statusCode the HTTP status).
async function apiAnswer(name, data, c = client) {
  const res = await c.requestAsync({
    url: `${BASE}/session/paints/${name}`,
    method: data ? 'POST' : 'GET',
    data,
  });
  const body = res.data;
  if (!body || typeof body !== 'object' || body.code !== 0) {
    const reason = body && body.error && body.error.reason;
    const err = new Error(reason || `HTTP ${res.statusCode}`);
    err.statusCode = res.statusCode;
    throw err;
  }
  return body;
}

// api is apiAnswer's data.
async function api(name, data, c = client) {
  return (await apiAnswer(name, data, c)).data;
}

function useUser(name) {
  user = name;
  localStorage.setItem(USER_KEY, name);
  platform = createSimPlatform({ user: name });
  const own = wxsession.createClient({
    protocol: 'v2',
    platform,
    base: BASE,
    // A first login (no nickname yet) asks for a profile, as the mini program does.
    onLogin: (d) => { if (client === own) { showProfile(d.user); if (d.isNew) openProfileForm(); } },
  });
  client = own;
  if (pictures) pictures.close();
  pictures = createPictures({ client: own, base: BASE });
  outbox = createOutbox({
    storage: localStorageOf(localStorage),
    prefix: `yibi.outbox.${name}.`,
    // Appends what is new at the paint's revision (lib/sync.js), as this
    // user, whoever is picked later.
    send: appendSender((name, body, id) => own.requestAsync(body
      ? { url: `${BASE}/session/paints/${name}`, method: 'POST', data: body }
      : { url: `${BASE}/session/paints/${name}`, data: { id } })),
    onChange: (id, state) => { if (drawing && drawing.id === id) showSaveState(state); },
    // Another tab or device wrote first: draw on the merged drawing.
    onRebase: (id, list) => {
      paints.set(id, list);
      if (!drawing || drawing.id !== id) return;
      drawing.model = new Drawing(list);
      layoutBoard();
      showEditState();
    },
  });
  outbox.retryAll(); // a reopened app resends what it never got to save
  paints = new Map();
  gallery = { seq: 0, shown: new Set(), listed: 0, next: '', busy: false };
  tid('current-user').textContent = name;
  tid('profile-form').hidden = true;
  showProfile({ nickName: '', avatarUrl: '', hasPhone: false });
}

// ---- screens

function show(name) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== name;
  tid('boot-state').hidden = true;
  tid('who').hidden = name === 'users' || !user;
  tid('back').hidden = name !== 'draw';
  document.body.dataset.screen = name;
}

async function route() {
  const hash = location.hash || '';
  const saved = localStorage.getItem(USER_KEY);
  if (!user && saved) useUser(saved);
  if (!user || hash === '#/users') return showUsers();
  const m = hash.match(/^#\/draw\/([\w-]{1,64})$/);
  if (m) return showDraw(m[1]);
  return showGallery();
}

async function showUsers() {
  show('users');
  const list = tid('users-list');
  list.replaceChildren();
  setState('users-state', t('loadingUsers'));
  try {
    const users = await listUsers({});
    setState('users-state', users.length ? '' : t('noUsers'));
    for (const u of users) {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.className = 'user';
      b.dataset.testid = 'user-' + u.user;
      const nick = u.userInfo && u.userInfo.nickName;
      b.textContent = nick && nick !== u.user ? `${u.user} · ${nick}` : u.user;
      if (u.user === user) b.classList.add('current');
      b.addEventListener('click', () => { useUser(u.user); location.hash = '#/gallery'; });
      li.append(b);
      list.append(li);
    }
  } catch (err) {
    if (err.status === 404) {
      // Production: no simulator, so no login in a browser.
      setState('users-state', t('noSimulator'), true);
      tid('new-user-form').hidden = true;
      return;
    }
    setState('users-state', t('usersFailed', err.message), true);
  }
}

tid('new-user-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = tid('new-user-name').value.trim();
  if (!name) return;
  useUser(name);
  tid('new-user-name').value = '';
  location.hash = '#/gallery';
});

tid('switch-user').addEventListener('click', () => { location.hash = '#/users'; });
// Leaving a drawing with edits not yet saved asks first (they stay queued
// and are sent later either way; the question is whether to wait here).
tid('back').addEventListener('click', async () => {
  if (drawing && outbox.pending(drawing.id) && !(await ask(t('leaveUnsaved'), t('leave')))) return;
  location.hash = '#/gallery';
});
window.addEventListener('beforeunload', (e) => {
  if (outbox && outbox.ids().length) { e.preventDefault(); e.returnValue = ''; }
});
window.addEventListener('online', () => { if (outbox) outbox.retryAll(); });

function sizeCanvas(canvas, cssWidth, cssHeight, scale) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr * scale, 0, 0, dpr * scale, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  return ctx;
}

// PAGE: drawings listed per request; the gallery lists the next page when
// its end scrolls into view. Shown again, it lists as many as it showed,
// up to MAX_PAGE (the server's largest limit).
const PAGE = 30;
const MAX_PAGE = 100;

// listPage lists a page of the user's drawings, newest first, without
// their actions: {items: [{id, rev, createdAt, updatedAt}], next (the
// next page's cursor, '' after the last)}.
async function listPage(cursor, limit = PAGE) {
  let q = `list?actions=0&timestamps=1&limit=${limit}`;
  if (cursor) q += `&cursor=${encodeURIComponent(cursor)}`;
  const body = await apiAnswer(q);
  return { items: Array.isArray(body.data) ? body.data : [], next: body.next || '' };
}

// getPaint reads a drawing whole: {actions (an array), rev}, or null when
// the server has none (not saved yet, or deleted).
async function getPaint(id) {
  try {
    const p = await api('get?id=' + encodeURIComponent(id));
    return { actions: actions.parse(p.actions), rev: p.rev };
  } catch (err) {
    if (err.statusCode === 404) return null;
    throw err;
  }
}

// gallery: the gallery being shown: its load's number, the ids with a
// tile, how many the list gave, the next page's cursor and whether a page
// is on its way.
let galleryLoad = 0;
let gallery = { seq: 0, shown: new Set(), listed: 0, next: '', busy: false };

async function showGallery() {
  show('gallery');
  const grid = tid('gallery');
  const seq = ++galleryLoad;
  const limit = Math.min(MAX_PAGE, Math.max(PAGE, gallery.listed));
  gallery = { seq, shown: new Set(), listed: 0, next: '', busy: true };
  for (const old of grid.querySelectorAll('.paint')) old.remove();
  tid('more-paints').hidden = true;
  grid.dataset.state = 'loading';
  setState('gallery-state', t('loadingPaints'));
  loadProfile();
  let page;
  try {
    page = await listPage('', limit);
  } catch (err) {
    if (seq !== galleryLoad) return;
    grid.dataset.state = 'error';
    setState('gallery-state', t('paintsFailed', describe(err)), true);
    const retry = document.createElement('button');
    retry.textContent = t('retry');
    retry.className = 'link';
    retry.dataset.testid = 'retry';
    retry.addEventListener('click', showGallery);
    tid('gallery-state').append(' ', retry);
    return;
  }
  if (seq !== galleryLoad) return;
  // Drawings with strokes the server has not acknowledged come first,
  // drawn here from the outbox: they may be on no page of the list yet.
  for (const id of outbox.ids()) addTile(id);
  addPage(page);
  gallery.busy = false;
  setState('gallery-state', gallery.shown.size ? '' : t('noPaints'));
  grid.dataset.state = 'ready';
  moreIfInView();
}

// addPage adds a page's tiles (but those already shown) and keeps its cursor.
function addPage(page) {
  for (const p of page.items) addTile(p.id);
  gallery.listed += page.items.length;
  gallery.next = page.next;
  tid('more-paints').hidden = !page.next;
}

function addTile(id) {
  if (gallery.shown.has(id)) return;
  gallery.shown.add(id);
  tid('gallery').append(tile(id));
}

// morePaints lists the gallery's next page.
async function morePaints() {
  const g = gallery;
  if (!g.next || g.busy) return;
  g.busy = true;
  tid('more-paints').disabled = true;
  try {
    const page = await listPage(g.next);
    if (g !== gallery) return;
    addPage(page);
  } catch (err) {
    if (g === gallery) setState('gallery-state', t('paintsFailed', describe(err)), true);
    return;
  } finally {
    g.busy = false;
    tid('more-paints').disabled = false;
  }
  moreIfInView();
}

// moreIfInView lists the next page while the gallery's end is on screen
// (a page that did not fill the screen moves nothing the observer sees).
function moreIfInView() {
  const el = tid('more-paints');
  if (el.hidden || !gallery.next) return;
  const r = el.getBoundingClientRect();
  if (r.top < window.innerHeight && r.bottom > 0) morePaints();
}

tid('more-paints').addEventListener('click', morePaints);
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) morePaints();
}).observe(tid('more-paints'));

// ---- profile (protocol v2: /session/me, /session/profile, /session/phone)

const PHONE_KEY = 'yibi.phone.'; // + user: the masked number, shown again later
let chosenAvatar = null;          // the temporary file chooseAvatar gave, until saved

// maskPhone shows a number as 138****5678.
const maskPhone = (n) => String(n).replace(/^(\d{3})\d+(\d{4})$/, '$1****$2');

function setAvatar(img, empty, src) {
  img.hidden = !src;
  empty.hidden = !!src;
  if (src) img.src = src;
  else img.removeAttribute('src');
}

function showProfile(p) {
  if (!p) return;
  tid('profile-name').textContent = p.nickName || user;
  setAvatar(tid('profile-avatar'), tid('profile-avatar-empty'), p.avatarUrl);
  const masked = localStorage.getItem(PHONE_KEY + user);
  tid('profile-phone').textContent = masked || (p.hasPhone ? t('phoneBound') : '');
}

async function loadProfile() {
  const c = client;
  try {
    const p = await c.me();
    if (c === client) showProfile(p);
  } catch { /* the gallery's own load reports the network and the session */ }
}

function openProfileForm() {
  const form = tid('profile-form');
  if (!form.hidden) return;
  chosenAvatar = null;
  const img = tid('profile-avatar');
  setAvatar(tid('avatar-preview'), tid('avatar-preview-empty'), img.hidden ? '' : img.src);
  const name = tid('profile-name').textContent;
  tid('nickname').value = name && name !== user ? name : '';
  setState('profile-state', '');
  form.hidden = false;
}

tid('edit-profile').addEventListener('click', openProfileForm);
tid('skip-profile').addEventListener('click', () => { tid('profile-form').hidden = true; });

// <button open-type="chooseAvatar">: the simulator gives the user's avatar as a temporary file.
tid('choose-avatar').addEventListener('click', async () => {
  try {
    const { avatarUrl } = await platform.chooseAvatar();
    chosenAvatar = avatarUrl;
    setAvatar(tid('avatar-preview'), tid('avatar-preview-empty'), avatarUrl);
  } catch (err) {
    setState('profile-state', t('profileFailed', err.errMsg || describe(err)), true);
  }
});

tid('profile-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const c = client;
  setState('profile-state', t('saving'));
  try {
    const p = await c.profile({ nickName: tid('nickname').value, avatar: chosenAvatar || undefined });
    if (c !== client) return;
    showProfile(p);
    tid('profile-form').hidden = true;
    setState('profile-state', '');
  } catch (err) {
    setState('profile-state', t('profileFailed', describe(err)), true);
  }
});

// <button open-type="getPhoneNumber">: a one-time code the server exchanges.
tid('bind-phone').addEventListener('click', async () => {
  const c = client;
  const name = user;
  try {
    const { code } = await platform.getPhoneNumber();
    const phone = await c.bindPhone(code);
    const masked = maskPhone(phone.purePhoneNumber);
    localStorage.setItem(PHONE_KEY + name, masked);
    if (c === client) tid('profile-phone').textContent = masked;
    setState('profile-state', '');
  } catch (err) {
    setState('profile-state', t('phoneFailed', err.errMsg || describe(err)), true);
  }
});

tid('logout').addEventListener('click', async () => {
  const c = client;
  try {
    await c.logout();
  } catch { /* the token is forgotten here whatever the server said */ }
  localStorage.removeItem(USER_KEY);
  user = null;
  client = null;
  if (pictures) pictures.close();
  pictures = null;
  tid('profile-form').hidden = true;
  if (location.hash === '#/users') route();
  else location.hash = '#/users';
});

function tile(id) {
  const el = document.createElement('div');
  el.className = 'tile paint';
  el.dataset.testid = 'paint-tile';
  el.dataset.id = id;
  const open = document.createElement('a');
  open.href = '#/draw/' + id;
  open.className = 'open';
  open.setAttribute('aria-label', t('open'));
  open.append(thumbnail(id));
  const del = document.createElement('button');
  del.className = 'delete';
  del.dataset.testid = 'delete-paint';
  del.setAttribute('aria-label', t('deleteOne'));
  del.textContent = '×';
  del.addEventListener('click', (e) => { e.preventDefault(); confirmDelete(id, el); });
  // The 2016 gallery deleted on long press; keep that for touch screens.
  let timer = 0;
  open.addEventListener('pointerdown', () => { timer = setTimeout(() => { timer = -1; confirmDelete(id, el); }, 600); });
  for (const ev of ['pointerup', 'pointerleave', 'pointercancel']) open.addEventListener(ev, () => { if (timer > 0) clearTimeout(timer); });
  open.addEventListener('click', (e) => { if (timer === -1) { e.preventDefault(); timer = 0; } });
  open.addEventListener('contextmenu', (e) => e.preventDefault());
  el.append(open, del);
  return el;
}

// thumbnail is the server's picture of a saved paint, or the drawing
// replayed here when the server has not got its latest strokes yet (in
// the outbox) or cannot give a picture (then the drawing is read with get).
function thumbnail(id) {
  if (outbox.pending(id)) return replayed(outbox.actions(id));
  const img = document.createElement('img');
  img.dataset.testid = 'thumb';
  img.alt = '';
  img.draggable = false; // a long press deletes; a drag must not start instead
  const c = client;
  pictures.url(id, THUMB_PX).then((src) => { img.src = src; }, async () => {
    let acts = paints.get(id) || [];
    try {
      const p = await getPaint(id);
      if (p) acts = p.actions;
    } catch { /* the network is down: what this tab has, or a blank tile */ }
    if (c === client) img.replaceWith(replayed(acts));
  });
  return img;
}

function replayed(acts) {
  const canvas = document.createElement('canvas');
  canvas.dataset.testid = 'thumb';
  const s = actions.THUMBNAIL_SCALE;
  const ctx = sizeCanvas(canvas, WIDTH * s, HEIGHT * s, 1);
  actions.replay(ctx, acts, { scale: actions.scaleFor(WIDTH * s) });
  return canvas;
}

function ask(text, ok = t('delete')) {
  const dlg = tid('confirm-dialog');
  tid('confirm-text').textContent = text;
  tid('confirm-ok').textContent = ok;
  dlg.hidden = false;
  tid('confirm-ok').focus();
  return new Promise((resolve) => {
    const done = (v) => {
      dlg.hidden = true;
      tid('confirm-ok').removeEventListener('click', yes);
      tid('confirm-cancel').removeEventListener('click', no);
      document.removeEventListener('keydown', key);
      resolve(v);
    };
    const yes = () => done(true);
    const no = () => done(false);
    const key = (e) => { if (e.key === 'Escape') done(false); };
    tid('confirm-ok').addEventListener('click', yes);
    tid('confirm-cancel').addEventListener('click', no);
    document.addEventListener('keydown', key);
  });
}

async function confirmDelete(id, el) {
  if (!(await ask(t('confirmDelete')))) return;
  el.classList.add('busy');
  try {
    await api('delete', { id });
    outbox.drop(id);
    outbox.retryAll(); // room freed: drawings refused for the quota may fit now
    pictures.forget(id);
    paints.delete(id);
    gallery.shown.delete(id);
    el.remove();
    if (!gallery.shown.size && !gallery.next) setState('gallery-state', t('noPaints'));
  } catch (err) {
    el.classList.remove('busy');
    setState('gallery-state', t('deleteFailed', describe(err)), true);
  }
}

tid('new-paint').addEventListener('click', () => {
  const id = crypto.randomUUID();
  made.add(id);
  location.hash = '#/draw/' + id;
});

// ---- draw

const board = tid('draw-canvas');
// drawing: the open drawing. model is the shared Drawing (lib/drawing.js);
// points the stroke in progress, in the drawing space.
let drawing = null; // {id, model, ctx, points, seq}
// tool: what the next stroke draws with, kept across drawings.
const tool = { color: actions.PALETTE[0], width: actions.LINE_WIDTH, eraser: false };

// Tools are picked on pointerdown, not click: a tap right after a stroke
// (finger still settling) is not lost.
function onPress(el, fn) {
  el.addEventListener('pointerdown', (e) => { if (e.button > 0) return; e.preventDefault(); fn(); });
  el.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fn(); } });
}

for (const c of actions.PALETTE) {
  const b = document.createElement('button');
  b.className = 'swatch';
  b.dataset.testid = 'color-' + c.slice(1);
  b.dataset.color = c;
  b.setAttribute('aria-label', t('color', c));
  const dot = document.createElement('span');
  dot.style.background = c;
  b.append(dot);
  onPress(b, () => { tool.color = c; tool.eraser = false; showTool(); });
  tid('palette').append(b);
}

for (const w of actions.WIDTHS) {
  const b = document.createElement('button');
  b.className = 'tool width';
  b.dataset.testid = 'width-' + w;
  b.dataset.width = w;
  b.setAttribute('aria-label', t('width', w));
  const dot = document.createElement('span');
  dot.style.width = dot.style.height = `${w + 4}px`;
  b.append(dot);
  onPress(b, () => { tool.width = w; tool.eraser = false; showTool(); });
  tid('widths').append(b);
}
onPress(tid('eraser'), () => { tool.eraser = true; showTool(); });

function showTool() {
  for (const b of tid('palette').children) b.classList.toggle('active', !tool.eraser && b.dataset.color === tool.color);
  for (const b of tid('widths').children) {
    b.classList.toggle('active', !tool.eraser && Number(b.dataset.width) === tool.width);
    b.firstChild.style.background = tool.eraser ? '#999' : tool.color;
  }
  tid('eraser').classList.toggle('active', tool.eraser);
  tid('eraser').setAttribute('aria-pressed', String(tool.eraser));
  board.dataset.tool = tool.eraser ? 'eraser' : 'pen';
}
showTool();

// showEditState enables undo and clear when they would change something,
// and shows a full drawing before the server's limit refuses it.
function showEditState() {
  const m = drawing && drawing.model;
  tid('undo').disabled = !m || !m.canUndo;
  tid('clear').disabled = !m || !m.canClear;
  board.classList.toggle('full', !!m && m.full);
  if (m && m.full) setSaveState('full');
}

function layoutBoard() {
  if (!drawing) return;
  const w = board.clientWidth || WIDTH;
  const dpr = window.devicePixelRatio || 1;
  board.width = Math.round(w * dpr);
  board.height = Math.round(w * HEIGHT / WIDTH * dpr);
  drawing.ctx = board.getContext('2d');
  drawing.model.paint(drawing.ctx, board.width, board.height, dpr);
}

async function showDraw(id) {
  show('draw');
  setSaveState('');
  showShare(null);
  drawing = { id, model: new Drawing(), ctx: null, points: null };
  showEditState();
  board.classList.add('loading');
  // Edits the server has not acknowledged are newer than its copy, and
  // their outbox entry holds their own base: the server's copy is read
  // (get) only for a drawing without them, and not for one just made.
  const fresh = made.delete(id);
  if (!outbox.pending(id) && !fresh) {
    setSaveState('loading');
    try {
      const p = await getPaint(id);
      if (p) {
        paints.set(id, p.actions);
        outbox.track(id, p.actions.length, p.rev); // the next append's base
      }
      setSaveState('');
    } catch (err) {
      setSaveState('loadFailed', describe(err));
    }
  }
  if (!drawing || drawing.id !== id) return;
  drawing.model = new Drawing(outbox.actions(id) || paints.get(id));
  board.classList.remove('loading');
  layoutBoard();
  showEditState();
  if (outbox.pending(id)) showSaveState(outbox.state(id));
}

window.addEventListener('resize', layoutBoard);

// setSaveState shows a state by key (data-state, for tests and styles)
// in the app's language.
function setSaveState(key, ...args) {
  const el = tid('save-state');
  el.textContent = key ? t(key, ...args) : '';
  el.classList.toggle('error', ['loadFailed', 'full', 'refusedFull', 'quota'].includes(key));
  el.classList.toggle('pending', key === 'unsaved');
  el.dataset.state = key;
}

// boardPoint maps a pointer event to the drawing space.
function boardPoint(e) {
  const r = board.getBoundingClientRect();
  return [(e.clientX - r.left) * WIDTH / r.width, (e.clientY - r.top) * WIDTH / r.width];
}

board.addEventListener('pointerdown', (e) => {
  if (!drawing || !drawing.ctx || e.button > 0) return;
  e.preventDefault();
  if (drawing.model.full) { setSaveState('full'); return; }
  if (outbox.state(drawing.id) === 'full') return; // the server refused: shown, kept on this device
  board.setPointerCapture(e.pointerId);
  drawing.points = [boardPoint(e)];
});

board.addEventListener('pointermove', (e) => {
  if (!drawing || !drawing.points) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  const k = ink(tool);
  for (const ev of events.length ? events : [e]) {
    if (drawing.points.length >= drawing.model.maxPoints) break; // the stroke fills what room is left
    const p = boardPoint(ev);
    actions.drawSegment(drawing.ctx, drawing.points[drawing.points.length - 1], p, k.color, k.width);
    drawing.points.push(p);
  }
});

function endStroke() {
  if (!drawing || !drawing.points) return;
  const added = drawing.model.stroke(drawing.points, tool);
  drawing.points = null;
  if (!added.length) return;
  actions.replay(drawing.ctx, added); // a tap's dot; the context is in the drawing space
  edited(drawing);
}
board.addEventListener('pointerup', endStroke);
board.addEventListener('pointercancel', endStroke);

function undo() {
  if (!drawing || !drawing.model.undo().length) return;
  drawing.model.paint(drawing.ctx, board.width, board.height, window.devicePixelRatio || 1);
  edited(drawing);
}

function clear() {
  if (!drawing || !drawing.model.clear().length) return;
  drawing.model.paint(drawing.ctx, board.width, board.height, window.devicePixelRatio || 1);
  edited(drawing);
}

tid('undo').addEventListener('click', undo);
tid('clear').addEventListener('click', clear);
document.addEventListener('keydown', (e) => {
  if (document.body.dataset.screen !== 'draw' || !tid('confirm-dialog').hidden) return;
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'z') {
    e.preventDefault();
    undo();
  }
});

function edited(d) {
  paints.set(d.id, d.model.actions);
  showEditState();
  outbox.put(d.id, d.model.actions);
}

// showSaveState shows the outbox's state for the open drawing; a full
// drawing says so instead of "saved".
function showSaveState(state) {
  if (!drawing) return;
  if (state === 'saved' && !outbox.pending(drawing.id) && drawing.model.full) setSaveState('full');
  else if (state === 'full') setSaveState('refusedFull');
  else setSaveState(state);
}

// ---- share and download (the server's pictures)

// showShare shows a share link (with Unshare), a note, or nothing.
function showShare(link, note = '', isError = false) {
  tid('share-state').hidden = !link && !note;
  tid('share-state').classList.toggle('error', isError);
  tid('share-note').textContent = note;
  const a = tid('share-link');
  a.hidden = !link;
  a.textContent = link || '';
  if (link) a.href = link;
  else a.removeAttribute('href');
  tid('unshare').hidden = !link;
}

tid('share').addEventListener('click', async () => {
  if (!drawing) return;
  const { id } = drawing;
  try {
    const { url } = await pictures.share(id);
    let copied = true;
    try { await navigator.clipboard.writeText(url); } catch { copied = false; }
    if (drawing && drawing.id === id) showShare(url, t(copied ? 'linkCopied' : 'linkShown'));
  } catch (err) {
    showShare(null, t('shareFailed', describe(err)), true);
  }
});

tid('unshare').addEventListener('click', async () => {
  if (!drawing) return;
  try {
    await pictures.unshare(drawing.id);
    showShare(null, t('unshared'));
  } catch (err) {
    showShare(null, t('shareFailed', describe(err)), true);
  }
});

tid('download').addEventListener('click', async () => {
  if (!drawing) return;
  try {
    await pictures.download(drawing.id);
  } catch (err) {
    showShare(null, t('downloadFailed', describe(err)), true);
  }
});

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => {
  setState('boot-state', t('crashed', describe(e.reason)), true);
});
route();
