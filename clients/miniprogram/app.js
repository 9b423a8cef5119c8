// 一笔到底: draw with one stroke at a time, keep your drawings on a Yibi
// server. The session is lib/wxsession's, in protocol v2: wx.login alone,
// a bearer token kept in wx storage, re-login and resend when it expires.
import config from './config.js';
import wxsession from './lib/wxsession.js';
import { createOutbox, wxStorageOf } from './lib/outbox.js';
import { appendSender } from './lib/sync.js';

// Every wxsession.request of the pages goes through this v2 client.
wxsession.configure({
  protocol: 'v2',
  base: config.host + config.basePath,
  // A user without a profile yet (isNew) is asked for one by the gallery.
  onLogin: (d) => {
    const app = getApp();
    app.globalData.isNew = d.isNew;
    app.globalData.user = d.user;
  },
});

App({
  globalData: {
    // isNew: the last login said this user has no profile yet.
    isNew: false,
    // user: {nickName, avatarUrl} from the last login or /session/me.
    user: null,
    // paints: by id, the actions of the drawings read (get) or drawn in
    // this launch; the gallery lists no actions (list?actions=0).
    paints: {},
    // saveListeners: by paint id, the open draw page's save-state callback.
    saveListeners: {},
    // rebaseListeners: by paint id, the open draw page's merged-drawing callback.
    rebaseListeners: {},
  },

  onLaunch() {
    // A restarted app resends what it never got to save, and so does a
    // network that comes back.
    this.outbox().retryAll();
    if (wx.onNetworkStatusChange) {
      wx.onNetworkStatusChange((res) => { if (res.isConnected) this.outbox().retryAll(); });
    }
  },

  // outbox: edits not yet acknowledged, kept in wx storage (lib/outbox.js).
  outbox() {
    if (!this.pending) {
      this.pending = createOutbox({
        storage: wxStorageOf(wx),
        prefix: 'yibi.outbox.',
        // Appends what is new at the paint's revision (lib/sync.js).
        send: appendSender((name, body, id) => wxsession.requestAsync(body
          ? { url: this.api(name), method: 'POST', data: body }
          : { url: this.api(name), data: { id } })),
        onChange: (id, state) => {
          const l = this.globalData.saveListeners[id];
          if (l) l(state);
        },
        // Another device wrote first: the open page draws on the merged drawing.
        onRebase: (id, actions) => {
          this.globalData.paints[id] = actions;
          const l = this.globalData.rebaseListeners[id];
          if (l) l(actions);
        },
      });
    }
    return this.pending;
  },

  // api builds the URL of a paint API call.
  api(name) {
    return config.host + config.basePath + '/session/paints/' + name;
  },

  // avatarSrc makes an avatarUrl (a path on the server) loadable by <image>.
  avatarSrc(avatarUrl) {
    return this.url(avatarUrl);
  },

  // url makes a path on the server (an avatar, a picture, a share link) absolute.
  url(path) {
    return path ? config.host + path : '';
  },
});
