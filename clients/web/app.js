// 一笔到底 in the browser. The same session SDK and drawing format as the
// mini program (served under ./lib/), logged in through Yibi's WeChat
// simulator as a user you pick. Screens (by URL hash): #/users,
// #/gallery, #/draw/<id>.
import wxsession from './lib/wxsession.mjs';
import actions from './lib/actions.mjs';
import { createSimPlatform, listUsers } from './lib/simplatform.mjs';

const BASE = document.querySelector('meta[name="yibi-route-base"]')?.content || '/applet';
const USER_KEY = 'yibi.user';
// Drawings use the 2016 mini program's canvas coordinates (750rpx × 1000rpx
// on a 375-point-wide phone), whatever size the canvas is shown at.
const WIDTH = 375;
const HEIGHT = 500;

const $ = (sel, el = document) => el.querySelector(sel);
const tid = (id) => $(`[data-testid="${id}"]`);

let user = null;
let client = null;
let paints = new Map(); // id -> actions array, as last listed or drawn

function setState(id, text, isError = false) {
  const el = tid(id);
  el.textContent = text;
  el.hidden = !text;
  el.classList.toggle('error', isError);
}

function describe(err) {
  if (!err) return 'unknown error';
  if (err.type === 'ERR_REQUEST_FAILED') return 'the server cannot be reached';
  if (err.type === 'ERR_SESSION') return `session error${err.reason ? ' (' + err.reason + ')' : ''}`;
  if (err.type === 'ERR_WX_LOGIN_FAILED' || err.type === 'ERR_WX_GET_USER_INFO') return 'login failed';
  return err.message || String(err);
}

// api calls the paint API; resolves with data, rejects with a readable error.
async function api(name, data) {
  const res = await client.requestAsync({
    url: `${BASE}/session/paints/${name}`,
    method: data ? 'POST' : 'GET',
    data,
  });
  const body = res.data;
  if (!body || typeof body !== 'object' || body.code !== 0) {
    const reason = body && body.error && body.error.reason;
    throw new Error(reason || `HTTP ${res.statusCode}`);
  }
  return body.data;
}

function useUser(name) {
  user = name;
  localStorage.setItem(USER_KEY, name);
  client = wxsession.createClient({ platform: createSimPlatform({ user: name }) });
  paints = new Map();
  tid('current-user').textContent = name;
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
  setState('users-state', 'Loading users…');
  try {
    const users = await listUsers({});
    setState('users-state', users.length ? '' : 'No users yet: name one above.');
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
    setState('users-state', `Could not load users: ${err.message}. You can still name a user above.`, true);
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
tid('back').addEventListener('click', () => { location.hash = '#/gallery'; });

function sizeCanvas(canvas, cssWidth, cssHeight, scale) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr * scale, 0, 0, dpr * scale, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  return ctx;
}

async function loadPaints() {
  const list = await api('list');
  paints = new Map();
  for (const p of Array.isArray(list) ? list : []) paints.set(p.id, actions.parse(p.actions));
  return paints;
}

let galleryLoad = 0;
async function showGallery() {
  show('gallery');
  const grid = tid('gallery');
  const seq = ++galleryLoad;
  for (const t of grid.querySelectorAll('.paint')) t.remove();
  grid.dataset.state = 'loading';
  setState('gallery-state', 'Loading your drawings…');
  try {
    await loadPaints();
  } catch (err) {
    if (seq !== galleryLoad) return;
    grid.dataset.state = 'error';
    setState('gallery-state', `Could not load your drawings: ${describe(err)}.`, true);
    const retry = document.createElement('button');
    retry.textContent = 'Retry';
    retry.className = 'link';
    retry.dataset.testid = 'retry';
    retry.addEventListener('click', showGallery);
    tid('gallery-state').append(' ', retry);
    return;
  }
  if (seq !== galleryLoad) return;
  setState('gallery-state', paints.size ? '' : 'No drawings yet. Tap + to draw one.');
  for (const [id, acts] of paints) grid.append(tile(id, acts));
  grid.dataset.state = 'ready';
}

function tile(id, acts) {
  const t = document.createElement('div');
  t.className = 'tile paint';
  t.dataset.testid = 'paint-tile';
  t.dataset.id = id;
  const open = document.createElement('a');
  open.href = '#/draw/' + id;
  open.className = 'open';
  open.setAttribute('aria-label', 'Open drawing');
  const canvas = document.createElement('canvas');
  canvas.dataset.testid = 'thumb';
  open.append(canvas);
  const del = document.createElement('button');
  del.className = 'delete';
  del.dataset.testid = 'delete-paint';
  del.setAttribute('aria-label', 'Delete drawing');
  del.textContent = '×';
  del.addEventListener('click', (e) => { e.preventDefault(); confirmDelete(id, t); });
  // The 2016 gallery deleted on long press; keep that for touch screens.
  let timer = 0;
  open.addEventListener('pointerdown', () => { timer = setTimeout(() => { timer = -1; confirmDelete(id, t); }, 600); });
  for (const ev of ['pointerup', 'pointerleave', 'pointercancel']) open.addEventListener(ev, () => { if (timer > 0) clearTimeout(timer); });
  open.addEventListener('click', (e) => { if (timer === -1) { e.preventDefault(); timer = 0; } });
  open.addEventListener('contextmenu', (e) => e.preventDefault());
  t.append(open, del);
  const s = actions.THUMBNAIL_SCALE;
  const ctx = sizeCanvas(canvas, WIDTH * s, HEIGHT * s, 1);
  actions.replay(ctx, acts, { scale: s });
  return t;
}

function ask(text) {
  const dlg = tid('confirm-dialog');
  tid('confirm-text').textContent = text;
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
  if (!(await ask('Delete this drawing?'))) return;
  el.classList.add('busy');
  try {
    await api('delete', { id });
    paints.delete(id);
    el.remove();
    if (!paints.size) setState('gallery-state', 'No drawings yet. Tap + to draw one.');
  } catch (err) {
    el.classList.remove('busy');
    setState('gallery-state', `Could not delete: ${describe(err)}.`, true);
  }
}

tid('new-paint').addEventListener('click', () => { location.hash = '#/draw/' + crypto.randomUUID(); });

// ---- draw

const board = tid('draw-canvas');
let drawing = null; // {id, actions, ctx, color, seq}

for (const c of actions.PALETTE) {
  const b = document.createElement('button');
  b.className = 'swatch';
  b.style.background = c;
  b.dataset.testid = 'color-' + c.slice(1);
  b.dataset.color = c;
  b.setAttribute('aria-label', 'Colour ' + c);
  b.addEventListener('click', () => pickColor(c));
  tid('palette').append(b);
}

function pickColor(c) {
  if (drawing) drawing.color = c;
  for (const b of tid('palette').children) b.classList.toggle('active', b.dataset.color === c);
}

function layoutBoard() {
  if (!drawing) return;
  const w = board.clientWidth || WIDTH;
  drawing.ctx = sizeCanvas(board, w, w * HEIGHT / WIDTH, w / WIDTH);
  actions.replay(drawing.ctx, drawing.actions);
}

async function showDraw(id) {
  show('draw');
  setSaveState('');
  drawing = { id, actions: [], ctx: null, color: drawing?.color || actions.PALETTE[0], seq: 0, points: null };
  pickColor(drawing.color);
  board.classList.add('loading');
  if (!paints.has(id)) {
    // Opened by URL (a reload): the drawing may exist on the server.
    setSaveState('loading…');
    try {
      await loadPaints();
      setSaveState('');
    } catch (err) {
      setSaveState(`could not load: ${describe(err)}`, true);
    }
  }
  if (!drawing || drawing.id !== id) return;
  drawing.actions = (paints.get(id) || []).slice();
  board.classList.remove('loading');
  layoutBoard();
}

window.addEventListener('resize', layoutBoard);

function setSaveState(text, isError = false) {
  const el = tid('save-state');
  el.textContent = text;
  el.classList.toggle('error', isError);
  el.dataset.state = text;
}

function boardPoint(e) {
  const r = board.getBoundingClientRect();
  return [(e.clientX - r.left) * WIDTH / r.width, (e.clientY - r.top) * HEIGHT / r.height];
}

board.addEventListener('pointerdown', (e) => {
  if (!drawing || !drawing.ctx || e.button > 0) return;
  board.setPointerCapture(e.pointerId);
  drawing.points = [boardPoint(e)];
  e.preventDefault();
});

board.addEventListener('pointermove', (e) => {
  if (!drawing || !drawing.points) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  const ctx = drawing.ctx;
  for (const ev of events.length ? events : [e]) {
    const p = boardPoint(ev);
    const last = drawing.points[drawing.points.length - 1];
    drawing.points.push(p);
    // Draw the new segment at once; the recorded stroke is the same line.
    ctx.save();
    ctx.beginPath();
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = drawing.color;
    ctx.lineWidth = actions.LINE_WIDTH;
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    ctx.restore();
  }
});

function endStroke() {
  if (!drawing || !drawing.points) return;
  const stroke = actions.strokeActions(drawing.points, drawing.color, actions.LINE_WIDTH);
  drawing.points = null;
  if (!stroke.length) return;
  actions.replay(drawing.ctx, stroke); // a tap's dot
  drawing.actions = drawing.actions.concat(stroke);
  paints.set(drawing.id, drawing.actions);
  save(drawing);
}
board.addEventListener('pointerup', endStroke);
board.addEventListener('pointercancel', endStroke);

// save sends the whole drawing after every stroke, as the 2016 page did.
// Only the newest save's answer sets the state shown.
async function save(d) {
  const seq = ++d.seq;
  setSaveState('saving…');
  try {
    await api('save', { id: d.id, actions: actions.serialize(d.actions) });
    if (seq === d.seq && drawing === d) setSaveState('saved');
  } catch (err) {
    if (seq === d.seq && drawing === d) setSaveState(`failed: ${describe(err)}`, true);
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => {
  setState('boot-state', `Something went wrong: ${describe(e.reason)}`, true);
});
route();
