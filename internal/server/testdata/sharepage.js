'use strict';
// Opens a share page in Chromium, for share_test.go's TestSharePageInChromium.
// Usage: node sharepage.js <repo> <chromium> <page URL>
// Prints one JSON line: {"noJS": {"naturalWidth", "buttonHidden", "link"},
// "js": {"nonWhite", "hidden"}, "layout": {...}, "followed", "errors"}.
const path = require('node:path');

async function main() {
  const [repo, bin, url] = process.argv.slice(2);
  const { chromium } = require(path.join(repo, 'clients', 'node_modules', 'playwright-core'));
  const browser = await chromium.launch({ executablePath: bin, args: ['--no-sandbox', '--disable-gpu'] });
  const out = {};
  const errors = [];
  try {
    // JavaScript off, a Chinese browser: the picture alone.
    const off = await browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN' });
    const p1 = await off.newPage();
    await p1.goto(url, { waitUntil: 'load' });
    out.noJS = {
      naturalWidth: await p1.$eval('#pic', (img) => img.naturalWidth),
      buttonHidden: await p1.$eval('#replay', (b) => b.hidden),
      link: await p1.$eval('#draw', (a) => ({ href: a.href, text: a.textContent, height: a.getBoundingClientRect().height })),
    };
    await off.close();

    // JavaScript on, an English browser on a phone: press Replay, wait for the end, count
    // drawn pixels; then follow the link to the app.
    const on = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, locale: 'en-US' });
    const p2 = await on.newPage();
    p2.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    p2.on('pageerror', (e) => errors.push(String(e)));
    await p2.goto(url, { waitUntil: 'load' });
    await p2.click('#replay');
    await p2.waitForSelector('#yb[data-replayed="1"]', { timeout: 15000 });
    out.js = await p2.$eval('#cv', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let nonWhite = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) nonWhite++;
      return { nonWhite, hidden: c.hidden };
    });
    out.layout = await p2.evaluate(() => {
      const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return { width: r.width, height: r.height, bottom: r.bottom }; };
      return { viewportHeight: innerHeight, replay: document.getElementById('replay').textContent, card: box('.card'), button: box('#replay'), link: box('#draw') };
    });
    await Promise.all([p2.waitForURL((u) => u.pathname === '/', { timeout: 15000 }), p2.click('#draw')]);
    out.followed = { path: new URL(p2.url()).pathname, title: await p2.title() };
    await on.close();
  } finally {
    await browser.close();
  }
  out.errors = errors;
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
