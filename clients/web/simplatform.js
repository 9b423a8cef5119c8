/*
 * simplatform: a wxsession platform for browsers and Node that logs in
 * through Yibi's WeChat simulator (development mode) instead of WeChat:
 * login() is POST /wechat/sim/login {user}, getUserInfo() (v1 only) is
 * POST /wechat/sim/userinfo {user}, request() is fetch with wx.request's
 * option and answer shapes. For v2 it also plays the rest of wx a profile
 * needs: chooseAvatar() (<button open-type="chooseAvatar">) gives the
 * simulator's avatar of the user as a temporary file, uploadFile() sends
 * such a file as wx.uploadFile does (multipart), downloadFile() is
 * wx.downloadFile (a blob: URL as the temporary file), getPhoneNumber() is the
 * getPhoneNumber button (POST /wechat/sim/phonenumber), and storage is
 * localStorage (memory in Node), per user. The browser app's own (the mini
 * program logs in through WeChat); the Node tests import it too. An ES module.
 */

function formEncode(data) {
  var parts = [];
  for (var k in data) {
    if (!Object.prototype.hasOwnProperty.call(data, k) || data[k] == null) continue;
    var v = typeof data[k] === 'object' ? JSON.stringify(data[k]) : String(data[k]);
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
  }
  return parts.join('&');
}

function headerValue(header, name) {
  for (var k in header) if (k.toLowerCase() === name) return header[k];
  return undefined;
}

/**
 * createSimPlatform makes a platform for wxsession.createClient.
 * opts.user: the simulated WeChat user (required); opts.base: the yibi
 * origin ('' in the browser app, 'http://127.0.0.1:5757' in Node);
 * opts.simPath: where the simulator is mounted (default '/wechat');
 * opts.appid: optional; opts.fetch: defaults to globalThis.fetch;
 * opts.storage: a localStorage-like object for the token (default
 * localStorage, or memory where there is none).
 */
export function createSimPlatform(opts) {
  opts = opts || {};
  var base = (opts.base || '').replace(/\/+$/, '');
  var simPath = opts.simPath || '/wechat';
  var doFetch = opts.fetch || (typeof fetch === 'function' ? fetch.bind(globalThis) : null);
  if (!doFetch) throw new Error('simplatform: no fetch');
  if (!opts.user) throw new Error('simplatform: no user');

  function abs(url) { return /^https?:\/\//.test(url) ? url : base + url; }

  // request: wx.request semantics on fetch. Resolves for every HTTP
  // status with {statusCode, data, header}; rejects only on a network
  // failure, with {errMsg}.
  function request(o) {
    var method = String(o.method || 'GET').toUpperCase();
    var header = {};
    for (var k in o.header || {}) header[k] = o.header[k];
    var url = abs(o.url);
    var body;
    var data = o.data;
    if (method === 'GET' || method === 'HEAD') {
      if (data && typeof data === 'object') {
        var q = formEncode(data);
        if (q) url += (url.indexOf('?') < 0 ? '?' : '&') + q;
      }
    } else if (data != null) {
      var type = headerValue(header, 'content-type');
      if (!type) { type = 'application/json'; header['Content-Type'] = type; }
      if (typeof data === 'string') body = data;
      else if (/x-www-form-urlencoded/i.test(type)) body = formEncode(data);
      else body = JSON.stringify(data);
    }
    return Promise.resolve()
      .then(function () { return doFetch(url, { method: method, headers: header, body: body }); })
      .then(function (res) {
        return res.text().then(function (text) {
          var parsed = text;
          if ((o.dataType || 'json') === 'json') {
            try { parsed = JSON.parse(text); } catch (e) { parsed = text; }
          }
          var h = {};
          res.headers.forEach(function (v, n) { h[n] = v; });
          return { statusCode: res.status, data: parsed, header: h, errMsg: 'request:ok' };
        });
      }, function (e) {
        throw { errMsg: 'request:fail ' + (e && e.message ? e.message : String(e)) };
      });
  }

  function sim(path, name) {
    var body = { user: opts.user };
    if (opts.appid) body.appid = opts.appid;
    return request({ url: simPath + path, method: 'POST', data: body }).then(function (res) {
      var d = res.data || {};
      if (res.statusCode !== 200 || typeof d !== 'object') {
        throw { errMsg: (d && d.errMsg) || name + ':fail HTTP ' + res.statusCode };
      }
      return d;
    });
  }

  // files: the temporary files chooseAvatar made, by path, as WeChat
  // keeps them for uploadFile. Paths are blob: URLs, so an <img> shows them.
  var files = {};

  function chooseAvatar() {
    var url = abs(simPath + '/sim/avatar?user=' + encodeURIComponent(opts.user));
    return Promise.resolve()
      .then(function () { return doFetch(url); })
      .then(function (res) {
        if (!res.ok) throw { errMsg: 'chooseAvatar:fail HTTP ' + res.status };
        return res.blob();
      })
      .then(function (blob) {
        var path = URL.createObjectURL(blob);
        files[path] = blob;
        return { errMsg: 'chooseAvatar:ok', avatarUrl: path };
      });
  }

  // uploadFile: wx.uploadFile on fetch: multipart with formData's fields
  // and the file under o.name; resolves {statusCode, data (a string)}.
  function uploadFile(o) {
    var blob = files[o.filePath];
    if (!blob) return Promise.reject({ errMsg: 'uploadFile:fail file not found: ' + o.filePath });
    var form = new FormData();
    for (var k in o.formData || {}) form.append(k, o.formData[k]);
    form.append(o.name, blob, 'avatar' + (blob.type === 'image/jpeg' ? '.jpg' : '.png'));
    var header = {};
    for (var h in o.header || {}) if (h.toLowerCase() !== 'content-type') header[h] = o.header[h];
    return Promise.resolve()
      .then(function () { return doFetch(abs(o.url), { method: 'POST', headers: header, body: form }); })
      .then(function (res) {
        return res.text().then(function (text) {
          return { statusCode: res.status, data: text, errMsg: 'uploadFile:ok' };
        });
      }, function (e) {
        throw { errMsg: 'uploadFile:fail ' + (e && e.message ? e.message : String(e)) };
      });
  }

  // downloadFile: wx.downloadFile on fetch. A 200 answer's body becomes a
  // temporary file, a blob: URL (the caller revokes it when done with it;
  // blob is the body itself); any other answer's body is read into data
  // (JSON parsed) as wxPlatform does, so the SDK sees a session envelope.
  // Resolves {statusCode, tempFilePath?, blob?, data?, header}. Sent with
  // cache: 'no-store': the caller's If-None-Match is answered by the
  // server (304), not by the browser's cache.
  function downloadFile(o) {
    var header = {};
    for (var h in o.header || {}) header[h] = o.header[h];
    return Promise.resolve()
      .then(function () { return doFetch(abs(o.url), { headers: header, cache: 'no-store' }); })
      .then(function (res) {
        var h = {};
        res.headers.forEach(function (v, n) { h[n] = v; });
        if (res.status === 200) {
          return res.blob().then(function (blob) {
            return { statusCode: 200, tempFilePath: URL.createObjectURL(blob), blob: blob, header: h, errMsg: 'downloadFile:ok' };
          });
        }
        return res.text().then(function (text) {
          var data = text;
          try { data = JSON.parse(text); } catch (e) { data = text; }
          return { statusCode: res.status, data: data, header: h, errMsg: 'downloadFile:ok' };
        });
      }, function (e) {
        throw { errMsg: 'downloadFile:fail ' + (e && e.message ? e.message : String(e)) };
      });
  }

  return {
    user: opts.user,
    login: function () { return sim('/sim/login', 'login'); },
    getUserInfo: function () { return sim('/sim/userinfo', 'getUserInfo'); },
    getPhoneNumber: function () { return sim('/sim/phonenumber', 'getPhoneNumber'); },
    chooseAvatar: chooseAvatar,
    uploadFile: uploadFile,
    downloadFile: downloadFile,
    storage: userStorage(opts.storage, 'wxsim.' + opts.user + '.'),
    request: request
  };
}

// userStorage is a wxsession storage over localStorage-like `ls` (the
// browser's localStorage by default, memory without one), its keys under
// prefix so each simulated user keeps their own token.
function userStorage(ls, prefix) {
  if (!ls && typeof localStorage !== 'undefined') ls = localStorage;
  if (!ls) {
    var m = {};
    ls = {
      getItem: function (k) { return Object.prototype.hasOwnProperty.call(m, k) ? m[k] : null; },
      setItem: function (k, v) { m[k] = String(v); },
      removeItem: function (k) { delete m[k]; }
    };
  }
  return {
    get: function (k) { return ls.getItem(prefix + k) || ''; },
    set: function (k, v) { ls.setItem(prefix + k, v); },
    remove: function (k) { ls.removeItem(prefix + k); }
  };
}

/** listUsers reads the simulator's users: GET {base}/wechat/sim/users. */
export function listUsers(opts) {
  opts = opts || {};
  var base = (opts.base || '').replace(/\/+$/, '');
  var doFetch = opts.fetch || fetch.bind(globalThis);
  var url = base + (opts.simPath || '/wechat') + '/sim/users' + (opts.appid ? '?appid=' + encodeURIComponent(opts.appid) : '');
  return doFetch(url).then(function (res) {
    if (!res.ok) {
      var err = new Error('users: HTTP ' + res.status);
      err.status = res.status;
      throw err;
    }
    return res.json();
  }).then(function (d) { return (d && Array.isArray(d.users)) ? d.users : []; });
}
