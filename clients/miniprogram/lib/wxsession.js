/*
 * wxsession: the client half of the Yibi session protocol (the 2016
 * X-WX-Code / X-WX-RawData / X-WX-Signature headers), for WeChat mini
 * programs, browsers and Node.
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

// Error types (err.type) passed to fail / used to reject.
var ERR_WX_LOGIN_FAILED = 'ERR_WX_LOGIN_FAILED';
var ERR_WX_GET_USER_INFO = 'ERR_WX_GET_USER_INFO';
var ERR_REQUEST_FAILED = 'ERR_REQUEST_FAILED';
var ERR_SESSION = 'ERR_SESSION';

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

/**
 * createClient makes a session client.
 * opts.platform: { login() -> Promise<{code}>, getUserInfo() ->
 *   Promise<{rawData, signature, userInfo?}>, request(opts) ->
 *   Promise<{statusCode, data, header}> (rejects on network failure) }.
 * opts.maxRetries: re-logins allowed per request (default 3).
 */
function createClient(opts) {
  opts = opts || {};
  var platform = opts.platform;
  if (!platform || typeof platform.login !== 'function' || typeof platform.getUserInfo !== 'function' ||
      typeof platform.request !== 'function') {
    throw new TypeError('wxsession.createClient: platform needs login, getUserInfo and request');
  }
  var maxRetries = typeof opts.maxRetries === 'number' && opts.maxRetries >= 0 ? opts.maxRetries : 3;

  var code = null;     // the code the server accepted: our session id
  var pending = null;  // Promise settled when the current login ends

  function login() {
    return Promise.resolve()
      .then(function () { return platform.login(); })
      .then(function (r) {
        if (!r || !r.code) throw makeError(ERR_WX_LOGIN_FAILED, 'login gave no code: ' + errMsgOf(r));
        return r.code;
      }, function (e) {
        throw makeError(ERR_WX_LOGIN_FAILED, 'login failed: ' + errMsgOf(e), { cause: e });
      })
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

  function send(options, headers) {
    return Promise.resolve()
      .then(function () { return platform.request(buildOptions(options, headers)); })
      .then(function (res) { return res || {}; }, function (e) {
        throw makeError(ERR_REQUEST_FAILED, 'request failed: ' + errMsgOf(e), { cause: e });
      });
  }

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

  function request(options) {
    options = options || {};
    requestAsync(options).then(function (res) {
      try { callSafely(options.success, res); } finally { callSafely(options.complete); }
    }, function (err) {
      try { callSafely(options.fail, err); } finally { callSafely(options.complete); }
    });
  }

  return {
    request: request,
    requestAsync: requestAsync,
    /** clear forgets the session code; the next request logs in again. */
    clear: function () { code = null; },
    /** code returns the current session code, or null. */
    code: function () { return code; }
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
    request: function (opts) { return call('request', opts); }
  };
}

var defaultClient = null;
function getDefault() {
  if (!defaultClient) {
    // The mini program hands `wx` to each module's scope, not always as
    // a property of the global object: look the identifier up first.
    var api = typeof wx !== 'undefined' ? wx : globalThis.wx;
    if (!api) throw new Error('wxsession: no global wx; use createClient with a platform');
    defaultClient = createClient({ platform: wxPlatform(api) });
  }
  return defaultClient;
}

/** request: the 2016 client's drop-in, bound to the global wx. */
export function request(options) { return getDefault().request(options); }
/** requestAsync: like request, as a Promise, bound to the global wx. */
export function requestAsync(options) { return getDefault().requestAsync(options); }
/** clear forgets the default client's session. */
export function clear() { if (defaultClient) defaultClient.clear(); }
/** resetDefault drops the default client (tests, or a changed wx). */
export function resetDefault() { defaultClient = null; }

export {
  MAGIC, HEADER_CODE, HEADER_RAW_DATA, HEADER_SIGNATURE,
  ERR_SESSION_EXPIRED, ERR_SESSION_KEY_EXCHANGE_FAILED, ERR_UNTRUSTED_RAW_DATA,
  ERR_WX_LOGIN_FAILED, ERR_WX_GET_USER_INFO, ERR_REQUEST_FAILED, ERR_SESSION,
  createClient, wxPlatform,
};

export default {
  MAGIC, HEADER_CODE, HEADER_RAW_DATA, HEADER_SIGNATURE,
  ERR_SESSION_EXPIRED, ERR_SESSION_KEY_EXCHANGE_FAILED, ERR_UNTRUSTED_RAW_DATA,
  ERR_WX_LOGIN_FAILED, ERR_WX_GET_USER_INFO, ERR_REQUEST_FAILED, ERR_SESSION,
  createClient, wxPlatform, request, requestAsync, clear, resetDefault,
};
