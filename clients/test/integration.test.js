// The SDK against a real yibi: logs in through the WeChat simulator and
// uses the paint API, as the browser app does.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import wxsession from '../miniprogram/lib/wxsession.js';
import { createSimPlatform, listUsers } from '../web/simplatform.js';
import actions from '../miniprogram/lib/actions.js';
import { startYibi } from './yibi.js';

const paintsURL = (name) => '/applet/session/paints/' + name;

test('SDK against a real yibi', async (t) => {
  const srv = await startYibi(t);
  if (!srv) return;
  const base = srv.url;
  const run = crypto.randomBytes(4).toString('hex');
  const client = (user, wrap = (p) => p) => {
    const platform = wrap(createSimPlatform({ base, user }));
    platform.logins = 0;
    const login = platform.login;
    platform.login = () => { platform.logins++; return login(); };
    return { c: wxsession.createClient({ platform }), platform };
  };
  const call = async (c, name, data) => {
    const res = await c.requestAsync({ url: paintsURL(name), method: data ? 'POST' : 'GET', data });
    return res.data;
  };

  const alice = client('alice-' + run);
  const id = crypto.randomUUID();
  const drawing = actions.serialize(actions.strokeActions([[10, 10], [100, 120]], '#FF0000'));

  await t.test('first list logs in and is empty', async () => {
    const body = await call(alice.c, 'list');
    assert.deepEqual(body, { code: 0, msg: 'success', data: [] });
    assert.equal(alice.platform.logins, 1);
  });

  await t.test('save then list returns the drawing', async () => {
    assert.equal((await call(alice.c, 'save', { id, actions: drawing })).code, 0);
    const body = await call(alice.c, 'list');
    assert.deepEqual(body.data, [{ id, actions: drawing }]);
    assert.equal(alice.platform.logins, 1, 'later requests reuse the session');
  });

  await t.test('form-encoded save (wx.request with that content type) works', async () => {
    const res = await alice.c.requestAsync({
      url: paintsURL('save'), method: 'POST',
      header: { 'content-type': 'application/x-www-form-urlencoded' },
      data: { id, actions: drawing },
    });
    assert.equal(res.data.code, 0, JSON.stringify(res.data));
  });

  await t.test('another user does not see it', async () => {
    const bob = client('bob-' + run);
    assert.deepEqual((await call(bob.c, 'list')).data, []);
    // Whatever bob's delete answers (the 2016 server said success for no
    // match), alice's drawing must survive it.
    await call(bob.c, 'delete', { id });
    assert.equal((await call(alice.c, 'list')).data.length, 1, 'bob deleted alice\'s drawing');
  });

  await t.test('the simulator lists the users', async () => {
    const users = await listUsers({ base });
    const names = users.map((u) => u.user);
    assert.ok(names.includes('alice-' + run), `got ${names}`);
  });

  await t.test('an unknown code is ERR_SESSION_EXPIRED and the SDK logs in again', async () => {
    let spoil = true;
    const carol = client('carol-' + run, (p) => ({
      ...p,
      request: (o) => {
        if (spoil && !o.header['X-WX-RawData'] && o.header['X-WX-Code']) {
          spoil = false;
          o = { ...o, header: { ...o.header, 'X-WX-Code': 'f'.repeat(32) } };
        }
        return p.request(o);
      },
    }));
    await call(carol.c, 'list');
    const body = await call(carol.c, 'list');
    assert.equal(body.code, 0);
    assert.equal(spoil, false, 'the spoiled request was sent');
    assert.equal(carol.platform.logins, 2);
  });

  await t.test('a tampered signature fails with ERR_UNTRUSTED_RAW_DATA', async () => {
    const dave = client('dave-' + run, (p) => ({
      ...p,
      getUserInfo: async () => ({ ...(await p.getUserInfo()), signature: '0'.repeat(40) }),
    }));
    await assert.rejects(call(dave.c, 'list'), { type: 'ERR_SESSION', reason: 'ERR_UNTRUSTED_RAW_DATA' });
  });

  await t.test('no session: the paint API refuses', async () => {
    const res = await fetch(base + paintsURL('list'));
    const body = await res.json();
    assert.equal(body.code, -1);
  });

  await t.test('delete removes it', async () => {
    assert.equal((await call(alice.c, 'delete', { id })).code, 0);
    assert.deepEqual((await call(alice.c, 'list')).data, []);
  });
});
