// The browser app's pictures in Chromium (Playwright) against a real yibi:
// gallery thumbnails drawn by the server (fetched with the bearer token,
// revalidated with 304s), a drawing not saved yet replayed locally, Share
// (a link to the public page, copied) and Unshare (404), Download PNG.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startBrowser } from './yibi.js';

const OUT = path.join(import.meta.dirname, '..', 'test-output');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// pngSize reads the width and height of a PNG's IHDR.
const pngSize = (b) => ({ width: b.readUInt32BE(16), height: b.readUInt32BE(20) });

// imageInk waits for an <img> and counts its non-white and red pixels.
const imageInk = (locator) => locator.evaluate(async (img) => {
  if (!img.complete || !img.naturalWidth) {
    await new Promise((resolve) => { img.addEventListener('load', resolve, { once: true }); img.addEventListener('error', resolve, { once: true }); });
  }
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  if (!c.width) return { width: 0, ink: 0, red: 0 };
  c.getContext('2d').drawImage(img, 0, 0);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  let red = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (!(d[i] > 240 && d[i + 1] > 240 && d[i + 2] > 240)) ink++;
    if (d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) red++;
  }
  return { width: img.naturalWidth, height: img.naturalHeight, ink, red, src: img.src };
});

async function drawLine(page, color, y) {
  await page.getByTestId('color-' + color.slice(1)).click();
  const box = await page.getByTestId('draw-canvas').boundingBox();
  await page.mouse.move(box.x + box.width * 0.15, box.y + box.height * y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.85, box.y + box.height * (y + 0.1), { steps: 12 });
  await page.mouse.up();
}

const saveState = (page, want, timeout = 10000) => page.waitForFunction(
  (w) => document.querySelector('[data-testid="save-state"]').dataset.state === w, want, { timeout });

async function galleryReady(page, n) {
  await page.waitForSelector('[data-testid="gallery"][data-state="ready"]', { timeout: 10000 });
  await page.waitForFunction((want) => document.querySelectorAll('[data-testid="paint-tile"]').length === want, n, { timeout: 10000 });
}

test('browser app pictures in Chromium against a real yibi', { timeout: 120000 }, async (t) => {
  const env = await startBrowser(t);
  if (!env) return;
  const { srv, browser } = env;
  const user = 'pic-' + crypto.randomBytes(3).toString('hex');

  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: 'en-US', acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Every answer of the image route, with the request's headers.
  const images = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/applet/session/paints/image') images.push({ id: u.searchParams.get('id'), w: u.searchParams.get('w'), status: r.status(), headers: r.request().headers() });
  });

  await page.addInitScript((u) => localStorage.setItem('yibi.user', u), user);
  await page.goto(srv.url + '/#/gallery');
  await galleryReady(page, 0);
  await page.getByTestId('profile-form').waitFor({ timeout: 10000 });
  await page.getByTestId('skip-profile').click();

  // Two saved drawings, one red and one blue.
  const ids = [];
  for (const color of ['#FF0000', '#0000FF']) {
    await page.getByTestId('new-paint').click();
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    await drawLine(page, color, 0.3);
    await saveState(page, 'saved');
    ids.push(await page.evaluate(() => location.hash.split('/').pop()));
    await page.getByTestId('back').click();
  }

  await t.test('gallery thumbnails are the server\'s pictures, fetched with the bearer token', async () => {
    await galleryReady(page, 2);
    const thumbs = page.getByTestId('thumb');
    assert.equal(await thumbs.count(), 2);
    for (let i = 0; i < 2; i++) {
      const thumb = thumbs.nth(i);
      assert.equal(await thumb.evaluate((el) => el.tagName), 'IMG', 'an <img>, not a replay');
      const ink = await imageInk(thumb);
      assert.equal(ink.width, 250, `2× the 125 px tile: ${JSON.stringify(ink)}`);
      assert.equal(ink.height, 333);
      assert.match(ink.src, /^blob:/);
      assert.ok(ink.ink > 100, `thumbnail is blank: ${JSON.stringify(ink)}`);
    }
    // Newest first: the blue drawing, then the red one.
    assert.ok((await imageInk(thumbs.nth(1))).red > 50, 'the red drawing is red');
    assert.equal((await imageInk(thumbs.nth(0))).red, 0, 'the blue drawing has no red');
    const got = images.filter((r) => ids.includes(r.id));
    assert.ok(got.length >= 2, `got ${JSON.stringify(got)}`);
    for (const r of got) {
      assert.equal(r.w, '250');
      assert.match(r.headers.authorization || '', /^Bearer [\w-]{22,}$/);
      assert.deepEqual(Object.keys(r.headers).filter((h) => h.startsWith('x-wx-')), []);
    }
    // Each picture is drawn once (200); the gallery shown after the second
    // drawing revalidated the first one's (304).
    for (const id of ids) assert.equal(got.find((r) => r.id === id).status, 200, id);
    assert.deepEqual(got.filter((r) => r.id === ids[0]).map((r) => r.status), [200, 304]);
    await page.screenshot({ path: path.join(OUT, 'pictures-gallery.png') });
  });

  await t.test('showing the gallery again costs a 304 per thumbnail', async () => {
    const before = images.length;
    await page.getByTestId('paint-tile').first().locator('a').click();
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    await page.getByTestId('back').click();
    await galleryReady(page, 2);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="thumb"][src^="blob:"]').length === n, 2, { timeout: 10000 });
    const again = images.slice(before);
    assert.deepEqual(again.map((r) => r.status), [304, 304]);
    for (const r of again) assert.match(r.headers['if-none-match'] || '', /^".+"$/);
    for (let i = 0; i < 2; i++) assert.ok((await imageInk(page.getByTestId('thumb').nth(i))).ink > 100, 'the cached picture shows');
  });

  await t.test('a drawing whose strokes are not saved yet is replayed here until it is', async () => {
    let refuse = true;
    await page.route('**/applet/session/paints/append', (route) => (refuse
      ? route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":-1,"msg":"fail","error":{"reason":"unavailable"}}' })
      : route.continue()));
    await page.getByTestId('new-paint').click();
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    const id = await page.evaluate(() => location.hash.split('/').pop());
    await drawLine(page, '#FF0000', 0.5);
    await saveState(page, 'unsaved');
    await page.getByTestId('back').click();
    await page.getByTestId('confirm-ok').click(); // leave: the strokes stay queued
    await galleryReady(page, 3);
    const tile = page.locator(`[data-testid="paint-tile"][data-id="${id}"] [data-testid="thumb"]`);
    assert.equal(await tile.evaluate((el) => el.tagName), 'CANVAS');
    const red = await tile.evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) n++;
      return n;
    });
    assert.ok(red > 20, `the unsaved drawing is not replayed: ${red} red pixels`);
    assert.equal(images.filter((r) => r.id === id).length, 0, 'no picture asked for a drawing the server does not have');
    refuse = false;
    await page.unroute('**/applet/session/paints/append');
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('yibi.outbox.')), null, { timeout: 15000 });
    await page.evaluate(() => { location.hash = '#/users'; });
    await page.getByTestId('users-screen').waitFor();
    await page.evaluate(() => { location.hash = '#/gallery'; });
    await galleryReady(page, 3);
    const saved = page.locator(`[data-testid="paint-tile"][data-id="${id}"] [data-testid="thumb"]`);
    await page.waitForFunction((i) => document.querySelector(`[data-testid="paint-tile"][data-id="${i}"] [data-testid="thumb"]`).tagName === 'IMG', id);
    assert.ok((await imageInk(saved)).red > 50, 'once saved, the server\'s picture');
  });

  await t.test('Share copies a link to the public page; Unshare makes it 404', async () => {
    const id = ids[0];
    await page.goto(srv.url + '/#/draw/' + id);
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    await page.getByTestId('share').click();
    await page.getByTestId('share-link').waitFor({ timeout: 10000 });
    const link = await page.getByTestId('share-link').textContent();
    assert.match(link, new RegExp('^' + srv.url.replace(/[.]/g, '\\.') + '/s/[\\w-]{24}$'));
    assert.equal(await page.getByTestId('share-note').textContent(), 'Link copied: ');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    // Sharing again gives the same link.
    await page.getByTestId('share').click();
    await page.waitForTimeout(300);
    assert.equal(await page.getByTestId('share-link').textContent(), link);

    // The public page, with no session: 200, and its picture shows the red drawing.
    const anon = await browser.newContext({ viewport: { width: 800, height: 1100 } });
    try {
      const pub = await anon.newPage();
      const res = await pub.goto(link);
      assert.equal(res.status(), 200);
      const ink = await imageInk(pub.locator('img').first());
      assert.equal(ink.width, 750);
      assert.ok(ink.red > 500, `the shared picture: ${JSON.stringify(ink)}`);
      await pub.screenshot({ path: path.join(OUT, 'pictures-shared.png') });
    } finally {
      await anon.close();
    }
    const png = await fetch(link + '.png');
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');

    await page.getByTestId('unshare').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="share-link"]').hidden, null, { timeout: 10000 });
    assert.equal(await page.getByTestId('share-note').textContent(), 'Unshared: the link no longer works.');
    for (const u of [link, link + '.png', link + '.json']) assert.equal((await fetch(u)).status, 404, u);
  });

  await t.test('Download PNG saves <id>.png, 750 px wide', async () => {
    const id = ids[1];
    await page.goto(srv.url + '/#/draw/' + id);
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.getByTestId('download').click()]);
    assert.equal(dl.suggestedFilename(), id + '.png');
    const file = path.join(OUT, 'pictures-download.png');
    await dl.saveAs(file);
    const b = fs.readFileSync(file);
    assert.deepEqual(b.subarray(0, 8), PNG_SIGNATURE);
    assert.deepEqual(pngSize(b), { width: 750, height: 1000 });
  });

  assert.deepEqual(errors, []);
});
