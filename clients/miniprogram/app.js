// 一笔到底: draw with one stroke at a time, keep your drawings on a Yibi
// server. The session (login headers, retries) is handled by lib/wxsession.
import config from './config.js';

App({
  globalData: {
    // paints loaded by the gallery, by id, so the draw page can continue
    // a drawing without fetching it again.
    paints: {},
  },

  // api builds the URL of a paint API call.
  api(name) {
    return config.host + config.basePath + '/session/paints/' + name;
  },
});
