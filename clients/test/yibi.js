// Starts a real yibi server for the integration and browser tests.
//
// The binary is $YIBI_BIN (scripts/test.sh builds it); without it the
// helper builds ./cmd/yibi into a temporary directory. The server runs in
// development mode (no app id: the WeChat simulator is mounted at /wechat
// and the browser app at /) on a free loopback port with a temporary data
// directory. YIBI_TEST_URL points the tests at an already running server
// instead. When yibi cannot be built or started the tests skip, unless
// YIBI_REQUIRE_SERVICES=1, when they fail.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const repoRoot = path.join(import.meta.dirname, '..', '..');
const required = process.env.YIBI_REQUIRE_SERVICES === '1';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let built = null;
function binary(tmp) {
  if (process.env.YIBI_BIN) return process.env.YIBI_BIN;
  if (built) return built;
  const out = path.join(tmp, 'yibi');
  execFileSync('go', ['build', '-o', out, './cmd/yibi'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  built = out;
  return out;
}

async function waitHealthy(url, child, logs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`yibi exited with ${child.exitCode}:\n${logs.join('')}`);
    try {
      const res = await fetch(url + '/healthz');
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`yibi did not answer /healthz in ${timeoutMs}ms:\n${logs.join('')}`);
}

/**
 * startYibi starts yibi for test t (a node:test context) and stops it when
 * t ends; opts.env adds settings. Returns {url, logs} or null after
 * skipping t.
 */
async function startYibi(t, opts = {}) {
  if (process.env.YIBI_TEST_URL) return { url: process.env.YIBI_TEST_URL.replace(/\/+$/, ''), logs: [] };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yibi-clients-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  let bin;
  try {
    bin = binary(tmp);
  } catch (err) {
    const msg = `cannot build yibi (go build ./cmd/yibi): ${err.stderr ? err.stderr.toString().trim() : err.message}`;
    if (required) throw new Error(msg);
    t.skip(msg + ' — set YIBI_BIN or YIBI_TEST_URL');
    return null;
  }
  const port = await freePort();
  const dataDir = path.join(tmp, 'data');
  fs.mkdirSync(dataDir);
  const env = { ...process.env, YIBI_PORT: String(port), YIBI_DATA_DIR: dataDir };
  // Development mode, memory sessions, embedded SQLite: whatever the caller's shell says.
  for (const k of ['YIBI_APP_ID', 'YIBI_APP_SECRET', 'YIBI_REDIS_URL', 'YIBI_MONGO_URI', 'YIBI_ROUTE_BASE_PATH', 'YIBI_CONFIG']) delete env[k];
  // opts.env: settings of this test's server (an app id makes production mode).
  Object.assign(env, opts.env || {});
  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  t.after(() => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }));
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, logs, 20000);
  return { url, logs };
}

const CHROMIUM = process.env.YIBI_CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(import.meta.dirname, '..', 'test-output');

/**
 * startBrowser starts yibi (startYibi) and a headless Chromium
 * ($YIBI_CHROMIUM or /usr/bin/chromium, driven by playwright-core) for
 * test t, both stopped when t ends, and makes clients/test-output/ for
 * screenshots. Returns {srv, browser} or null after skipping t (no
 * Chromium, no yibi), unless YIBI_REQUIRE_SERVICES=1.
 */
async function startBrowser(t, opts = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    const msg = `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set YIBI_CHROMIUM`;
    if (required) throw new Error(msg + ' (YIBI_REQUIRE_SERVICES=1)');
    t.skip(msg);
    return null;
  }
  const srv = await startYibi(t, opts);
  if (!srv) return null;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  fs.mkdirSync(OUT, { recursive: true });
  return { srv, browser };
}

export { startYibi, startBrowser, required };
