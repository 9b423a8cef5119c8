/*
 * wxsession: the client half of the Yibi session protocol, for WeChat mini
 * programs, browsers and Node. Two modes: v1, the 2016 X-WX-Code /
 * X-WX-RawData / X-WX-Signature headers (the default, for 2016 apps), and
 * v2 (createClient({protocol: 'v2'})): wx.login alone, POST
 * {base}/session/login, then `Authorization: Bearer <token>`, the token
 * kept in storage so it survives a restart (spec/protocol-v2.md).
 *
 * An ES module, one source for every runtime: browsers and Node load it as
 * is, and WeChat DevTools compiles it to the mini program's CommonJS (the
 * project's "es6" setting), as it does every page. It sets no globals.
 */

// The key that marks an answer as the session layer's error envelope.
var MAGIC = 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';

var HEADER_CODE = 'X-WX-Code';
var HEADER_RAW_DATA = 'X-WX-RawData';
var HEADER_SIGNATURE = 'X-WX-Signature';

var ERR_SESSION_EXPIRED = 'ERR_SESSION_EXPIRED';
var ERR_SESSION_KEY_EXCHANGE_FAILED = 'ERR_SESSION_KEY_EXCHANGE_FAILED';
var ERR_UNTRUSTED_RAW_DATA = 'ERR_UNTRUSTED_RAW_DATA';
var ERR_SESSION_KEY_STALE = 'ERR_SESSION_KEY_STALE';

var HEADER_AUTHORIZATION = 'Authorization';
// Where a v2 client keeps its token unless told otherwise.
var DEFAULT_STORAGE_KEY = 'wxsession.token';

// Error types (err.type) passed to fail / used to reject.
var ERR_WX_LOGIN_FAILED = 'ERR_WX_LOGIN_FAILED';
var ERR_WX_GET_USER_INFO = 'ERR_WX_GET_USER_INFO';
var ERR_REQUEST_FAILED = 'ERR_REQUEST_FAILED';
var ERR_SESSION = 'ERR_SESSION';
// A v2 helper (me, profile, bindPhone, decrypt, login) got an answer that
// is not a success envelope: {"code": -1, "error": {"reason": …}} or no JSON.
var ERR_API = 'ERR_API';

function makeError(type, message, extra) {
  var err = new Error(message);
  err.name = 'WxSessionError';
  err.type = type;
  err.reason = null;
  if (extra) {
    for (var k in extra) {
      if (Object.prototype.hasOwnProperty.call(extra, k)) err[k] = extra[k];
    }
  }
  return err;
}

function errMsgOf(e) {
  if (!e) return 'unknown error';
  if (typeof e === 'string') return e;
  return e.errMsg || e.message || String(e);
}

// envelopeOf returns the session error envelope in a response, or null.
// The body is read whatever the HTTP status: the 2016 server sent
// envelopes with 200, Yibi may send them with 401 or 503.
function envelopeOf(res) {
  var data = res && res.data;
  if (typeof data === 'string') {
    if (data.indexOf(MAGIC) < 0) return null;
    try { data = JSON.parse(data); } catch (e) { return null; }
  }
  if (data && typeof data === 'object' && data[MAGIC]) return data;
  return null;
}

function retryable(reason) {
  return reason === ERR_SESSION_EXPIRED || reason === ERR_SESSION_KEY_EXCHANGE_FAILED;
}

function sessionError(env, res, retries) {
  var reason = typeof env.reason === 'string' && env.reason ? env.reason : null;
  var inner = env.error && typeof env.error === 'object' ? env.error : {};
  return makeError(ERR_SESSION, (reason || 'session error') + (inner.message ? ': ' + inner.message : ''), {
    reason: reason,
    statusCode: res && res.statusCode,
    data: env,
    retries: retries
  });
}

var CALLBACKS = { success: 1, fail: 1, complete: 1 };

// buildOptions copies the caller's wx.request options without callbacks
// and merges the caller's headers with the session headers (the 2016
// client dropped the caller's headers). A caller header that spells a
// session header in another case is replaced, not duplicated.
function buildOptions(options, sessionHeaders) {
  var out = {};
  for (var k in options) {
    if (Object.prototype.hasOwnProperty.call(options, k) && !CALLBACKS[k]) out[k] = options[k];
  }
  var header = {};
  var own = {};
  for (var s in sessionHeaders) own[s.toLowerCase()] = true;
  var given = options.header || {};
  for (var h in given) {
    if (Object.prototype.hasOwnProperty.call(given, h) && !own[h.toLowerCase()]) header[h] = given[h];
  }
  for (var n in sessionHeaders) header[n] = sessionHeaders[n];
  out.header = header;
  return out;
}

function callSafely(fn, arg) {
  if (typeof fn !== 'function') return;
  try {
    fn(arg);
  } catch (e) {
    // A throwing callback must not turn success into fail; surface it
    // like an uncaught error in the caller's own code.
    setTimeout(function () { throw e; }, 0);
  }
}

// wxLogin resolves with a wx.login code or rejects with ERR_WX_LOGIN_FAILED.
function wxLogin(platform) {
  return Promise.resolve()
      .then(function () { return platform.login(); })
      .then(function (r) {
        if (!r || !r.code) throw makeError(ERR_WX_LOGIN_FAILED, 'login gave no code: ' + errMsgOf(r));
        return r.code;
      }, function (e) {
        throw makeError(ERR_WX_LOGIN_FAILED, 'login failed: ' + errMsgOf(e), { cause: e });
      });
}

// sendVia sends options with the session headers through call
// (platform.request or uploadFile); no answer at all is ERR_REQUEST_FAILED.
function sendVia(call, options, headers) {
  return Promise.resolve()
    .then(function () { return call(buildOptions(options, headers)); })
    .then(function (res) { return res || {}; }, function (e) {
      throw makeError(ERR_REQUEST_FAILED, 'request failed: ' + errMsgOf(e), { cause: e });
    });
}

// withCallbacks turns a Promise API into wx's callback shape: success or
// fail, then complete, each exactly once, and no return value.
function withCallbacks(async) {
  return function (options) {
    options = options || {};
    async(options).then(function (res) {
      try { callSafely(options.success, res); } finally { callSafely(options.complete); }
    }, function (err) {
      try { callSafely(options.fail, err); } finally { callSafely(options.complete); }
    });
  };
}

/**
 * createClient makes a session client.
 * opts.platform: { login() -> Promise<{code}>, getUserInfo() ->
 *   Promise<{rawData, signature, userInfo?}>, request(opts) ->
 *   Promise<{statusCode, data, header}> (rejects on network failure) }.
 * opts.maxRetries: re-logins allowed per request (default 3).
 * opts.protocol: 'v1' (default) or 'v2'. A v2 platform needs login and
 *   request, and uploadFile, downloadFile and storage ({get, set, remove},
 *   synchronous) to upload, download and keep the token; opts.base is the server's URL and
 *   route base path (default '/applet'), opts.storage / opts.storageKey
 *   (default 'wxsession.token') where the token lives, opts.onLogin(answer)
 *   runs after every login with {token, expiresIn, isNew, user}.
 */
function createClient(opts) {
  opts = opts || {};
  if (opts.protocol === 'v2') return createV2Client(opts);
  if (opts.protocol != null && opts.protocol !== 'v1') {
    throw new TypeError('wxsession.createClient: protocol is v1 or v2, not ' + opts.protocol);
  }
  var platform = opts.platform;
  if (!platform || typeof platform.login !== 'function' || typeof platform.getUserInfo !== 'function' ||
      typeof platform.request !== 'function') {
    throw new TypeError('wxsession.createClient: platform needs login, getUserInfo and request');
  }
  var maxRetries = typeof opts.maxRetries === 'number' && opts.maxRetries >= 0 ? opts.maxRetries : 3;

  var code = null;     // the code the server accepted: our session id
  var pending = null;  // Promise settled when the current login ends

  function login() {
    return wxLogin(platform)
      .then(function (c) {
        return Promise.resolve()
          .then(function () { return platform.getUserInfo(); })
          .then(function (u) {
            if (!u || typeof u.rawData !== 'string' || typeof u.signature !== 'string') {
              throw makeError(ERR_WX_GET_USER_INFO, 'getUserInfo gave no rawData/signature: ' + errMsgOf(u));
            }
            return { code: c, rawData: u.rawData, signature: u.signature };
          }, function (e) {
            if (e && e.type === ERR_WX_GET_USER_INFO) throw e;
            throw makeError(ERR_WX_GET_USER_INFO, 'getUserInfo failed: ' + errMsgOf(e), { cause: e });
          });
      });
  }

  function send(options, headers) { return sendVia(platform.request, options, headers); }

  function requestAsync(options) {
    options = options || {};
    var retries = 0;

    function retry(err) {
      if (retries >= maxRetries) throw err;
      retries++;
      return attempt();
    }

    function attempt() {
      if (code) return withCode(code);
      // Someone else is logging in: wait for their outcome, share it.
      if (pending) return pending.then(attempt);
      return lead();
    }

    function withCode(used) {
      return send(options, (function () { var h = {}; h[HEADER_CODE] = used; return h; })())
        .then(function (res) {
          var env = envelopeOf(res);
          if (!env) return res;
          var err = sessionError(env, res, retries);
          if (!retryable(env.reason)) throw err;
          // Forget the code only if no newer login replaced it meanwhile.
          if (code === used) code = null;
          return retry(err);
        });
    }

    // lead logs in and sends this request with all three headers; the
    // login ends when the server accepts the code (any non-envelope
    // answer), so concurrent requests wait for it and then send only
    // X-WX-Code instead of exchanging the same code twice.
    function lead() {
      var settle;
      pending = new Promise(function (resolve, reject) { settle = { resolve: resolve, reject: reject }; });
      pending.catch(function () {});
      function loop() {
        return login().then(function (creds) {
          var h = {};
          h[HEADER_CODE] = creds.code;
          h[HEADER_RAW_DATA] = encodeURIComponent(creds.rawData);
          h[HEADER_SIGNATURE] = creds.signature;
          return send(options, h).then(function (res) {
            var env = envelopeOf(res);
            if (!env) {
              code = creds.code;
              return res;
            }
            var err = sessionError(env, res, retries);
            if (!retryable(env.reason) || retries >= maxRetries) throw err;
            retries++;
            return loop();
          });
        });
      }
      return loop().then(function (res) {
        pending = null;
        settle.resolve();
        return res;
      }, function (err) {
        pending = null;
        settle.reject(err);
        throw err;
      });
    }

    return attempt();
  }

  return {
    protocol: 'v1',
    request: withCallbacks(requestAsync),
    requestAsync: requestAsync,
    /** clear forgets the session code; the next request logs in again. */
    clear: function () { code = null; },
    /** code returns the current session code, or null. */
    code: function () { return code; }
  };
}

function retryableV2(reason) {
  return reason === ERR_SESSION_EXPIRED || reason === ERR_SESSION_KEY_STALE;
}

// bodyOf reads a JSON answer: wx.request parses it, wx.uploadFile does not.
function bodyOf(res) {
  var data = res && res.data;
  if (typeof data === 'string') {
    try { return JSON.parse(data); } catch (e) { return data; }
  }
  return data;
}

// dataOf unwraps the success envelope {"code": 0, "data": …} or throws
// ERR_API with the server's reason.
function dataOf(what, res) {
  var body = bodyOf(res);
  if (body && typeof body === 'object' && body.code === 0) return body.data;
  var reason = body && body.error && typeof body.error.reason === 'string' ? body.error.reason : null;
  throw makeError(ERR_API, what + ': ' + (reason || 'HTTP ' + (res && res.statusCode)), {
    reason: reason,
    statusCode: res && res.statusCode,
    data: body
  });
}

function memoryStorage() {
  var m = {};
  return {
    get: function (k) { return Object.prototype.hasOwnProperty.call(m, k) ? m[k] : ''; },
    set: function (k, v) { m[k] = v; },
    remove: function (k) { delete m[k]; }
  };
}

// createV2Client: see createClient. One token per client, kept in
// storage; one login at a time, shared by every request that needs it.
function createV2Client(opts) {
  var platform = opts.platform;
  if (!platform || typeof platform.login !== 'function' || typeof platform.request !== 'function') {
    throw new TypeError('wxsession.createClient: a v2 platform needs login and request');
  }
  var maxRetries = typeof opts.maxRetries === 'number' && opts.maxRetries >= 0 ? opts.maxRetries : 3;
  var base = (opts.base == null ? '/applet' : String(opts.base)).replace(/\/+$/, '');
  var storage = opts.storage || platform.storage || memoryStorage();
  var storageKey = opts.storageKey || DEFAULT_STORAGE_KEY;
  var onLogin = opts.onLogin;

  var token = readToken();
  var pending = null; // the login in flight, shared

  function readToken() {
    try {
      var v = storage.get(storageKey);
      return typeof v === 'string' && v ? v : null;
    } catch (e) {
      return null;
    }
  }

  // writeToken keeps the token in memory whatever happens, and in storage
  // when storage takes it (a full storage costs a login after a restart,
  // nothing more).
  function writeToken(t) {
    token = t;
    try {
      if (t) storage.set(storageKey, t);
      else storage.remove(storageKey);
    } catch (e) { /* kept in memory */ }
  }

  function url(name) { return base + '/session/' + name; }

  function bearer(t) {
    var h = {};
    h[HEADER_AUTHORIZATION] = 'Bearer ' + t;
    return h;
  }

  function request(o) { return platform.request(o); }

  function uploadFile(o) {
    if (typeof platform.uploadFile !== 'function') throw new TypeError('wxsession: the platform has no uploadFile');
    return platform.uploadFile(o);
  }

  function downloadFile(o) {
    if (typeof platform.downloadFile !== 'function') throw new TypeError('wxsession: the platform has no downloadFile');
    return platform.downloadFile(o);
  }

  // login: wx.login, then POST {base}/session/login {code}. Concurrent
  // callers share one; the token is stored before anyone resumes.
  function login() {
    if (pending) return pending;
    var p = wxLogin(platform)
      .then(function (code) {
        return sendVia(request, { url: url('login'), method: 'POST', header: { 'content-type': 'application/json' }, data: { code: code } }, {});
      })
      .then(function (res) {
        var env = envelopeOf(res);
        if (env) throw sessionError(env, res, 0);
        var d = dataOf('login', res);
        if (!d || typeof d.token !== 'string' || !d.token) {
          throw makeError(ERR_API, 'login: no token in the answer', { statusCode: res.statusCode, data: bodyOf(res) });
        }
        writeToken(d.token);
        callSafely(onLogin, d);
        return d;
      });
    pending = p;
    var done = function () { if (pending === p) pending = null; };
    p.then(done, done);
    return p;
  }

  // authorized sends the options build() gives (or a Promise of them)
  // through call (request, uploadFile or downloadFile) with the token,
  // logging in first when there is none, and again (then building and
  // sending anew) when the server answers ERR_SESSION_EXPIRED or
  // ERR_SESSION_KEY_STALE: at most maxRetries times. build runs once per
  // attempt, after any login. refused(err), when given, is asked after each
  // such answer whether to go on; when it says no, the client still logs in
  // again (so that what the caller fetches next matches the server's
  // session) and then rejects with err.
  function authorized(call, build, refused) {
    var retries = 0;

    function ensureToken() {
      return token ? Promise.resolve(token) : login().then(function (d) { return d.token; });
    }

    function attempt() {
      return ensureToken().then(function (used) {
        return Promise.resolve(build()).then(function (o) {
          return sendVia(call, o, bearer(used));
        }).then(function (res) {
          var env = envelopeOf(res);
          if (!env) return res;
          var err = sessionError(env, res, retries);
          if (!retryableV2(env.reason)) throw err;
          // Forget the token only if no newer login replaced it meanwhile.
          if (token === used) writeToken(null);
          if (retries >= maxRetries) throw err;
          retries++;
          if (refused && !refused(err)) {
            err.retries = retries;
            return ensureToken().then(function () { throw err; }, function (e) { e.retries = retries; throw e; });
          }
          return attempt();
        });
      }, loginFailed);
    }

    function loginFailed(err) {
      // WeChat refused the code (used, expired, risky): a fresh wx.login may pass.
      if (err.type === ERR_SESSION && err.reason === ERR_SESSION_KEY_EXCHANGE_FAILED && retries < maxRetries) {
        retries++;
        return attempt();
      }
      err.retries = retries;
      throw err;
    }
    return attempt();
  }

  function constant(options) {
    options = options || {};
    return function () { return options; };
  }

  function requestAsync(options) { return authorized(request, constant(options)); }
  function uploadFileAsync(options) { return authorized(uploadFile, constant(options)); }
  // downloadFileAsync: wx.downloadFile with the token and the same
  // recovery. The platform reads the body of an answer that is not 200 or
  // 304 into data (wx.downloadFile writes it to a file), so the session
  // envelope of a 401 is seen as it is for request.
  function downloadFileAsync(options) { return authorized(downloadFile, constant(options)); }

  function postJSON(name, data) {
    return requestAsync({ url: url(name), method: 'POST', header: { 'content-type': 'application/json' }, data: data })
      .then(function (res) { return dataOf(name, res); });
  }

  // decrypt posts {encryptedData, iv} for the server to open with the
  // session's session_key. source is that object, or a function giving it
  // (or a Promise of it), called once per attempt after any login the
  // attempt needs. ERR_SESSION_KEY_STALE means the data is under another
  // key than the session's, and a new login gives the server yet another
  // one (WeChat may change the key on each wx.login), so resending the same
  // data cannot succeed: a function is called again after the new login,
  // for data under the new key; a plain object fails with the error once
  // the client has logged in again, so that data the caller fetches next
  // decrypts. ERR_SESSION_EXPIRED is recovered from as for any request
  // (the server did not read the data), a function being called again.
  function decrypt(source) {
    var fetchData = typeof source === 'function' ? source : null;
    function build() {
      return Promise.resolve(fetchData ? fetchData() : source).then(function (d) {
        return {
          url: url('decrypt'), method: 'POST', header: { 'content-type': 'application/json' },
          data: { encryptedData: d && d.encryptedData, iv: d && d.iv }
        };
      });
    }
    function refused(err) {
      if (fetchData || err.reason !== ERR_SESSION_KEY_STALE) return true;
      err.message += '; logged in again: get encryptedData and iv anew (e.g. wx.getWeRunData) and decrypt those,' +
        ' or pass decrypt a function that gets them';
      return false;
    }
    return authorized(request, build, refused).then(function (res) { return dataOf('decrypt', res); });
  }

  return {
    protocol: 'v2',
    request: withCallbacks(requestAsync),
    requestAsync: requestAsync,
    uploadFile: withCallbacks(uploadFileAsync),
    uploadFileAsync: uploadFileAsync,
    downloadFile: withCallbacks(downloadFileAsync),
    downloadFileAsync: downloadFileAsync,
    login: login,
    /** logout ends the session on the server ({all: true}: every session of the user) and forgets the token. */
    logout: function (o) {
      var t = token;
      writeToken(null);
      if (!t) return Promise.resolve();
      var all = o && o.all;
      return sendVia(request, { url: url('logout') + (all ? '?all=1' : ''), method: 'POST' }, bearer(t))
        .then(function (res) {
          var env = envelopeOf(res);
          // An expired token is logged out already.
          if (env && env.reason !== ERR_SESSION_EXPIRED) throw sessionError(env, res, 0);
          if (!env) dataOf('logout', res);
        });
    },
    me: function () {
      return requestAsync({ url: url('me') }).then(function (res) { return dataOf('me', res); });
    },
    profile: function (p) {
      p = p || {};
      if (!p.avatar) return postJSON('profile', { nickName: p.nickName });
      var formData = {};
      if (p.nickName != null) formData.nickName = p.nickName;
      return uploadFileAsync({ url: url('profile'), filePath: p.avatar, name: 'avatar', formData: formData })
        .then(function (res) { return dataOf('profile', res); });
    },
    bindPhone: function (code) { return postJSON('phone', { code: code }); },
    decrypt: decrypt,
    clear: function () { writeToken(null); },
    token: function () { return token; }
  };
}

/** wxPlatform adapts the mini program's callback API `wx` to a platform. */
function wxPlatform(wx) {
  function call(name, options) {
    return new Promise(function (resolve, reject) {
      var o = {};
      for (var k in options) o[k] = options[k];
      o.success = resolve;
      o.fail = reject;
      wx[name](o);
    });
  }
  return {
    login: function () { return call('login', {}); },
    getUserInfo: function () { return call('getUserInfo', {}); },
    request: function (opts) { return call('request', opts); },
    uploadFile: function (opts) { return call('uploadFile', opts); },
    // downloadFile: wx.downloadFile, whose answer is a file whatever the
    // status; for an answer that is not 200 or 304 the file (a small JSON
    // error) is read into data, so the SDK sees a session envelope.
    downloadFile: function (opts) {
      return call('downloadFile', opts).then(function (res) {
        if (!res || res.statusCode === 200 || res.statusCode === 304 || !res.tempFilePath ||
            typeof wx.getFileSystemManager !== 'function') return res;
        return new Promise(function (resolve) {
          wx.getFileSystemManager().readFile({
            filePath: res.tempFilePath,
            encoding: 'utf8',
            success: function (r) {
              var data = r.data;
              try { data = JSON.parse(data); } catch (e) { /* not JSON: kept as text */ }
              res.data = data;
              resolve(res);
            },
            fail: function () { resolve(res); }
          });
        });
      });
    },
    // wx storage: it survives an app restart, so a v2 token does too.
    storage: {
      get: function (k) { return wx.getStorageSync(k); },
      set: function (k, v) { wx.setStorageSync(k, v); },
      remove: function (k) { wx.removeStorageSync(k); }
    }
  };
}

var defaultClient = null;
var defaultOptions = {};
function getDefault() {
  if (!defaultClient) {
    var o = {};
    for (var k in defaultOptions) o[k] = defaultOptions[k];
    if (!o.platform) {
      // The mini program hands `wx` to each module's scope, not always as
      // a property of the global object: look the identifier up first.
      var api = typeof wx !== 'undefined' ? wx : globalThis.wx;
      if (!api) throw new Error('wxsession: no global wx; use createClient with a platform');
      o.platform = wxPlatform(api);
    }
    defaultClient = createClient(o);
  }
  return defaultClient;
}

/** request: the 2016 client's drop-in, bound to the global wx. */
export function request(options) { return getDefault().request(options); }
/** requestAsync: like request, as a Promise, bound to the global wx. */
export function requestAsync(options) { return getDefault().requestAsync(options); }
/** clear forgets the default client's session. */
export function clear() { if (defaultClient) defaultClient.clear(); }
/** resetDefault drops the default client (tests, or a changed wx); its options stay. */
export function resetDefault() { defaultClient = null; }
/**
 * configure sets the default client's options (createClient's; platform
 * defaults to wxPlatform(wx)) and drops the current one: an app calls
 * configure({protocol: 'v2', base}) once, before its first request.
 * configure() goes back to v1.
 */
export function configure(options) { defaultOptions = options || {}; defaultClient = null; }
/** getClient returns the default client (v2 helpers: me, profile, logout …). */
export function getClient() { return getDefault(); }

export {
  MAGIC, HEADER_CODE, HEADER_RAW_DATA, HEADER_SIGNATURE, HEADER_AUTHORIZATION, DEFAULT_STORAGE_KEY,
  ERR_SESSION_EXPIRED, ERR_SESSION_KEY_EXCHANGE_FAILED, ERR_UNTRUSTED_RAW_DATA, ERR_SESSION_KEY_STALE,
  ERR_WX_LOGIN_FAILED, ERR_WX_GET_USER_INFO, ERR_REQUEST_FAILED, ERR_SESSION, ERR_API,
  createClient, wxPlatform,
};

export default {
  MAGIC, HEADER_CODE, HEADER_RAW_DATA, HEADER_SIGNATURE, HEADER_AUTHORIZATION, DEFAULT_STORAGE_KEY,
  ERR_SESSION_EXPIRED, ERR_SESSION_KEY_EXCHANGE_FAILED, ERR_UNTRUSTED_RAW_DATA, ERR_SESSION_KEY_STALE,
  ERR_WX_LOGIN_FAILED, ERR_WX_GET_USER_INFO, ERR_REQUEST_FAILED, ERR_SESSION, ERR_API,
  createClient, wxPlatform, request, requestAsync, clear, resetDefault, configure, getClient,
};
