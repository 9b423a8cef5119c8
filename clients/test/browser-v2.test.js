// The browser app's protocol v2 path in Chromium (Playwright) against a real
// yibi: login by code alone, a bearer token on every request (no X-WX-*
// header), a profile from the simulator's avatar and a nickname, a phone
// number, the token surviving a reload, logout.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startBrowser } from './yibi.js';

const OUT = path.join(import.meta.dirname, '..', 'test-output');

// imageLoaded waits for an <img> to finish loading and answers its naturalWidth.
const imageLoaded = (locator) => locator.evaluate((img) => (img.complete && img.naturalWidth
  ? img.naturalWidth
  : new Promise((resolve) => {
    img.addEventListener('load', () => resolve(img.naturalWidth), { once: true });
    img.addEventListener('error', () => resolve(0), { once: true });
  })));

test('browser app on protocol v2 in Chromium against a real yibi', { timeout: 120000 }, async (t) => {
  const env = await startBrowser(t);
  if (!env) return;
  const { srv, browser } = env;
  const user = 'v2-' + crypto.randomBytes(3).toString('hex');
  const tokenKey = `wxsim.${user}.wxsession.token`;

  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Every request to the session routes, with its headers.
  const sent = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/applet/session/')) sent.push({ url: r.url(), method: r.method(), headers: r.headers() }); });
  const logins = () => sent.filter((r) => r.url.endsWith('/applet/session/login'));
  // api: the requests that need a session (not the login, not the public avatars).
  const api = () => sent.filter((r) => !r.url.endsWith('/session/login') && !r.url.includes('/session/avatars/'));

  await page.goto(srv.url + '/');
  await page.getByTestId('users-screen').waitFor();
  await page.getByTestId('new-user-name').fill(user);
  await page.getByTestId('create-user').click();
  await page.getByTestId('gallery-screen').waitFor();

  await t.test('a first login (isNew) opens the profile form; avatar and nickname are saved', async () => {
    await page.getByTestId('profile-form').waitFor({ timeout: 10000 });
    assert.equal(logins().length, 1);
    await page.getByTestId('choose-avatar').click();
    await page.getByTestId('avatar-preview').waitFor();
    assert.equal(await imageLoaded(page.getByTestId('avatar-preview')), 96, 'the simulator avatar, 96 px');
    await page.getByTestId('nickname').fill('小明 v2');
    await page.getByTestId('save-profile').click();
    await page.getByTestId('profile-form').waitFor({ state: 'hidden', timeout: 10000 });
    assert.equal(await page.getByTestId('profile-name').textContent(), '小明 v2');
    const avatar = page.getByTestId('profile-avatar');
    assert.match(await avatar.getAttribute('src'), /^\/applet\/session\/avatars\/[0-9a-f]{32}\.png$/);
    assert.ok(await imageLoaded(avatar) > 0, 'the server avatar loads');
    const upload = sent.find((r) => r.url.endsWith('/session/profile'));
    assert.ok(upload, 'the profile was posted');
    assert.match(upload.headers['content-type'], /^multipart\/form-data; boundary=/);
  });

  await t.test('bind phone: the masked number shows', async () => {
    await page.getByTestId('edit-profile').click();
    await page.getByTestId('bind-phone').click();
    await page.waitForFunction(() => /\*{4}/.test(document.querySelector('[data-testid="profile-phone"]').textContent), null, { timeout: 10000 });
    assert.match(await page.getByTestId('profile-phone').textContent(), /^1\d{2}\*{4}\d{4}$/);
    await page.getByTestId('skip-profile').click();
  });

  await t.test('a drawing is saved with the bearer token', async () => {
    await page.getByTestId('new-paint').click();
    await page.waitForSelector('[data-testid="draw-canvas"]:not(.loading)');
    const box = await page.getByTestId('draw-canvas').boundingBox();
    await page.mouse.move(box.x + 40, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + 200, box.y + 160, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelector('[data-testid="save-state"]').dataset.state === 'saved', null, { timeout: 10000 });
    await page.getByTestId('back').click();
    await page.waitForSelector('[data-testid="gallery"][data-state="ready"]');
    assert.equal(await page.getByTestId('paint-tile').count(), 1);
  });

  await t.test('every request carries Authorization: Bearer and no X-WX-* header', () => {
    const token = api();
    assert.ok(token.length >= 5, `got ${token.length} requests`);
    assert.ok(token.some((r) => r.url.includes('/session/paints/append')), 'a save (append) was sent');
    for (const r of sent) {
      const wx = Object.keys(r.headers).filter((h) => h.startsWith('x-wx-'));
      assert.deepEqual(wx, [], `${r.url} sends ${wx}`);
    }
    for (const r of token) assert.match(r.headers.authorization || '', /^Bearer [\w-]{22,}$/, r.url);
    assert.equal(logins()[0].headers.authorization, undefined, 'the login itself carries no token');
    assert.ok(sent.some((r) => r.url.includes('/session/avatars/')), 'the avatar was fetched, without a session');
  });

  await t.test('a reload keeps the session: no new login, the profile shows', async () => {
    const before = await page.evaluate((k) => localStorage.getItem(k), tokenKey);
    assert.ok(before, 'the token is in localStorage');
    await page.reload();
    await page.waitForSelector('[data-testid="gallery"][data-state="ready"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="profile-name"]').textContent === '小明 v2', null, { timeout: 10000 });
    assert.ok(await imageLoaded(page.getByTestId('profile-avatar')) > 0);
    assert.equal(logins().length, 1, 'still one login');
    assert.equal(api().at(-1).headers.authorization, 'Bearer ' + before);
    assert.equal(await page.getByTestId('profile-form').isHidden(), true, 'no profile prompt for a known user');
    await page.screenshot({ path: path.join(OUT, 'v2-gallery.png') });
  });

  await t.test('logout ends the session on the server and forgets the token', async () => {
    const token = await page.evaluate((k) => localStorage.getItem(k), tokenKey);
    await page.getByTestId('logout').click();
    await page.getByTestId('users-screen').waitFor();
    assert.equal(await page.evaluate((k) => localStorage.getItem(k), tokenKey), null);
    assert.ok(sent.some((r) => r.url.endsWith('/session/logout') && r.headers.authorization === 'Bearer ' + token));
    const res = await fetch(srv.url + '/applet/session/me', { headers: { Authorization: 'Bearer ' + token } });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).reason, 'ERR_SESSION_EXPIRED');
  });

  await t.test('logging in again as the same user: not new, the profile is there', async () => {
    await page.getByTestId(`user-${user}`).click();
    await page.waitForSelector('[data-testid="gallery"][data-state="ready"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="profile-name"]').textContent === '小明 v2', null, { timeout: 10000 });
    assert.equal(logins().length, 2);
    assert.equal(await page.getByTestId('profile-form').isHidden(), true);
    assert.equal(await page.getByTestId('paint-tile').count(), 1);
  });

  assert.deepEqual(errors, []);
  await context.close();
});
