// The browser app's gallery in Chromium (Playwright) against a real yibi:
// it lists ids and revisions only (list?actions=0), a page at a time as
// it scrolls, shows the server's pictures, puts a drawing whose strokes
// are not saved yet first (replayed from the outbox), and a drawing
// opened by URL is read with get, not found in a list of every drawing.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import wxsession from '../miniprogram/lib/wxsession.js';
import { createSimPlatform } from '../web/simplatform.js';
import { startBrowser } from './yibi.js';

// MARK: a number only the drawings' actions hold; no list answer may carry it.
const MARK = 123.456789;

// drawingOf is a red diagonal of about 20 KB, at index i.
function drawingOf(i) {
  const acts = [{ method: 'space', data: [375, 500] }, { method: 'save', data: [] }, { method: 'moveTo', data: [40 + i, 40] }];
  for (let k = 0; k < 700; k++) acts.push({ method: 'lineTo', data: [MARK, 40 + k * 0.5] });
  acts.push({ method: 'lineTo', data: [330, 460] }, { method: 'setStrokeStyle', data: ['#FF0000'] },
    { method: 'setLineWidth', data: [12] }, { method: 'stroke', data: [] }, { method: 'restore', data: [] });
  return acts;
}

const ready = (page) => page.waitForSelector('[data-testid="gallery"][data-state="ready"]', { timeout: 10000 });
const tileIds = (page) => page.evaluate(() => [...document.querySelectorAll('[data-testid="paint-tile"]')].map((el) => el.dataset.id));
const saveState = (page, want) => page.waitForFunction(
  (w) => document.querySelector('[data-testid="save-state"]').dataset.state === w, want, { timeout: 10000 });

// redPixels counts the red pixels of a canvas or a loaded <img>.
const redPixels = (locator) => locator.evaluate(async (el) => {
  let c = el;
  if (el.tagName === 'IMG') {
    if (!el.complete || !el.naturalWidth) await new Promise((r) => { el.addEventListener('load', r, { once: true }); el.addEventListener('error', r, { once: true }); });
    c = document.createElement('canvas');
    c.width = el.naturalWidth;
    c.height = el.naturalHeight;
    if (!c.width) return 0;
    c.getContext('2d').drawImage(el, 0, 0);
  }
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) n++;
  return n;
});

test('browser gallery without actions in Chromium against a real yibi', { timeout: 120000 }, async (t) => {
  const env = await startBrowser(t);
  if (!env) return;
  const { srv, browser } = env;
  const user = 'gal-' + crypto.randomBytes(3).toString('hex');

  // 33 saved drawings of about 20 KB each (660 KB in all), through the API.
  const api = wxsession.createClient({ platform: createSimPlatform({ base: srv.url, user }) });
  const call = async (name, data) => {
    const res = await api.requestAsync(data
      ? { url: '/applet/session/paints/' + name, method: 'POST', data }
      : { url: '/applet/session/paints/' + name });
    assert.equal(res.data.code, 0, `${name}: ${JSON.stringify(res.data)}`);
    return res.data;
  };
  for (let i = 0; i < 33; i++) await call('append', { id: 'g' + String(i).padStart(2, '0'), rev: 0, actions: drawingOf(i) });
  const all = (await call('list?actions=0')).data.map((p) => p.id);
  assert.equal(all.length, 33);
  const whole = JSON.stringify((await call('list')).data).length;
  assert.ok(whole > 600000, `the drawings: ${whole} bytes`);

  const context = await browser.newContext({ viewport: { width: 420, height: 700 }, locale: 'en-US' });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Every answer of the paint API's list and get, with its (decoded) body.
  const answers = [];
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (!/\/session\/paints\/(list|get)$/.test(u.pathname)) return;
    const entry = { path: u.pathname.split('/').pop(), query: Object.fromEntries(u.searchParams), status: r.status(), body: '' };
    answers.push(entry);
    try { entry.body = (await r.body()).toString(); } catch { /* a navigation dropped it */ }
  });
  const lists = () => answers.filter((a) => a.path === 'list');

  await page.addInitScript((u) => { if (location.protocol === 'http:') localStorage.setItem('yibi.user', u); }, user);
  await page.goto(srv.url + '/#/gallery');
  await ready(page);
  if (await page.getByTestId('profile-form').isVisible()) await page.getByTestId('skip-profile').click();

  await t.test('the first page lists ids and revisions only; the thumbnails are the server\'s pictures', async () => {
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="paint-tile"]').length === 30, null, { timeout: 10000 });
    assert.deepEqual(await tileIds(page), all.slice(0, 30), 'newest first');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="thumb"][src^="blob:"]').length >= 3, null, { timeout: 20000 });
    const first = page.getByTestId('thumb').first();
    assert.equal(await first.evaluate((el) => el.tagName), 'IMG');
    assert.ok(await redPixels(first) > 50, 'the server\'s picture of the drawing');
    assert.equal(lists().length, 1);
    const [l] = lists();
    assert.deepEqual(l.query, { actions: '0', timestamps: '1', limit: '30' });
    const body = JSON.parse(l.body);
    assert.deepEqual(Object.keys(body.data[0]).sort(), ['createdAt', 'id', 'rev', 'updatedAt']);
    assert.ok(body.next, 'a next page');
    assert.ok(!l.body.includes(String(MARK)), 'no actions in the list');
    assert.ok(l.body.length < 5000, `the first page is ${l.body.length} bytes (the drawings are ${whole})`);
    assert.deepEqual(answers.filter((a) => a.path === 'get'), [], 'no drawing read');
    assert.equal(await page.getByTestId('more-paints').isVisible(), true);
  });

  await t.test('scrolling to the end lists the next page', async () => {
    await page.getByTestId('more-paints').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="paint-tile"]').length === 33, null, { timeout: 10000 });
    assert.deepEqual(await tileIds(page), all);
    assert.equal(lists().length, 2);
    const next = lists()[1];
    assert.equal(next.query.actions, '0');
    assert.equal(next.query.cursor, JSON.parse(lists()[0].body).next);
    assert.equal(JSON.parse(next.body).next, undefined, 'the last page');
    assert.equal(await page.getByTestId('more-paints').isVisible(), false);
    const bytes = lists().reduce((n, a) => n + a.body.length, 0);
    assert.ok(bytes * 100 < whole, `listing 33 drawings took ${bytes} bytes; their actions are ${whole}`);
  });

  let pending = '';
  await t.test('a drawing whose strokes are not saved yet comes first, replayed here', async () => {
    await page.route('**/applet/session/paints/append', (route) => route.fulfill({
      status: 503, contentType: 'application/json', body: '{"code":-1,"msg":"fail","error":{"reason":"store unavailable"}}' }));
    await page.getByTestId('new-paint').click();
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    pending = await page.evaluate(() => location.hash.split('/').pop());
    await page.getByTestId('color-FF0000').click();
    const box = await page.getByTestId('draw-canvas').boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.6, { steps: 10 });
    await page.mouse.up();
    await saveState(page, 'unsaved');
    assert.deepEqual(answers.filter((a) => a.path === 'get'), [], 'a new drawing is not read');
    const before = lists().length;
    await page.getByTestId('back').click();
    await page.getByTestId('confirm-ok').click(); // leave: the stroke stays queued
    await ready(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="paint-tile"]').length === 34, null, { timeout: 10000 });
    const ids = await tileIds(page);
    assert.equal(ids[0], pending, 'first');
    assert.deepEqual(ids.slice(1), all, 'as many as were shown, in one list');
    assert.deepEqual(lists().slice(before).map((a) => a.query), [{ actions: '0', timestamps: '1', limit: '33' }]);
    const thumb = page.locator(`[data-testid="paint-tile"][data-id="${pending}"] [data-testid="thumb"]`);
    assert.equal(await thumb.evaluate((el) => el.tagName), 'CANVAS');
    assert.ok(await redPixels(thumb) > 20, 'the unsaved stroke is shown');
    assert.ok(lists().every((a) => a.query.actions === '0'), 'every list without actions');
  });

  await t.test('a drawing opened by URL is read with get, not listed', async () => {
    const id = all[5];
    page.once('dialog', (d) => d.accept()); // leaving with a stroke not saved yet asks first
    await page.goto('about:blank');
    const before = answers.length;
    await page.goto(srv.url + '/#/draw/' + id); // a fresh start on the drawing's URL
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)', { timeout: 10000 });
    const after = answers.slice(before);
    assert.deepEqual(after.filter((a) => a.path === 'list'), [], 'no list');
    const gets = after.filter((a) => a.path === 'get');
    assert.deepEqual(gets.map((a) => a.query.id), [id]);
    assert.equal(JSON.parse(gets[0].body).data.rev, 1);
    assert.ok(await redPixels(page.getByTestId('draw-canvas')) > 100, 'the drawing is shown');
    // Saves go through again: a stroke is appended at the revision get answered.
    await page.unroute('**/applet/session/paints/append');
    await page.getByTestId('color-0000FF').click();
    const box = await page.getByTestId('draw-canvas').boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.3, { steps: 10 });
    await page.mouse.up();
    await saveState(page, 'saved');
    const saved = (await call('get?id=' + id)).data;
    assert.equal(saved.rev, 2, 'one append at revision 1, no conflict');
    const acts = JSON.parse(saved.actions);
    assert.equal(acts.filter((a) => a.method === 'stroke').length, 2);
    assert.equal(acts.filter((a) => a.method === 'space').length, 1, 'the old drawing continued, not copied');
    // The drawing left unsaved was sent when the app started again.
    await page.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('yibi.outbox.')), null, { timeout: 15000 });
    assert.ok((await call('get?id=' + pending)).data.rev >= 1);
  });

  assert.deepEqual(errors, []);
});
