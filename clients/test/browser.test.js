// The browser app in Chromium (Playwright) against a real yibi. Saves
// screenshots to clients/test-output/.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import wxsession from '../miniprogram/lib/wxsession.js';
import { createSimPlatform } from '../web/simplatform.js';
import { startBrowser } from './yibi.js';
import { visible } from '../miniprogram/lib/actions.js';

const OUT = path.join(import.meta.dirname, '..', 'test-output');

// inkOf counts the ink of a canvas (its non-transparent pixels) or of an
// <img> (the server's thumbnails: its non-white pixels, once loaded), and
// the red pixels.
async function inkOf(locator) {
  return locator.evaluate(async (c) => {
    const img = c.tagName === 'IMG';
    if (img) {
      if (!c.complete || !c.naturalWidth) {
        await new Promise((resolve) => { c.addEventListener('load', resolve, { once: true }); c.addEventListener('error', resolve, { once: true }); });
      }
      const cv = document.createElement('canvas');
      cv.width = c.naturalWidth;
      cv.height = c.naturalHeight;
      if (cv.width) cv.getContext('2d').drawImage(c, 0, 0);
      c = cv;
    }
    const d = c.width ? c.getContext('2d').getImageData(0, 0, c.width, c.height).data : [];
    let ink = 0;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0 && !(img && d[i] > 240 && d[i + 1] > 240 && d[i + 2] > 240)) ink++;
      if (d[i + 3] > 128 && d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) red++;
    }
    return { ink, red };
  });
}

// inkStats reads a canvas: red pixels, ink pixels (any non-transparent,
// non-white), and the red pixels' centre relative to the canvas size.
async function inkStats(locator) {
  return locator.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    let ink = 0;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < d.length; i += 4) {
      const white = d[i] > 240 && d[i + 1] > 240 && d[i + 2] > 240;
      if (d[i + 3] > 128 && !white) ink++;
      if (d[i + 3] > 128 && d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) {
        red++;
        sx += (i / 4) % c.width;
        sy += Math.floor(i / 4 / c.width);
      }
    }
    return { red, ink, cx: red ? sx / red / c.width : 0, cy: red ? sy / red / c.height : 0 };
  });
}

// line draws a straight stroke between two points given as fractions of the board.
async function line(page, [x0, y0], [x1, y1]) {
  const box = await page.getByTestId('draw-canvas').boundingBox();
  await page.mouse.move(box.x + box.width * x0, box.y + box.height * y0);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * x1, box.y + box.height * y1, { steps: 12 });
  await page.mouse.up();
}

async function createUser(page, name) {
  if (await page.getByTestId('switch-user').isVisible()) await page.getByTestId('switch-user').click();
  await page.getByTestId('users-screen').waitFor();
  await page.getByTestId('new-user-name').fill(name);
  await page.getByTestId('create-user').click();
  await page.getByTestId('gallery-screen').waitFor();
}

// drawStroke draws a zigzag on the board with mouse moves (pointer events).
async function drawStroke(page, color, offset = 0) {
  await page.getByTestId('color-' + color.slice(1)).click();
  const box = await page.getByTestId('draw-canvas').boundingBox();
  const x0 = box.x + box.width * 0.2;
  const y0 = box.y + box.height * (0.2 + offset);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(x0 + i * box.width * 0.05, y0 + (i % 2 ? 1 : -1) * box.height * 0.08 + i * 4, { steps: 2 });
  }
  await page.mouse.up();
}

function waitSaved(page) {
  return page.waitForFunction(() => document.querySelector('[data-testid="save-state"]').dataset.state === 'saved');
}

async function expectTiles(page, n) {
  await page.waitForSelector('[data-testid="gallery"][data-state="ready"]', { timeout: 10000 });
  await page.waitForFunction((want) => document.querySelectorAll('[data-testid="paint-tile"]').length === want, n, { timeout: 10000 })
    .catch(() => {}); // a deleted tile goes after the answer; the count below reports a mismatch
  assert.equal(await page.getByTestId('paint-tile').count(), n);
}

test('browser app in Chromium against a real yibi', { timeout: 180000 }, async (t) => {
  const env = await startBrowser(t);
  if (!env) return;
  const { srv, browser } = env;
  const run = crypto.randomBytes(3).toString('hex');
  const alice = 'alice-' + run;
  const bob = 'bob-' + run;

  for (const [name, viewport, mobile] of [['desktop', { width: 1100, height: 820 }, false], ['phone', { width: 390, height: 844 }, true]]) {
    await t.test(`${name}: draw, save, see the thumbnail, reload, switch user, delete`, async () => {
      const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: mobile ? 2 : 1, locale: mobile ? 'zh-CN' : 'en-US' });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(srv.url + '/');
        await createUser(page, `${alice}-${name}`);
        await expectTiles(page, 0);
        // No globals: the page's window has only what a blank page's has.
        const leaked = await page.evaluate(() => {
          const f = document.createElement('iframe');
          document.body.append(f);
          const blank = new Set(Object.getOwnPropertyNames(f.contentWindow));
          f.remove();
          return Object.getOwnPropertyNames(window).filter((k) => !blank.has(k));
        });
        assert.deepEqual(leaked, [], 'globals the app added');
        // The phone asks for Chinese, the desktop for English.
        assert.match(await page.getByTestId('gallery-state').textContent(), mobile ? /还没有画/ : /No drawings yet/);
        assert.equal(await page.evaluate(() => document.documentElement.lang), mobile ? 'zh-CN' : 'en');

        await page.getByTestId('new-paint').click();
        await page.getByTestId('draw-screen').waitFor();
        await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
        await drawStroke(page, '#FF0000');
        await waitSaved(page);
        assert.equal(await page.getByTestId('save-state').textContent(), mobile ? '已保存' : 'saved');
        await drawStroke(page, '#0000FF', 0.3);
        await drawStroke(page, '#008000', 0.5);
        await waitSaved(page);
        const board = await inkOf(page.getByTestId('draw-canvas'));
        assert.ok(board.red > 0, `draw canvas has no red ink: ${JSON.stringify(board)}`);
        await page.screenshot({ path: path.join(OUT, `${name}-draw.png`) });

        await page.getByTestId('back').click();
        await expectTiles(page, 1);
        const thumb = await inkOf(page.getByTestId('thumb'));
        assert.ok(thumb.ink > 50, `thumbnail is blank: ${JSON.stringify(thumb)}`);
        await page.screenshot({ path: path.join(OUT, `${name}-gallery.png`) });

        await page.reload();
        await expectTiles(page, 1);
        assert.equal(await page.getByTestId('current-user').textContent(), `${alice}-${name}`, 'the user is remembered');
        assert.ok((await inkOf(page.getByTestId('thumb'))).ink > 50, 'thumbnail blank after reload');

        // A second user sees none of the first user's drawings.
        await createUser(page, `${bob}-${name}`);
        await expectTiles(page, 0);
        await page.getByTestId('switch-user').click();
        await page.getByTestId(`user-${alice}-${name}`).click();
        await expectTiles(page, 1);

        // Delete, with the app's own confirmation: cancel keeps, confirm deletes.
        await page.getByTestId('delete-paint').click();
        await page.getByTestId('confirm-dialog').waitFor();
        await page.getByTestId('confirm-cancel').click();
        await expectTiles(page, 1);
        await page.getByTestId('delete-paint').click();
        await page.getByTestId('confirm-ok').click();
        await expectTiles(page, 0);
        await page.reload();
        await expectTiles(page, 0);
        assert.deepEqual(errors, [], 'page errors');
      } finally {
        await context.close();
      }
    });
  }

  // getPaint reads a paint as the server has it ({actions (a string), rev, …}), or null.
  const getPaint = async (user, id) => {
    const c = wxsession.createClient({ platform: createSimPlatform({ base: srv.url, user }) });
    const res = await c.requestAsync({ url: '/applet/session/paints/get', data: { id } });
    if (res.statusCode === 404) return null;
    assert.equal(res.data.code, 0, JSON.stringify(res.data));
    return res.data.data;
  };
  // savedPaint reads a paint's actions as the server has them, or null.
  const savedPaint = async (user, id) => {
    const p = await getPaint(user, id);
    return p ? JSON.parse(p.actions) : null;
  };
  const paintId = (page) => page.evaluate(() => location.hash.split('/').pop());

  await t.test('tools: widths, eraser, undo (button and Ctrl+Z), clear; saved and replayed after reload', async () => {
    const user = 'tools-' + run;
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(srv.url + '/');
      await createUser(page, user);
      await page.getByTestId('new-paint').click();
      await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
      const board = page.getByTestId('draw-canvas');
      assert.equal(await page.getByTestId('undo').isDisabled(), true, 'nothing to undo yet');
      assert.equal(await page.getByTestId('clear').isDisabled(), true, 'nothing to clear yet');

      // Every control is a 44 px target.
      for (const id of ['color-FF0000', 'width-2', 'width-12', 'eraser', 'undo', 'clear', 'back']) {
        const b = await page.getByTestId(id).boundingBox();
        assert.ok(b.width >= 44 && b.height >= 44, `${id} is ${b.width}×${b.height}`);
      }

      // Widths: the same line at width 2 and 12.
      await page.getByTestId('color-FF0000').click();
      await page.getByTestId('width-2').click();
      await line(page, [0.2, 0.3], [0.8, 0.3]);
      const thin = await inkStats(board);
      await page.getByTestId('undo').click();
      assert.equal((await inkStats(board)).red, 0, 'undo button took the stroke back');
      await page.getByTestId('width-12').click();
      await line(page, [0.2, 0.3], [0.8, 0.3]);
      const thick = await inkStats(board);
      assert.ok(thick.red > thin.red * 4, `width 12 (${thick.red} px) not much wider than width 2 (${thin.red} px)`);

      // Ctrl+Z undoes; the undo is appended, so it is saved too.
      await page.keyboard.press('Control+z');
      assert.equal((await inkStats(board)).red, 0, 'Ctrl+Z took the stroke back');
      await line(page, [0.2, 0.5], [0.8, 0.5]);
      const before = await inkStats(board);

      // The eraser over the middle of the red line removes red ink.
      await page.getByTestId('eraser').click();
      assert.equal(await page.getByTestId('eraser').getAttribute('aria-pressed'), 'true');
      await line(page, [0.5, 0.4], [0.5, 0.6]);
      const erased = await inkStats(board);
      assert.ok(erased.red < before.red - 50, `eraser removed too little red: ${before.red} → ${erased.red}`);

      // Clear hides everything; undo brings it back.
      await page.getByTestId('clear').click();
      assert.equal((await inkStats(board)).ink, 0, 'clear left ink');
      assert.equal(await page.getByTestId('clear').isDisabled(), true);
      await page.getByTestId('undo').click();
      // A replay draws each stroke as one path where the live drawing drew
      // segments: the anti-aliased edges may differ by a few pixels.
      const restored = await inkStats(board);
      assert.ok(Math.abs(restored.red - erased.red) < erased.red * 0.02, `undo after clear: ${restored.red} red px, was ${erased.red}`);
      await waitSaved(page);
      assert.equal(await page.getByTestId('save-state').textContent(), '已保存');

      const id = await paintId(page);
      const saved = await savedPaint(user, id);
      assert.deepEqual(saved[0], { method: 'space', data: [375, 500] });
      assert.deepEqual(saved.filter((x) => ['undo', 'clear'].includes(x.method)).map((x) => x.method), ['undo', 'undo', 'clear', 'undo']);
      assert.deepEqual(saved.filter((x) => x.method === 'setLineWidth').map((x) => x.data[0]), [2, 12, 12, 20]);

      await page.reload();
      await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
      const reloaded = await inkStats(board);
      assert.equal(reloaded.red, restored.red, 'the reloaded drawing matches what was drawn');
      await page.screenshot({ path: path.join(OUT, 'phone-tools.png') });
      if (process.env.YIBI_SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.YIBI_SCREENSHOT_DIR, 'draw-phone.png') });
      assert.deepEqual(errors, [], 'page errors');
    } finally {
      await context.close();
    }
  });

  await t.test('one drawing space: the same stroke on two canvas sizes records and shows the same drawing', async () => {
    const user = 'space-' + run;
    const sizes = [
      { name: 'desktop', viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 },
      { name: 'phone', viewport: { width: 360, height: 700 }, deviceScaleFactor: 3 },
    ];
    const seen = [];
    let firstId = null;
    for (const size of sizes) {
      const context = await browser.newContext({ viewport: size.viewport, deviceScaleFactor: size.deviceScaleFactor });
      const page = await context.newPage();
      try {
        await page.addInitScript((u) => localStorage.setItem('yibi.user', u), user);
        await page.goto(srv.url + '/#/gallery');
        await page.getByTestId('new-paint').click();
        await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
        const board = page.getByTestId('draw-canvas');
        const box = await board.boundingBox();
        await page.getByTestId('color-FF0000').click();
        await line(page, [0.1, 0.2], [0.6, 0.7]);
        await waitSaved(page);
        const id = await paintId(page);
        const acts = await savedPaint(user, id);
        const pts = acts.filter((x) => x.method === 'moveTo' || x.method === 'lineTo').map((x) => x.data);
        // Then show the first drawing on this canvas size.
        if (!firstId) firstId = id;
        await page.evaluate((pid) => { location.hash = '#/draw/' + pid; }, firstId);
        await page.waitForFunction((pid) => location.hash.endsWith(pid), firstId);
        await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
        seen.push({ name: size.name, width: box.width, first: pts[0], last: pts[pts.length - 1], stats: await inkStats(board) });
      } finally {
        await context.close();
      }
    }
    const [a, b] = seen;
    assert.ok(Math.abs(a.width - b.width) > 50, `canvas sizes too close: ${a.width} vs ${b.width}`);
    for (const k of ['first', 'last']) {
      for (const i of [0, 1]) {
        assert.ok(Math.abs(a[k][i] - b[k][i]) <= 2, `${k}[${i}]: ${a.name} ${a[k]} vs ${b.name} ${b[k]} (logical units)`);
      }
    }
    assert.ok(Math.abs(a.first[0] - 37.5) <= 2 && Math.abs(a.first[1] - 100) <= 2, `recorded in the 375×500 space: ${a.first}`);
    assert.ok(a.stats.red > 0 && b.stats.red > 0);
    assert.ok(Math.abs(a.stats.cx - b.stats.cx) < 0.01 && Math.abs(a.stats.cy - b.stats.cy) < 0.01,
      `the drawing sits elsewhere: ${JSON.stringify(a.stats)} vs ${JSON.stringify(b.stats)}`);
  });

  // newPaintAs opens a new drawing as user in a fresh English context.
  const newPaintAs = async (user, viewport) => {
    const context = await browser.newContext({ viewport, locale: 'en-US' });
    const page = await context.newPage();
    await page.addInitScript((u) => localStorage.setItem('yibi.user', u), user);
    await page.goto(srv.url + '/#/gallery');
    await page.getByTestId('new-paint').click();
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    return { context, page, id: await paintId(page) };
  };

  const waitState = (page, state, timeout = 20000) => page.waitForFunction(
    (st) => document.querySelector('[data-testid="save-state"]').dataset.state === st, state, { timeout });

  await t.test('nothing lost: strokes drawn while saves fail are kept, survive a reload and are saved when the network returns', async () => {
    const user = 'offline-' + run;
    const { context, page, id } = await newPaintAs(user, { width: 390, height: 844 });
    page.on('dialog', (d) => d.accept()); // the beforeunload question on reload
    try {
      // The network drops: every save fails.
      await page.route('**/session/paints/append', (route) => route.abort('internetdisconnected'));
      await page.getByTestId('color-FF0000').click();
      await line(page, [0.2, 0.2], [0.8, 0.3]);
      await line(page, [0.2, 0.5], [0.8, 0.6]);
      await waitState(page, 'unsaved');
      assert.match(await page.getByTestId('save-state').textContent(), /not saved yet/);
      const drawn = await inkStats(page.getByTestId('draw-canvas'));
      assert.equal(await savedPaint(user, id), null, 'the server has nothing yet');

      // Leaving asks first; cancel stays.
      await page.getByTestId('back').click();
      await page.getByTestId('confirm-dialog').waitFor();
      assert.match(await page.getByTestId('confirm-text').textContent(), /not saved yet/);
      await page.getByTestId('confirm-cancel').click();
      assert.equal(await paintId(page), id);

      // Reload while saves still fail: the strokes are still there, from the device.
      await page.reload();
      await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
      // (Replayed as whole paths rather than live segments: edges differ by a few pixels.)
      const after = (await inkStats(page.getByTestId('draw-canvas'))).red;
      assert.ok(Math.abs(after - drawn.red) < drawn.red * 0.1, `strokes kept across the reload: ${after} red px, drawn ${drawn.red}`);

      // The network returns: the 'online' event sends at once.
      await page.unroute('**/session/paints/append');
      await context.setOffline(true);
      await context.setOffline(false);
      await waitState(page, 'saved', 10000);
      const saved = await savedPaint(user, id);
      assert.equal(saved.filter((x) => x.method === 'stroke').length, 2, 'both strokes saved');
      assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('yibi.outbox.')).length), 0, 'nothing left pending');
    } finally {
      await context.close();
    }
  });

  await t.test('nothing lost: a save answered 503 three times, then 200', async () => {
    const user = 'flaky-' + run;
    const { context, page, id } = await newPaintAs(user, { width: 1000, height: 800 });
    try {
      let failures = 0;
      await page.route('**/session/paints/append', (route) => {
        if (failures < 3) {
          failures++;
          return route.fulfill({ status: 503, contentType: 'application/json', body: '{"code":-1,"msg":"fail","error":{"reason":"unavailable"}}' });
        }
        return route.continue();
      });
      await line(page, [0.2, 0.2], [0.8, 0.3]);
      await waitState(page, 'unsaved');
      await line(page, [0.2, 0.5], [0.8, 0.6]);
      await waitState(page, 'saved', 30000);
      assert.equal(failures, 3);
      const saved = await savedPaint(user, id);
      assert.equal(saved.filter((x) => x.method === 'stroke').length, 2, 'both strokes saved');
    } finally {
      await context.close();
    }
  });

  // colorsOn counts a canvas's clearly red and clearly blue pixels.
  const colorsOn = (page) => page.getByTestId('draw-canvas').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    let blue = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 128 && d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) red++;
      if (d[i + 3] > 128 && d[i] < 80 && d[i + 1] < 80 && d[i + 2] > 200) blue++;
    }
    return { red, blue };
  });

  await t.test('two tabs drawing on one paint: both tabs\' strokes end up in it', async () => {
    const user = 'tabs-' + run;
    const { context, page: a, id } = await newPaintAs(user, { width: 900, height: 800 });
    try {
      await a.getByTestId('color-FF0000').click();
      await line(a, [0.1, 0.1], [0.9, 0.1]);
      await waitState(a, 'saved');
      // The second tab of the same browser opens the same drawing.
      const b = await context.newPage();
      await b.goto(srv.url + '/#/draw/' + id);
      await b.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
      await b.getByTestId('color-0000FF').click();
      // Both draw, neither waiting for the other: their appends race on one revision.
      for (let i = 0; i < 4; i++) {
        await Promise.all([
          line(a, [0.1, 0.2 + i * 0.1], [0.9, 0.2 + i * 0.1]),
          line(b, [0.1, 0.25 + i * 0.1], [0.9, 0.25 + i * 0.1]),
        ]);
      }
      await Promise.all([waitState(a, 'saved'), waitState(b, 'saved')]);
      // Tab b draws once more; tab a, not knowing of it, undoes its own
      // latest stroke (y 0.5). The undo names that stroke, so after the
      // conflict it takes back a's stroke, not b's newer one.
      await line(b, [0.1, 0.9], [0.9, 0.9]);
      await waitState(b, 'saved');
      await a.getByTestId('undo').click();
      await waitState(a, 'saved');
      // The slower tab saved last; the other learns of the later strokes on its next edit.
      await line(a, [0.1, 0.8], [0.9, 0.8]);
      await waitState(a, 'saved');
      const saved = await savedPaint(user, id);
      const colors = saved.filter((x) => x.method === 'setStrokeStyle').map((x) => x.data[0]);
      assert.equal(colors.filter((c) => c === '#FF0000').length, 6, `tab a's strokes: ${colors}`);
      assert.equal(colors.filter((c) => c === '#0000FF').length, 5, `tab b's strokes: ${colors}`);
      // What the drawing shows: every stroke but a's at y 0.5 (250 of 500).
      const shownStrokes = visible(saved).filter((x) => x.method === 'moveTo').map((x) => Math.round(x.data[1] / 5) / 100);
      assert.deepEqual(shownStrokes.filter((y) => y === 0.5), [], `a's undone stroke is still shown: ${shownStrokes}`);
      assert.equal(shownStrokes.length, 10, `shown: ${shownStrokes}`);
      assert.ok(shownStrokes.includes(0.9), `b's last stroke was taken back: ${shownStrokes}`);
      assert.equal(saved.filter((x) => x.method === 'space').length, 1, 'one drawing, not two glued together');
      // Tab a drew on the merged drawing: it shows tab b's strokes too.
      const shown = await colorsOn(a);
      assert.ok(shown.red > 100 && shown.blue > 100, `tab a shows ${JSON.stringify(shown)}`);
      assert.equal(await a.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('yibi.outbox.')).length), 0, 'nothing left pending');
    } finally {
      await context.close();
    }
  });

  await t.test('200 strokes: each append carries only the new strokes, upload grows linearly', async () => {
    const user = 'many-' + run;
    const { context, page, id } = await newPaintAs(user, { width: 900, height: 900 });
    try {
      const bodies = [];
      page.on('request', (r) => {
        if (r.url().includes('/session/paints/save')) bodies.push({ save: true, n: 0 });
        if (r.url().includes('/session/paints/append')) bodies.push({ n: Buffer.byteLength(r.postData() || '') });
      });
      for (let i = 0; i < 200; i++) {
        const y = 0.05 + (i % 90) * 0.01;
        const box = await page.getByTestId('draw-canvas').boundingBox();
        await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * y);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (y + 0.005), { steps: 3 });
        await page.mouse.up();
      }
      await waitState(page, 'saved', 30000);
      const p = await getPaint(user, id);
      const list = JSON.parse(p.actions);
      assert.equal(list.filter((x) => x.method === 'stroke').length, 200);
      assert.equal(bodies.filter((b) => b.save).length, 0, 'no whole-drawing saves');
      const total = bodies.reduce((a, b) => a + b.n, 0);
      const drawing = Buffer.byteLength(p.actions);
      // v1 sent the whole drawing after every stroke: the sum of its prefixes.
      let v1 = 0;
      let prefix = 0;
      for (const a of list) { prefix += Buffer.byteLength(JSON.stringify(a)) + 1; if (a.method === 'restore') v1 += prefix; }
      const largest = Math.max(...bodies.map((b) => b.n));
      t.diagnostic(`200 strokes: ${bodies.length} appends, ${total} bytes uploaded (drawing ${drawing} bytes, v1 whole saves ${v1} bytes, ${(v1 / total).toFixed(0)}× more), largest body ${largest} bytes`);
      assert.ok(total < drawing * 1.5, `uploaded ${total} bytes for a ${drawing}-byte drawing`);
      assert.ok(largest < drawing / 10, `an append of ${largest} bytes: not only the new strokes`);
      assert.ok(v1 > total * 50, `v1 ${v1} vs append ${total}`);
      // Late appends are no bigger than early ones: per stroke, not per drawing.
      const perStroke = (part) => part.reduce((a, b) => a + b.n, 0) / part.length;
      const q = Math.floor(bodies.length / 4);
      assert.ok(perStroke(bodies.slice(-q)) < perStroke(bodies.slice(0, q)) * 2, 'late appends grow with the drawing');
    } finally {
      await context.close();
    }
  });

  await t.test('favicon and manifest are served', async () => {
    for (const [p, type] of [['/favicon.ico', /icon/], ['/web/manifest.json', /json/], ['/web/icon-192.png', /png/]]) {
      const res = await fetch(srv.url + p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type') || '', type, p);
    }
  });

  await t.test('a 2016-format drawing saved through the API renders', async () => {
    const user = 'old-' + run;
    const c = wxsession.createClient({ platform: createSimPlatform({ base: srv.url, user }) });
    const old = [
      { method: 'setStrokeStyle', data: ['normal', [255, 0, 0, 255]] },
      { method: 'setLineWidth', data: [5] },
      { method: 'strokePath', data: [{ method: 'moveTo', data: [60, 60] }, { method: 'lineTo', data: [300, 400] }, { method: 'lineTo', data: [60, 400] }] },
      { method: 'setFillStyle', data: ['normal', [0, 0, 255, 0.5]] },
      { method: 'fillPath', data: [{ method: 'rect', data: ['200', '60', 100, 100] }] },
      { method: 'whatIsThis', data: null },
    ];
    const res = await c.requestAsync({
      url: '/applet/session/paints/save', method: 'POST',
      data: { id: crypto.randomUUID(), actions: JSON.stringify(old) },
    });
    assert.equal(res.data.code, 0, JSON.stringify(res.data));
    const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
    try {
      const page = await context.newPage();
      await page.addInitScript((u) => localStorage.setItem('yibi.user', u), user);
      await page.goto(srv.url + '/#/gallery');
      await expectTiles(page, 1);
      const thumb = await inkOf(page.getByTestId('thumb'));
      assert.ok(thumb.red > 10, `2016 drawing not rendered in red: ${JSON.stringify(thumb)}`);
      await page.getByTestId('paint-tile').locator('a').click();
      await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
      assert.ok((await inkOf(page.getByTestId('draw-canvas'))).red > 100, 'draw page does not show the 2016 drawing');
    } finally {
      await context.close();
    }
  });
});

test('browser app on a production server says it logs in only in development mode', { timeout: 60000 }, async (t) => {
  if (process.env.YIBI_TEST_URL) return t.skip('needs a server of its own in production mode');
  // An app id and secret make production mode: no simulator is mounted.
  const env = await startBrowser(t, { env: { YIBI_APP_ID: 'wxprodbrowser0001', YIBI_APP_SECRET: 'prod-browser-secret' } });
  if (!env) return;
  const { srv, browser } = env;
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  try {
    await page.goto(srv.url + '/');
    const state = page.getByTestId('users-state');
    await state.filter({ hasText: 'development mode' }).waitFor({ timeout: 10000 });
    assert.match(await state.textContent(), /mini program/);
    assert.equal(await page.getByTestId('new-user-form').isHidden(), true, 'no name form that cannot log in');
  } finally {
    await context.close();
  }
});
