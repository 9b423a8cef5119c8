// client.decrypt (v2) against a real yibi and its WeChat simulator, where
// every wx.login gives the user a new session_key, as WeChat may. The data
// comes from the simulator's wx.getWeRunData (POST /wechat/sim/werun),
// encrypted under the user's current key. A second login of the user (their
// other device) changes that key behind the first session's back: the
// server then cannot open data fetched afterwards with the first session's
// key, and checksession tells it WeChat no longer accepts that key, so it
// answers 401 ERR_SESSION_KEY_STALE.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import wxsession from '../miniprogram/lib/wxsession.js';
import { createSimPlatform } from '../web/simplatform.js';
import { startYibi } from './yibi.js';

test('decrypt against a real yibi: a stale session_key', async (t) => {
  const srv = await startYibi(t);
  if (!srv) return;
  const run = crypto.randomBytes(4).toString('hex');

  // device makes a v2 client for user on its own platform (its own token
  // storage), counting its wx.login calls and keeping its decrypt requests
  // and the server's answers to them (the session reason, or 'ok').
  const device = (user) => {
    const p = createSimPlatform({ base: srv.url, user });
    const d = { logins: 0, decrypts: [], answers: [] };
    const login = p.login;
    p.login = () => { d.logins++; return login(); };
    const request = p.request;
    p.request = (o) => {
      if (!o.url.endsWith('/session/decrypt')) return request(o);
      d.decrypts.push(o);
      return request(o).then((res) => {
        d.answers.push(res.data.code === 0 ? 'ok' : res.data.reason || JSON.stringify(res.data));
        return res;
      });
    };
    d.client = wxsession.createClient({ protocol: 'v2', platform: p, base: srv.url + '/applet' });
    // wx.getWeRunData, from the simulator.
    d.weRun = async () => {
      const res = await request({ url: '/wechat/sim/werun', method: 'POST', data: { user } });
      assert.equal(res.statusCode, 200, JSON.stringify(res.data));
      return { encryptedData: res.data.encryptedData, iv: res.data.iv };
    };
    return d;
  };
  const isWeRun = (got) => {
    assert.ok(Array.isArray(got.stepInfoList), JSON.stringify(got));
    assert.equal(got.stepInfoList.length, 31);
    assert.equal(got.watermark, undefined, 'the server drops the watermark');
  };

  await t.test('data under the session’s key decrypts', async () => {
    const phone = device('walker-' + run);
    await phone.client.login();
    isWeRun(await phone.client.decrypt(await phone.weRun()));
    assert.equal(phone.logins, 1);
  });

  await t.test('a function: logs in again, fetches the data again and decrypts it', async () => {
    const user = 'runner-' + run;
    const phone = device(user);
    await phone.client.login();
    await device(user).client.login(); // the user's other device: a new session_key
    let calls = 0;
    const got = await phone.client.decrypt(() => { calls++; return phone.weRun(); });
    isWeRun(got);
    assert.equal(calls, 2, 'fetched once per attempt');
    assert.equal(phone.logins, 2, 'one login again');
    assert.deepEqual(phone.answers, ['ERR_SESSION_KEY_STALE', 'ok']);
    assert.notEqual(phone.decrypts[0].data.encryptedData, phone.decrypts[1].data.encryptedData, 'fresh data resent');
  });

  await t.test('an object: logs in again, then rejects with ERR_SESSION_KEY_STALE', async () => {
    const user = 'jogger-' + run;
    const phone = device(user);
    await phone.client.login();
    await device(user).client.login();
    const stale = await phone.weRun(); // under the other device's key
    const err = await phone.client.decrypt(stale).then(() => null, (e) => e);
    assert.ok(err, 'rejected');
    assert.equal(err.type, 'ERR_SESSION', err.message);
    assert.equal(err.reason, 'ERR_SESSION_KEY_STALE');
    assert.equal(err.statusCode, 401);
    assert.match(err.message, /get encryptedData and iv anew/);
    assert.deepEqual(phone.answers, ['ERR_SESSION_KEY_STALE'], 'the stale data is not resent');
    assert.equal(phone.logins, 2, 'logged in again');
    // Data fetched now is under the new login's key: it decrypts, with no further login.
    isWeRun(await phone.client.decrypt(await phone.weRun()));
    assert.equal(phone.logins, 2);
  });
});
