import test from 'node:test';
import assert from 'node:assert/strict';
import wxsession from '../miniprogram/lib/wxsession.js';

const MAGIC = 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';

function envelope(reason, status = 200) {
  const data = { [MAGIC]: 1, error: { name: 'Error', message: 'x' } };
  if (reason) data.reason = reason;
  return { statusCode: status, data, header: {} };
}
const ok = (data = { code: 0, msg: 'success', data: {} }) => ({ statusCode: 200, data, header: {} });

// fakePlatform answers requests from a script of responses (or a function)
// and records every call.
function fakePlatform({ answers = [], loginDelay = 0, loginFail = false, userInfoFail = false } = {}) {
  const p = { logins: 0, userInfos: 0, requests: [] };
  p.login = () => new Promise((resolve, reject) => {
    p.logins++;
    const n = p.logins;
    setTimeout(() => (loginFail ? reject({ errMsg: 'login:fail' }) : resolve({ code: 'code' + n })), loginDelay);
  });
  p.getUserInfo = () => {
    p.userInfos++;
    if (userInfoFail) return Promise.reject({ errMsg: 'getUserInfo:fail auth deny' });
    return Promise.resolve({ rawData: '{"nickName":"小明 & co"}', signature: 'sig' });
  };
  p.request = (opts) => {
    p.requests.push(opts);
    const a = typeof answers === 'function' ? answers(opts, p.requests.length) : answers.shift();
    if (a instanceof Error || (a && a.errMsg)) return Promise.reject(a);
    return new Promise((resolve) => setTimeout(() => resolve(a || ok()), 1));
  };
  return p;
}

function headerNames(h) { return Object.keys(h).sort(); }

test('first request logs in and sends all three headers', async () => {
  const p = fakePlatform();
  const c = wxsession.createClient({ platform: p });
  const res = await c.requestAsync({ url: '/x' });
  assert.equal(res.data.code, 0);
  assert.equal(p.logins, 1);
  const h = p.requests[0].header;
  assert.deepEqual(headerNames(h), ['X-WX-Code', 'X-WX-RawData', 'X-WX-Signature']);
  assert.equal(h['X-WX-Code'], 'code1');
  assert.equal(h['X-WX-RawData'], encodeURIComponent('{"nickName":"小明 & co"}'));
  assert.equal(h['X-WX-Signature'], 'sig');
});

test('later requests send only X-WX-Code', async () => {
  const p = fakePlatform();
  const c = wxsession.createClient({ platform: p });
  await c.requestAsync({ url: '/a' });
  await c.requestAsync({ url: '/b' });
  assert.equal(p.logins, 1);
  assert.deepEqual(p.requests[1].header, { 'X-WX-Code': 'code1' });
});

test('concurrent first requests share one login', async () => {
  const p = fakePlatform({ loginDelay: 20 });
  const c = wxsession.createClient({ platform: p });
  await Promise.all([1, 2, 3, 4].map((i) => c.requestAsync({ url: '/' + i })));
  assert.equal(p.logins, 1, 'logins');
  assert.equal(p.userInfos, 1, 'getUserInfo calls');
  const full = p.requests.filter((r) => r.header['X-WX-RawData']);
  assert.equal(full.length, 1, 'requests carrying the login headers');
  for (const r of p.requests) assert.equal(r.header['X-WX-Code'], 'code1');
});

test('concurrent waiters fail with the shared login failure', async () => {
  const p = fakePlatform({ loginDelay: 5, answers: () => envelope('ERR_UNTRUSTED_RAW_DATA') });
  const c = wxsession.createClient({ platform: p });
  const results = await Promise.allSettled([c.requestAsync({ url: '/1' }), c.requestAsync({ url: '/2' })]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(results[1].reason.reason, 'ERR_UNTRUSTED_RAW_DATA');
  assert.equal(p.logins, 1);
});

for (const reason of ['ERR_SESSION_EXPIRED', 'ERR_SESSION_KEY_EXCHANGE_FAILED']) {
  test(`${reason} on a later request logs in again and resends`, async () => {
    const p = fakePlatform({ answers: [ok(), envelope(reason, 401), ok({ code: 0, msg: 'success', data: [1] })] });
    const c = wxsession.createClient({ platform: p });
    await c.requestAsync({ url: '/a' });
    const res = await c.requestAsync({ url: '/b', method: 'POST', data: { id: 1 } });
    assert.deepEqual(res.data.data, [1]);
    assert.equal(p.logins, 2);
    assert.equal(p.requests[2].header['X-WX-Code'], 'code2');
    assert.ok(p.requests[2].header['X-WX-RawData'], 'resend carries the login headers');
    assert.deepEqual(p.requests[2].data, { id: 1 });
    assert.equal(c.code(), 'code2');
  });
}

for (const [name, reason, status] of [
  ['ERR_UNTRUSTED_RAW_DATA', 'ERR_UNTRUSTED_RAW_DATA', 401],
  ['an envelope with no reason', undefined, 200],
  ['an unknown reason on a 503', 'ERR_SESSION_STORE_UNAVAILABLE', 503],
]) {
  test(`${name} fails without retrying`, async () => {
    const p = fakePlatform({ answers: [envelope(reason, status)] });
    const c = wxsession.createClient({ platform: p });
    await assert.rejects(c.requestAsync({ url: '/a' }), (err) => {
      assert.equal(err.type, 'ERR_SESSION');
      assert.equal(err.reason, reason || null);
      assert.equal(err.statusCode, status);
      return true;
    });
    assert.equal(p.requests.length, 1);
    assert.equal(c.code(), null);
  });
}

test('an unknown reason on a later request keeps the session', async () => {
  const p = fakePlatform({ answers: [ok(), envelope(undefined, 503), ok()] });
  const c = wxsession.createClient({ platform: p });
  await c.requestAsync({ url: '/a' });
  await assert.rejects(c.requestAsync({ url: '/b' }));
  await c.requestAsync({ url: '/c' });
  assert.equal(p.logins, 1);
  assert.deepEqual(p.requests[2].header, { 'X-WX-Code': 'code1' });
});

test('retry limit: the fourth expired answer fails', async () => {
  const p = fakePlatform({ answers: () => envelope('ERR_SESSION_EXPIRED') });
  const c = wxsession.createClient({ platform: p });
  await assert.rejects(c.requestAsync({ url: '/a' }), (err) => {
    assert.equal(err.reason, 'ERR_SESSION_EXPIRED');
    assert.equal(err.retries, 3);
    return true;
  });
  assert.equal(p.requests.length, 4, 'one try and three retries');
  assert.equal(p.logins, 4);
});

test('retry limit: the third retry may still succeed', async () => {
  const e = envelope('ERR_SESSION_KEY_EXCHANGE_FAILED');
  const p = fakePlatform({ answers: [e, e, e, ok()] });
  const c = wxsession.createClient({ platform: p });
  const res = await c.requestAsync({ url: '/a' });
  assert.equal(res.statusCode, 200);
  assert.equal(p.requests.length, 4);
});

test('maxRetries option is honoured', async () => {
  const p = fakePlatform({ answers: () => envelope('ERR_SESSION_EXPIRED') });
  const c = wxsession.createClient({ platform: p, maxRetries: 1 });
  await assert.rejects(c.requestAsync({ url: '/a' }));
  assert.equal(p.requests.length, 2);
});

test('network failure fails with ERR_REQUEST_FAILED', async () => {
  const p = fakePlatform({ answers: [{ errMsg: 'request:fail timeout' }] });
  const c = wxsession.createClient({ platform: p });
  await assert.rejects(c.requestAsync({ url: '/a' }), (err) => {
    assert.equal(err.type, 'ERR_REQUEST_FAILED');
    assert.match(err.message, /timeout/);
    return true;
  });
});

test('login and getUserInfo failures have their own types', async () => {
  const c1 = wxsession.createClient({ platform: fakePlatform({ loginFail: true }) });
  await assert.rejects(c1.requestAsync({ url: '/a' }), { type: 'ERR_WX_LOGIN_FAILED' });
  const c2 = wxsession.createClient({ platform: fakePlatform({ userInfoFail: true }) });
  await assert.rejects(c2.requestAsync({ url: '/a' }), { type: 'ERR_WX_GET_USER_INFO' });
});

test('non-2xx answers without an envelope are successes', async () => {
  const p = fakePlatform({ answers: [{ statusCode: 500, data: 'oops', header: {} }] });
  const c = wxsession.createClient({ platform: p });
  const res = await c.requestAsync({ url: '/a' });
  assert.equal(res.statusCode, 500);
  assert.equal(c.code(), 'code1', 'the session layer passed, so the login stands');
});

test('an envelope in a string body is still detected', async () => {
  const p = fakePlatform({ answers: [{ statusCode: 401, data: JSON.stringify(envelope('ERR_UNTRUSTED_RAW_DATA').data) }] });
  const c = wxsession.createClient({ platform: p });
  await assert.rejects(c.requestAsync({ url: '/a' }), { reason: 'ERR_UNTRUSTED_RAW_DATA' });
});

test('caller headers are kept and merged', async () => {
  const p = fakePlatform();
  const c = wxsession.createClient({ platform: p });
  await c.requestAsync({ url: '/a', header: { 'content-type': 'application/x-www-form-urlencoded', 'x-wx-code': 'stale' } });
  const h = p.requests[0].header;
  assert.equal(h['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(h['x-wx-code'], undefined, 'a caller copy of a session header is replaced');
  assert.equal(h['X-WX-Code'], 'code1');
  assert.equal(p.requests[0].success, undefined, 'callbacks are not passed to the platform');
});

test('callbacks: success then complete, exactly once', async () => {
  const p = fakePlatform();
  const c = wxsession.createClient({ platform: p });
  const calls = [];
  await new Promise((done) => {
    c.request({
      url: '/a',
      success: (res) => calls.push(['success', res.statusCode]),
      fail: () => calls.push(['fail']),
      complete: () => { calls.push(['complete']); setTimeout(done, 10); },
    });
  });
  assert.deepEqual(calls, [['success', 200], ['complete']]);
});

test('callbacks: fail then complete, exactly once', async () => {
  const p = fakePlatform({ answers: () => envelope('ERR_SESSION_EXPIRED') });
  const c = wxsession.createClient({ platform: p });
  const calls = [];
  await new Promise((done) => {
    c.request({
      url: '/a',
      success: () => calls.push(['success']),
      fail: (err) => calls.push(['fail', err.reason]),
      complete: () => { calls.push(['complete']); setTimeout(done, 10); },
    });
  });
  assert.deepEqual(calls, [['fail', 'ERR_SESSION_EXPIRED'], ['complete']]);
});

test('clear forgets the session', async () => {
  const p = fakePlatform();
  const c = wxsession.createClient({ platform: p });
  await c.requestAsync({ url: '/a' });
  c.clear();
  await c.requestAsync({ url: '/b' });
  assert.equal(p.logins, 2);
});

test('default request uses the global wx', async () => {
  const seen = [];
  global.wx = {
    login: (o) => o.success({ errMsg: 'login:ok', code: 'wxcode' }),
    getUserInfo: (o) => o.success({ rawData: '{}', signature: 's' }),
    request: (o) => { seen.push(o.header); setTimeout(() => o.success({ statusCode: 200, data: { code: 0 } }), 1); },
  };
  try {
    wxsession.resetDefault();
    const res = await new Promise((resolve, reject) => wxsession.request({ url: '/a', success: resolve, fail: reject }));
    assert.equal(res.data.code, 0);
    await wxsession.requestAsync({ url: '/b' });
    assert.equal(seen[0]['X-WX-Code'], 'wxcode');
    assert.deepEqual(seen[1], { 'X-WX-Code': 'wxcode' });
  } finally {
    delete global.wx;
    wxsession.resetDefault();
  }
});

test('createClient rejects a platform without its methods', () => {
  assert.throws(() => wxsession.createClient({ platform: {} }), TypeError);
});
