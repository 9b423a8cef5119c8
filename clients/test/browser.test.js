// The browser app in Chromium (Playwright) against a real yibi. Saves
// screenshots to clients/test-output/.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import wxsession from '../miniprogram/lib/wxsession.js';
import { createSimPlatform } from '../web/simplatform.js';
import { startYibi, required } from './yibi.js';

const CHROMIUM = process.env.YIBI_CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(import.meta.dirname, '..', 'test-output');

// inkOf counts the non-transparent pixels of a canvas, and the red ones.
async function inkOf(locator) {
  return locator.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0) ink++;
      if (d[i + 3] > 128 && d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) red++;
    }
    return { ink, red };
  });
}

async function createUser(page, name) {
  await page.getByTestId('switch-user').click().catch(() => {});
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
  if (!fs.existsSync(CHROMIUM)) {
    const msg = `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set YIBI_CHROMIUM`;
    if (required) throw new Error(msg + ' (YIBI_REQUIRE_SERVICES=1)');
    t.skip(msg);
    return;
  }
  const srv = await startYibi(t);
  if (!srv) return;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  fs.mkdirSync(OUT, { recursive: true });
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
