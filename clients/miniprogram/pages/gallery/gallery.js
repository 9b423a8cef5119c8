// The gallery: the user's drawings as thumbnails, a "+" tile for a new
// drawing, long press to delete. A thumbnail is the server's picture of
// the paint (wx.downloadFile with the session token, its temporary file
// in an <image>); a drawing whose latest strokes the server has not got
// yet (in the outbox), or whose picture cannot be had, is replayed on a
// <canvas> here instead.
import wxsession from '../../lib/wxsession.js';
import actions from '../../lib/actions.js';
import { downloadPicture, thumbnailWidth } from '../../utils/pictures.js';

// TILE_RPX: a tile's width (gallery.wxss).
const TILE_RPX = 230;
// DOWNLOADS: thumbnails downloaded at once (wx allows 10 transfers in all).
const DOWNLOADS = 4;

function pixelRatio() {
  const info = wx.getWindowInfo ? wx.getWindowInfo() : wx.getSystemInfoSync();
  return info.pixelRatio || 1;
}

Page({
  data: {
    // The v2 profile: {nickName, avatar (loadable by <image>)}; null until /session/me answers.
    profile: null,
    paints: [], // [{id, src (the picture's temporary file, '' until it came), local (replayed here)}]
    loading: true,
    error: '',
  },

  onShow() {
    this.load();
    this.loadProfile();
  },

  // loadProfile shows the user's avatar and nickname; after a first login
  // (isNew, from the login answer) it opens the profile page once.
  loadProfile() {
    const app = getApp();
    wxsession.getClient().me().then((me) => {
      this.setData({ profile: { nickName: me.nickName, avatar: app.avatarSrc(me.avatarUrl) } });
      if (app.globalData.isNew) {
        app.globalData.isNew = false;
        wx.navigateTo({ url: '/pages/profile/profile?new=1' });
      }
    }, () => {}); // the list's own load reports the network and the session
  },

  openProfile() {
    wx.navigateTo({ url: '/pages/profile/profile' });
  },

  load() {
    const app = getApp();
    this.setData({ loading: true, error: '' });
    wxsession.request({
      url: app.api('list') + '?timestamps=1',
      success: (res) => {
        const body = res.data || {};
        if (body.code !== 0 || !Array.isArray(body.data)) {
          this.setData({ loading: false, error: '加载失败' });
          return;
        }
        const paints = {};
        const revs = {};
        body.data.forEach((p) => { paints[p.id] = actions.parse(p.actions); revs[p.id] = p.rev; });
        // Drawings with edits not yet saved show as drawn on this device.
        const outbox = app.outbox();
        const list = body.data.map((p) => ({ id: p.id, src: '', local: false }));
        outbox.ids().forEach((id) => {
          if (!paints[id]) list.push({ id, src: '', local: true });
          paints[id] = outbox.actions(id);
        });
        list.forEach((p) => { if (outbox.pending(p.id)) p.local = true; });
        app.globalData.paints = paints;
        app.globalData.revs = revs;
        this.setData({ loading: false, paints: list }, () => {
          this.drawThumbnails();
          this.downloadThumbnails();
        });
      },
      fail: () => this.setData({ loading: false, error: '网络错误，下拉重试' }),
    });
  },

  onPullDownRefresh() {
    this.load();
    wx.stopPullDownRefresh();
  },

  // downloadThumbnails gets the server's picture of every paint not
  // replayed here, DOWNLOADS at a time; one that fails is replayed instead.
  downloadThumbnails() {
    const app = getApp();
    const client = wxsession.getClient();
    const w = thumbnailWidth(wx, TILE_RPX);
    const queue = this.data.paints.filter((p) => !p.local && !p.src).map((p) => p.id);
    const update = (id, change) => {
      this.setData({ paints: this.data.paints.map((p) => (p.id === id ? Object.assign({}, p, change) : p)) },
        () => { if (change.local) this.drawThumbnails([id]); });
    };
    const next = () => {
      const id = queue.shift();
      if (!id) return Promise.resolve();
      return downloadPicture(client, app, id, w)
        .then((src) => update(id, { src }), () => update(id, { local: true }))
        .then(next);
    };
    for (let i = 0; i < DOWNLOADS; i++) next();
  },

  // drawThumbnails replays the paints shown as canvases (ids, or every
  // local one) onto their <canvas type="2d">, scaled to the tile.
  drawThumbnails(ids) {
    const paints = getApp().globalData.paints;
    const dpr = pixelRatio();
    this.data.paints.filter((p) => p.local && (!ids || ids.indexOf(p.id) >= 0)).forEach(({ id }) => {
      wx.createSelectorQuery().in(this)
        .select('#t-' + id)
        .fields({ node: true, size: true })
        .exec((res) => {
          const r = res && res[0];
          if (!r || !r.node) return;
          const canvas = r.node;
          canvas.width = r.width * dpr;
          canvas.height = r.height * dpr;
          const ctx = canvas.getContext('2d');
          ctx.scale(dpr, dpr);
          actions.replay(ctx, paints[id], { scale: actions.scaleFor(r.width) });
        });
    });
  },

  create() {
    wx.navigateTo({ url: '/pages/draw/draw' });
  },

  open(e) {
    wx.navigateTo({ url: '/pages/draw/draw?id=' + encodeURIComponent(e.currentTarget.dataset.id) });
  },

  confirmDelete(e) {
    const id = e.currentTarget.dataset.id;
    wx.showModal({
      title: '删除',
      content: '确定删除这幅画吗？',
      success: (r) => { if (r.confirm) this.remove(id); },
    });
  },

  remove(id) {
    wxsession.request({
      url: getApp().api('delete'),
      method: 'POST',
      data: { id },
      success: (res) => {
        if (res.data && res.data.code === 0) {
          getApp().outbox().drop(id);
          getApp().outbox().retryAll(); // room freed: drawings refused for the quota may fit now
          delete getApp().globalData.paints[id];
          this.setData({ paints: this.data.paints.filter((p) => p.id !== id) });
        } else {
          wx.showToast({ title: '删除失败', icon: 'none' });
        }
      },
      fail: () => wx.showToast({ title: '删除失败', icon: 'none' }),
    });
  },
});
