// The gallery: the user's drawings as thumbnails (the 375 × 500 drawing
// space scaled to the tile), a "+" tile for a new drawing, long press to
// delete.
import wxsession from '../../lib/wxsession.js';
import actions from '../../lib/actions.js';

function pixelRatio() {
  const info = wx.getWindowInfo ? wx.getWindowInfo() : wx.getSystemInfoSync();
  return info.pixelRatio || 1;
}

Page({
  data: {
    // The v2 profile: {nickName, avatar (loadable by <image>)}; null until /session/me answers.
    profile: null,
    paints: [], // [{id}]
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
        const list = body.data.map((p) => ({ id: p.id }));
        outbox.ids().forEach((id) => {
          if (!paints[id]) list.push({ id });
          paints[id] = outbox.actions(id);
        });
        app.globalData.paints = paints;
        app.globalData.revs = revs;
        this.setData({ loading: false, paints: list }, () => this.drawThumbnails());
      },
      fail: () => this.setData({ loading: false, error: '网络错误，下拉重试' }),
    });
  },

  onPullDownRefresh() {
    this.load();
    wx.stopPullDownRefresh();
  },

  // drawThumbnails replays every paint onto its <canvas type="2d">, scaled to the tile.
  drawThumbnails() {
    const paints = getApp().globalData.paints;
    const dpr = pixelRatio();
    this.data.paints.forEach(({ id }) => {
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
