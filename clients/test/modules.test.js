// One module format: every client source is an ES module that sets no
// globals, and wxsession.d.ts type-checks (tsc --noEmit, pinned TypeScript
// and WeChat's miniprogram-api-typings) against its uses in test/types.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const clients = path.join(import.meta.dirname, '..');
const shared = ['miniprogram/lib/wxsession.js', 'miniprogram/lib/actions.js', 'web/simplatform.js'];

function sources(dir) {
  return fs.readdirSync(path.join(clients, dir), { recursive: true })
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(dir, f));
}

test('client sources are ES modules, no CommonJS or UMD left', () => {
  const files = [...sources('miniprogram'), ...sources('web')];
  assert.ok(files.length > 10, `got ${files.length} files`);
  for (const f of files) {
    const src = fs.readFileSync(path.join(clients, f), 'utf8');
    assert.doesNotMatch(src, /\brequire\(|module\.exports|\bexports\.|globalThis\.\w+\s*=/, f);
  }
});

test('importing the shared modules leaks no globals', () => {
  const urls = shared.map((f) => pathToFileURL(path.join(clients, f)).href);
  const script = `const before = new Set(Object.getOwnPropertyNames(globalThis));
    for (const u of ${JSON.stringify(urls)}) await import(u);
    console.log(JSON.stringify(Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k))));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), []);
});

test('each shared module’s default export holds its named exports', async () => {
  for (const f of shared.slice(0, 2)) {
    const m = await import(pathToFileURL(path.join(clients, f)).href);
    const named = Object.keys(m).filter((k) => k !== 'default').sort();
    assert.deepEqual(Object.keys(m.default).sort(), named, f);
  }
});

test('wxsession.d.ts type-checks: tsc --noEmit', { timeout: 120000 }, () => {
  const tsc = path.join(clients, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(clients, 'tsconfig.json')], { cwd: clients, encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc --noEmit failed:\n${err.stdout}${err.stderr}`);
  }
});
