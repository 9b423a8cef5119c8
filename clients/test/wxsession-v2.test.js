// The SDK's v2 mode (spec/protocol-v2.md) with a fake `wx`: wx.login,
// wx.request, wx.uploadFile and wx storage, answered by a small fake server
// that plays the v2 session routes.
import test from 'node:test';
import assert from 'node:assert/strict';
import wxsession from '../miniprogram/lib/wxsession.js';

const MAGIC = 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';
const BASE = 'https://example.com/applet';

const envelope = (reason, status) => ({ statusCode: status, data: { [MAGIC]: 1, reason, error: { name: 'Error', message: 'x' } }, header: {} });
const success = (data) => ({ statusCode: 200, data: { code: 0, msg: 'success', data }, header: {} });

// fakeWx plays wx and a v2 server. server.answer(o) may override any answer
// of a non-login route (return undefined for the default); server.loginAnswer
// likewise for logins. Tokens are tok<n> for the n-th login.
//
// session_keys are numbers: as in the WeChat simulator, each wx.login gives
// the user a new one (s.key, the current one), which its code carries to the
// session that logs in with it; s.rotate() is a wx.login the app never sends
// (WeChat changed the key behind the server's back). wx.getWeRunData gives
// 'steps@<current key>', and /session/decrypt answers as yibi does: data under
// the session's key opens; else a session key WeChat no longer accepts is 401
// ERR_SESSION_KEY_STALE, a current one a 400 decryption failure.
function fakeWx({ storage = new Map(), loginDelay = 0 } = {}) {
  const s = { storage, codes: 0, logins: [], requests: [], uploads: [], downloads: [], files: new Map(), live: new Set(), answer: () => undefined, loginAnswer: () => undefined };
  s.key = 0;
  s.codeKeys = new Map();
  s.tokenKeys = new Map();
  s.rotate = () => { s.key++; };
  const later = (fn, ms = 1) => setTimeout(fn, ms);
  function route(o) {
    const path = o.url.slice(BASE.length);
    if (path === '/session/login') {
      s.logins.push(o.data.code);
      const a = s.loginAnswer(o);
      if (a) return a;
      const token = 'tok' + s.logins.length;
      s.live.add(token);
      s.tokenKeys.set(token, s.codeKeys.get(o.data.code));
      return success({ token, expiresIn: 604800, isNew: s.logins.length === 1, user: { nickName: '', avatarUrl: '' } });
    }
    const a = s.answer(o);
    if (a) return a;
    const auth = o.header.Authorization || '';
    if (!s.live.has(auth.replace(/^Bearer /, ''))) return envelope('ERR_SESSION_EXPIRED', 401);
    if (path.startsWith('/session/logout')) {
      if (path.endsWith('?all=1')) s.live.clear();
      else s.live.delete(auth.slice(7));
      return success({});
    }
    if (path === '/session/me') return success({ nickName: 'n', avatarUrl: '', hasPhone: false });
    if (path === '/session/phone') return success({ phoneNumber: '13812345678', purePhoneNumber: '13812345678', countryCode: '86', code: o.data.code });
    if (path.startsWith('/session/paints/image')) return { statusCode: 200, data: { png: true }, header: {} };
    if (path === '/session/decrypt') {
      const key = s.tokenKeys.get(auth.slice(7));
      if (o.data.encryptedData === 'steps@' + key) return success({ stepInfoList: [{ timestamp: 1, step: 100 }], key });
      if (key !== s.key) return envelope('ERR_SESSION_KEY_STALE', 401);
      return { statusCode: 400, data: { code: -1, msg: 'fail', error: { reason: 'wechat: bad padding' } }, header: {} };
    }
    return success({ url: o.url });
  }
  s.wx = {
    login: (o) => {
      s.codes++;
      const code = 'code' + s.codes;
      s.rotate();
      s.codeKeys.set(code, s.key);
      later(() => o.success({ errMsg: 'login:ok', code }), loginDelay);
    },
    getWeRunData: (o) => { const key = s.key; later(() => o.success({ errMsg: 'getWeRunData:ok', encryptedData: 'steps@' + key, iv: 'iv' })); },
    getUserInfo: (o) => o.fail({ errMsg: 'getUserInfo:fail v2 never asks' }),
    request: (o) => {
      s.requests.push(o);
      const res = route(o);
      later(() => (res instanceof Error ? o.fail({ errMsg: 'request:fail ' + res.message }) : o.success(res)));
    },
    // wx.uploadFile answers data as a string.
    uploadFile: (o) => {
      s.uploads.push(o);
      const res = route(o);
      later(() => o.success({ statusCode: res.statusCode, data: JSON.stringify(res.data), errMsg: 'uploadFile:ok' }));
    },
    // wx.downloadFile writes every answer's body to a temporary file; the
    // fake keeps the files in s.files for getFileSystemManager to read.
    downloadFile: (o) => {
      s.downloads.push(o);
      const res = route(o);
      if (res instanceof Error) { later(() => o.fail({ errMsg: 'downloadFile:fail ' + res.message })); return; }
      const file = 'wxfile://tmp_' + s.downloads.length;
      s.files.set(file, res.statusCode === 200 && res.data.png ? 'PNG' : JSON.stringify(res.data));
      later(() => o.success({ statusCode: res.statusCode, tempFilePath: file, errMsg: 'downloadFile:ok' }));
    },
    getFileSystemManager: () => ({
      readFile: (o) => later(() => (s.files.has(o.filePath)
        ? o.success({ data: s.files.get(o.filePath) })
        : o.fail({ errMsg: 'readFile:fail no such file' }))),
    }),
    getStorageSync: (k) => (s.storage.has(k) ? s.storage.get(k) : ''),
    setStorageSync: (k, v) => s.storage.set(k, v),
    removeStorageSync: (k) => s.storage.delete(k),
  };
  s.client = (opts = {}) => wxsession.createClient({ protocol: 'v2', platform: wxsession.wxPlatform(s.wx), base: BASE, ...opts });
  return s;
}

const paintRequests = (s) => s.requests.filter((r) => !r.url.endsWith('/session/login'));

test('v2: logs in with wx.login alone and sends the token as a bearer', async () => {
  const s = fakeWx();
  const seen = [];
  const c = s.client({ onLogin: (d) => seen.push(d) });
  assert.equal(c.protocol, 'v2');
  assert.equal(c.token(), null);
  const res = await c.requestAsync({ url: BASE + '/session/paints/list', header: { 'X-Mine': '1' } });
  assert.equal(res.data.code, 0);
  assert.deepEqual(s.logins, ['code1']);
  const login = s.requests[0];
  assert.equal(login.method, 'POST');
  assert.deepEqual(login.data, { code: 'code1' });
  assert.equal(login.header.Authorization, undefined, 'login carries no token');
  const h = s.requests[1].header;
  assert.deepEqual(h, { 'X-Mine': '1', Authorization: 'Bearer tok1' });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].isNew, true);
  assert.equal(c.token(), 'tok1');
  assert.equal(s.storage.get(wxsession.DEFAULT_STORAGE_KEY), 'tok1');
});

test('v2: concurrent first requests share one login', async () => {
  const s = fakeWx({ loginDelay: 20 });
  const c = s.client();
  await Promise.all([1, 2, 3, 4, 5].map((i) => c.requestAsync({ url: BASE + '/session/paints/list?i=' + i })));
  assert.equal(s.codes, 1, 'wx.login calls');
  assert.equal(s.logins.length, 1, 'login requests');
  const sent = paintRequests(s);
  assert.equal(sent.length, 5);
  for (const r of sent) assert.equal(r.header.Authorization, 'Bearer tok1');
});

test('v2: an app restart keeps the token (wx storage)', async () => {
  const s = fakeWx();
  await s.client().requestAsync({ url: BASE + '/session/me' });
  const restarted = s.client(); // a new client over the same storage: the app relaunched
  assert.equal(restarted.token(), 'tok1');
  const me = await restarted.me();
  assert.equal(me.nickName, 'n');
  assert.equal(s.logins.length, 1, 'no second login after the restart');
  assert.equal(paintRequests(s).at(-1).header.Authorization, 'Bearer tok1');
});

test('v2: storageKey keeps two clients apart', async () => {
  const s = fakeWx();
  await s.client({ storageKey: 'a' }).requestAsync({ url: BASE + '/x' });
  await s.client({ storageKey: 'b' }).requestAsync({ url: BASE + '/x' });
  assert.equal(s.storage.get('a'), 'tok1');
  assert.equal(s.storage.get('b'), 'tok2');
});

// A plain request is resent as it is; decrypt, whose data cannot outlive
// the session_key, is not (the decrypt tests below).
for (const reason of ['ERR_SESSION_EXPIRED', 'ERR_SESSION_KEY_STALE']) {
  test(`v2: request: ${reason} → wx.login, log in, resend`, async () => {
    const s = fakeWx();
    s.storage.set(wxsession.DEFAULT_STORAGE_KEY, 'old');
    s.live.add('old');
    let first = true;
    s.answer = (o) => {
      if (o.url.endsWith('/paints/save') && first) { first = false; return envelope(reason, 401); }
      return undefined;
    };
    const c = s.client();
    const res = await c.requestAsync({ url: BASE + '/paints/save', method: 'POST', data: { id: 'p', actions: '[]' } });
    assert.equal(res.data.code, 0);
    assert.equal(s.codes, 1, 'one wx.login');
    const saves = s.requests.filter((r) => r.url.endsWith('/paints/save'));
    assert.deepEqual(saves.map((r) => r.header.Authorization), ['Bearer old', 'Bearer tok1']);
    assert.deepEqual(saves[1].data, { id: 'p', actions: '[]' }, 'the same request resent');
    assert.equal(s.storage.get(wxsession.DEFAULT_STORAGE_KEY), 'tok1');
  });
}

const weRun = (s) => new Promise((resolve, reject) => s.wx.getWeRunData({ success: resolve, fail: reject }));
const decrypts = (s) => s.requests.filter((r) => r.url.endsWith('/session/decrypt'));

test('v2: decrypt(function): ERR_SESSION_KEY_STALE → wx.login, log in, fetch the data again, resend', async () => {
  const s = fakeWx();
  const c = s.client();
  await c.login();
  s.rotate(); // WeChat changed the key: the data is no longer under the session's
  let calls = 0;
  const got = await c.decrypt(() => { calls++; return weRun(s); });
  assert.deepEqual(got, { stepInfoList: [{ timestamp: 1, step: 100 }], key: 3 });
  assert.equal(calls, 2, 'the data fetched again after the new login');
  assert.deepEqual(s.logins, ['code1', 'code2']);
  assert.deepEqual(decrypts(s).map((r) => [r.header.Authorization, r.data]), [
    ['Bearer tok1', { encryptedData: 'steps@2', iv: 'iv' }],
    ['Bearer tok2', { encryptedData: 'steps@3', iv: 'iv' }],
  ]);
});

test('v2: decrypt(function): called after the first login, again after ERR_SESSION_EXPIRED', async () => {
  const s = fakeWx();
  let calls = 0;
  const source = async () => { calls++; return weRun(s); };
  const c = s.client();
  assert.equal((await c.decrypt(source)).key, 1);
  assert.equal(calls, 1, 'no token: logged in before the data was fetched');
  s.live.clear(); // the session ended on the server
  assert.equal((await c.decrypt(source)).key, 2);
  assert.equal(calls, 3);
  assert.deepEqual(s.logins, ['code1', 'code2']);
});

test('v2: decrypt({encryptedData, iv}): ERR_SESSION_KEY_STALE → logs in again and rejects, never resends', async () => {
  const s = fakeWx();
  const c = s.client();
  await c.login();
  s.rotate();
  const data = await weRun(s);
  const err = await c.decrypt(data).then(() => null, (e) => e);
  assert.ok(err, 'rejected');
  assert.equal(err.type, 'ERR_SESSION');
  assert.equal(err.reason, 'ERR_SESSION_KEY_STALE');
  assert.equal(err.statusCode, 401);
  assert.equal(err.retries, 1);
  assert.match(err.message, /get encryptedData and iv anew/);
  assert.equal(decrypts(s).length, 1, 'the stale data is not resent');
  assert.deepEqual(s.logins, ['code1', 'code2'], 'logged in again');
  assert.equal(c.token(), 'tok2');
  // Data fetched now is under the new session's key.
  assert.equal((await c.decrypt(await weRun(s))).key, 3);
  assert.equal(s.logins.length, 2);
});

test('v2: decrypt: at most 3 re-logins; maxRetries 0 neither logs in again nor resends', async () => {
  const s = fakeWx();
  s.answer = (o) => (o.url.endsWith('/session/decrypt') ? envelope('ERR_SESSION_KEY_STALE', 401) : undefined);
  let calls = 0;
  const err = await s.client().decrypt(() => { calls++; return weRun(s); }).then(() => null, (e) => e);
  assert.equal(err.reason, 'ERR_SESSION_KEY_STALE');
  assert.equal(err.retries, 3);
  assert.equal(calls, 4);
  assert.equal(s.logins.length, 4, 'the first login and 3 more');

  const t = fakeWx();
  const c = t.client({ maxRetries: 0 });
  await c.login();
  t.rotate();
  const e0 = await c.decrypt(await weRun(t)).then(() => null, (e) => e);
  assert.equal(e0.reason, 'ERR_SESSION_KEY_STALE');
  assert.equal(e0.retries, 0);
  assert.equal(t.logins.length, 1);
  assert.equal(c.token(), null, 'the next call logs in');
});

test('v2: decrypt: the source failing rejects with its error; a decryption failure is ERR_API', async () => {
  const s = fakeWx();
  const c = s.client();
  const denied = { errMsg: 'getWeRunData:fail auth deny' };
  await assert.rejects(c.decrypt(() => Promise.reject(denied)), (e) => e === denied);
  assert.equal(decrypts(s).length, 0);
  const err = await c.decrypt({ encryptedData: 'steps@0', iv: 'iv' }).then(() => null, (e) => e);
  assert.equal(err.type, 'ERR_API');
  assert.equal(err.reason, 'wechat: bad padding');
  assert.equal(err.statusCode, 400);
  assert.deepEqual(decrypts(s).at(-1).data, { encryptedData: 'steps@0', iv: 'iv' }, 'only encryptedData and iv are sent');
});

test('v2: at most 3 re-logins, then the session error', async () => {
  const s = fakeWx();
  s.answer = () => envelope('ERR_SESSION_KEY_STALE', 401);
  const c = s.client();
  const err = await c.requestAsync({ url: BASE + '/x' }).then(() => null, (e) => e);
  assert.ok(err, 'rejected');
  assert.equal(err.type, 'ERR_SESSION');
  assert.equal(err.reason, 'ERR_SESSION_KEY_STALE');
  assert.equal(err.statusCode, 401);
  assert.equal(err.retries, 3);
  assert.equal(s.logins.length, 4, 'the first login and 3 more');
  assert.equal(paintRequests(s).length, 4, 'sent once and resent 3 times');
  assert.equal(c.token(), null, 'the refused token is forgotten');
});

test('v2: maxRetries 0 fails at the first refusal', async () => {
  const s = fakeWx();
  s.answer = () => envelope('ERR_SESSION_EXPIRED', 401);
  const err = await s.client({ maxRetries: 0 }).requestAsync({ url: BASE + '/x' }).then(() => null, (e) => e);
  assert.equal(err.retries, 0);
  assert.equal(paintRequests(s).length, 1);
});

test('v2: other session reasons fail at once and keep the token', async () => {
  const s = fakeWx();
  const c = s.client();
  await c.requestAsync({ url: BASE + '/x' });
  s.answer = () => envelope('ERR_BAD_REQUEST', 400);
  const err = await c.requestAsync({ url: BASE + '/x' }).then(() => null, (e) => e);
  assert.equal(err.reason, 'ERR_BAD_REQUEST');
  assert.equal(c.token(), 'tok1');
  assert.equal(s.logins.length, 1);
});

test('v2: a code WeChat refused is replaced by a fresh wx.login', async () => {
  const s = fakeWx();
  let refusals = 1;
  s.loginAnswer = () => (refusals-- > 0 ? envelope('ERR_SESSION_KEY_EXCHANGE_FAILED', 401) : undefined);
  const res = await s.client().requestAsync({ url: BASE + '/x' });
  assert.equal(res.data.code, 0);
  assert.deepEqual(s.logins, ['code1', 'code2']);
});

test('v2: a failed shared login fails every waiter with its error', async () => {
  const s = fakeWx({ loginDelay: 10 });
  s.loginAnswer = () => envelope('ERR_RATE_LIMITED', 429);
  const c = s.client();
  const results = await Promise.allSettled([1, 2, 3].map(() => c.requestAsync({ url: BASE + '/x' })));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  for (const r of results) assert.equal(r.reason.reason, 'ERR_RATE_LIMITED');
  assert.equal(s.logins.length, 1);
  assert.equal(paintRequests(s).length, 0);
});

test('v2: wx.login failing is ERR_WX_LOGIN_FAILED', async () => {
  const s = fakeWx();
  s.wx.login = (o) => o.fail({ errMsg: 'login:fail' });
  const err = await s.client().requestAsync({ url: BASE + '/x' }).then(() => null, (e) => e);
  assert.equal(err.type, 'ERR_WX_LOGIN_FAILED');
  assert.equal(s.requests.length, 0);
});

test('v2: a network failure is ERR_REQUEST_FAILED and keeps the token', async () => {
  const s = fakeWx();
  const c = s.client();
  await c.requestAsync({ url: BASE + '/x' });
  s.answer = () => new Error('down');
  const err = await c.requestAsync({ url: BASE + '/x' }).then(() => null, (e) => e);
  assert.equal(err.type, 'ERR_REQUEST_FAILED');
  assert.equal(c.token(), 'tok1');
});

test('v2: uploadFile carries the token, recovers from expiry, and profile() uses it', async () => {
  const s = fakeWx();
  s.storage.set(wxsession.DEFAULT_STORAGE_KEY, 'gone'); // not live: the first upload is refused
  s.answer = (o) => (o.url.endsWith('/session/profile') && o.header.Authorization === 'Bearer tok1'
    ? success({ nickName: o.formData ? o.formData.nickName : o.data.nickName, avatarUrl: o.filePath ? '/applet/session/avatars/h.png' : '', hasPhone: false })
    : undefined);
  const c = s.client();
  const got = await c.profile({ nickName: '小明', avatar: 'wxfile://tmp/avatar.png' });
  assert.deepEqual(got, { nickName: '小明', avatarUrl: '/applet/session/avatars/h.png', hasPhone: false });
  assert.equal(s.uploads.length, 2, 'refused, then resent after a login');
  assert.deepEqual(s.uploads.map((u) => u.header.Authorization), ['Bearer gone', 'Bearer tok1']);
  const u = s.uploads[1];
  assert.equal(u.url, BASE + '/session/profile');
  assert.equal(u.name, 'avatar');
  assert.equal(u.filePath, 'wxfile://tmp/avatar.png');
  assert.deepEqual(u.formData, { nickName: '小明' });
  // Without an avatar, profile() sends JSON.
  const named = await c.profile({ nickName: 'n2' });
  assert.equal(named.nickName, 'n2');
  assert.deepEqual(s.requests.at(-1).data, { nickName: 'n2' });
});

test('v2: downloadFile carries the token, reads a 401 envelope from the file, logs in again and resends', async () => {
  const s = fakeWx();
  const c = s.client();
  await c.login();
  s.live.clear(); // the server forgot the session: the image answers 401 ERR_SESSION_EXPIRED, in a file
  const url = BASE + '/session/paints/image?id=a&w=250';
  const res = await c.downloadFileAsync({ url, header: { 'If-None-Match': '"e1"' } });
  assert.equal(res.statusCode, 200);
  assert.equal(s.files.get(res.tempFilePath), 'PNG');
  assert.deepEqual(s.downloads.map((d) => d.header.Authorization), ['Bearer tok1', 'Bearer tok2']);
  assert.equal(s.downloads[1].header['If-None-Match'], '"e1"', 'the caller\'s headers are kept');
  assert.equal(s.downloads[1].url, url);
  assert.deepEqual(s.logins, ['code1', 'code2']);
  assert.equal(c.token(), 'tok2');
});

test('v2: downloadFile gives up after 3 re-logins; other answers go to the caller as they are', async () => {
  const s = fakeWx();
  s.answer = (o) => (o.url.includes('/image') ? envelope('ERR_SESSION_EXPIRED', 401) : undefined);
  const c = s.client();
  await assert.rejects(c.downloadFileAsync({ url: BASE + '/session/paints/image?id=a' }), (err) => {
    assert.equal(err.type, 'ERR_SESSION');
    assert.equal(err.reason, 'ERR_SESSION_EXPIRED');
    assert.equal(err.statusCode, 401);
    return true;
  });
  assert.equal(s.downloads.length, 4);
  s.answer = () => ({ statusCode: 404, data: { code: -1, msg: 'fail', error: { reason: 'not found' } }, header: {} });
  const res = await c.downloadFileAsync({ url: BASE + '/session/paints/image?id=gone' });
  assert.equal(res.statusCode, 404);
  assert.deepEqual(res.data.error, { reason: 'not found' }, 'the error body is read from the file');
  s.answer = () => ({ statusCode: 304, data: {}, header: {} });
  assert.equal((await c.downloadFileAsync({ url: BASE + '/session/paints/image?id=a' })).statusCode, 304);
  s.answer = () => new Error('offline');
  await assert.rejects(c.downloadFileAsync({ url: BASE + '/session/paints/image?id=a' }), { type: 'ERR_REQUEST_FAILED' });
  // With callbacks, as wx.downloadFile.
  s.answer = () => undefined;
  const got = await new Promise((resolve) => {
    const seen = [];
    c.downloadFile({ url: BASE + '/session/paints/image?id=a', success: (r) => seen.push(r.statusCode), complete: () => resolve(seen) });
  });
  assert.deepEqual(got, [200]);
});

test('v2: uploadFile with callbacks: success then complete', async () => {
  const s = fakeWx();
  const calls = [];
  await new Promise((resolve) => s.client().uploadFile({
    url: BASE + '/up', filePath: 'f', name: 'file',
    success: (res) => calls.push(['success', typeof res.data]),
    fail: (e) => calls.push(['fail', e.message]),
    complete: () => { calls.push(['complete']); resolve(); },
  }));
  assert.deepEqual(calls, [['success', 'string'], ['complete']]);
});

test('v2: API failures of the helpers are ERR_API with the reason', async () => {
  const s = fakeWx();
  s.answer = (o) => (o.url.endsWith('/phone') ? { statusCode: 400, data: { code: -1, msg: 'fail', error: { reason: 'phone code is invalid' } }, header: {} } : undefined);
  const c = s.client();
  const err = await c.bindPhone('bad').then(() => null, (e) => e);
  assert.equal(err.type, 'ERR_API');
  assert.equal(err.reason, 'phone code is invalid');
  assert.equal(err.statusCode, 400);
  s.answer = () => undefined;
  const phone = await c.bindPhone('good');
  assert.equal(phone.purePhoneNumber, '13812345678');
  assert.deepEqual(s.requests.at(-1).data, { code: 'good' });
});

test('v2: logout ends the session on the server and forgets the token', async () => {
  for (const [all, url] of [[false, '/session/logout'], [true, '/session/logout?all=1']]) {
    const s = fakeWx();
    const c = s.client();
    await c.requestAsync({ url: BASE + '/x' });
    await c.logout({ all });
    const req = s.requests.at(-1);
    assert.equal(req.url, BASE + url);
    assert.equal(req.header.Authorization, 'Bearer tok1');
    assert.equal(c.token(), null);
    assert.equal(s.storage.has(wxsession.DEFAULT_STORAGE_KEY), false);
    assert.equal(s.live.has('tok1'), false);
    // The next request logs in anew.
    await c.requestAsync({ url: BASE + '/x' });
    assert.equal(s.logins.length, 2);
  }
});

test('v2: logout without a session sends nothing; with a dead one it still succeeds', async () => {
  const s = fakeWx();
  await s.client().logout();
  assert.equal(s.requests.length, 0);
  s.storage.set(wxsession.DEFAULT_STORAGE_KEY, 'dead');
  await s.client().logout();
  assert.equal(s.requests.length, 1);
});

test('v2: a storage that refuses writes still keeps the token for this run', async () => {
  const s = fakeWx();
  s.wx.setStorageSync = () => { throw new Error('quota'); };
  const c = s.client();
  await c.requestAsync({ url: BASE + '/x' });
  await c.requestAsync({ url: BASE + '/x' });
  assert.equal(s.logins.length, 1);
});

test('v2: configure makes the default client v2; configure() goes back to v1', async () => {
  const s = fakeWx();
  global.wx = s.wx;
  try {
    wxsession.configure({ protocol: 'v2', base: BASE });
    assert.equal(wxsession.getClient().protocol, 'v2');
    const res = await wxsession.requestAsync({ url: BASE + '/x' });
    assert.equal(res.data.code, 0);
    assert.equal(paintRequests(s)[0].header.Authorization, 'Bearer tok1');
    wxsession.configure();
    assert.equal(wxsession.getClient().protocol, 'v1');
  } finally {
    wxsession.configure();
    delete global.wx;
  }
});

test('createClient refuses an unknown protocol and a v2 platform without login', () => {
  assert.throws(() => wxsession.createClient({ protocol: 'v3', platform: {} }), /protocol/);
  assert.throws(() => wxsession.createClient({ protocol: 'v2', platform: { request() {} } }), /login and request/);
});
