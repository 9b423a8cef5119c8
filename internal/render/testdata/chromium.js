'use strict';
// Renders test drawings in Chromium's canvas with the clients' shared
// replay (clients/miniprogram/lib/actions.js, an ES module), for
// chromium_test.go.
// Usage: node chromium.js job.json; the job is
// {"repo", "chromium", "out", "items": [{"name", "width", "height", "actions"}]}
// and each item's canvas is written to out/<name>.png (transparent where
// nothing was drawn, as a canvas is).
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const { chromium } = require(path.join(job.repo, 'clients', 'node_modules', 'playwright-core'));
  const browser = await chromium.launch({
    executablePath: job.chromium,
    args: ['--no-sandbox', '--disable-gpu', '--force-device-scale-factor=1'],
  });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body style="margin:0;background:#fff"></body></html>');
    // actions.js is an ES module with no imports: run it as the page's
    // module script and hand its replay to the page.
    const src = fs.readFileSync(path.join(job.repo, 'clients', 'miniprogram', 'lib', 'actions.js'), 'utf8');
    await page.addScriptTag({ type: 'module', content: src + '\nwindow.yibiReplay = replay;\n' });
    await page.waitForFunction(() => typeof window.yibiReplay === 'function');
    for (const it of job.items) {
      const url = await page.evaluate(({ width, height, actions }) => {
        const c = document.createElement('canvas');
        c.width = width;
        c.height = height;
        window.yibiReplay(c.getContext('2d'), actions, { scale: width / 375 });
        return c.toDataURL('image/png');
      }, it);
      fs.writeFileSync(path.join(job.out, it.name + '.png'), Buffer.from(url.split(',')[1], 'base64'));
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
