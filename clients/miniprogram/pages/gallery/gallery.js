// The gallery: the user's drawings as thumbnails, a "+" tile for a new
// drawing, long press to delete. A thumbnail is the server's picture of
// the paint (wx.downloadFile with the session token, its temporary file
// in an <image>); a drawing whose latest strokes the server has not got
// yet (in the outbox), or whose picture cannot be had, is replayed on a
// <canvas> here instead. The list carries no actions (list?actions=0):
// it pages through ids and revisions, PAGE at a time, the next page when
// the user scrolls to the end; the draw page reads the drawing it opens.
import wxsession from '../../lib/wxsession.js';
import actions from '../../lib/actions.js';
import { downloadPicture, thumbnailWidth } from '../../utils/pictures.js';

// TILE_RPX: a tile's width (gallery.wxss).
const TILE_RPX = 230;
// DOWNLOADS: thumbnails downloaded at once (wx allows 10 transfers in all).
const DOWNLOADS = 4;
// PAGE: drawings listed per request; coming back to the gallery lists
// again as many as it showed, up to MAX_PAGE (the server's largest limit).
const PAGE = 30;
const MAX_PAGE = 100;

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
    more: false, // a next page is being listed
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

  // listPage resolves with a page of the user's drawings, newest first,
  // without their actions: {items: [{id, rev, createdAt, updatedAt}], next
  // (the next page's cursor, '' after the last)}; rejects with the words
  // to show.
  listPage(cursor, limit = PAGE) {
    let url = getApp().api('list') + '?actions=0&timestamps=1&limit=' + limit;
    if (cursor) url += '&cursor=' + encodeURIComponent(cursor);
    return new Promise((resolve, reject) => wxsession.request({
      url,
      success: (res) => {
        const body = res.data || {};
        if (body.code !== 0 || !Array.isArray(body.data)) reject('加载失败');
        else resolve({ items: body.data, next: body.next || '' });
      },
      fail: () => reject('网络错误，下拉重试'),
    }));
  },

  load() {
    const app = getApp();
    const seq = (this.seq || 0) + 1;
    this.seq = seq;
    this.next = '';
    this.asked = {}; // ids whose picture was asked for
    const limit = Math.min(MAX_PAGE, Math.max(PAGE, this.listed || 0));
    this.listed = 0; // drawings of the list shown
    this.setData({ loading: true, more: false, error: '' });
    this.listPage('', limit).then((page) => {
      if (seq !== this.seq) return;
      // Drawings with edits not yet saved come first, drawn on this
      // device from the outbox: they may be on no page of the list yet.
      const outbox = app.outbox();
      const list = outbox.ids().map((id) => ({ id, src: '', local: true }));
      this.setData({ loading: false, paints: list }, () => this.addPage(page, list.map((p) => p.id)));
    }, (error) => {
      if (seq === this.seq) this.setData({ loading: false, error });
    });
  },

  // addPage shows a page's drawings (but those already shown) and keeps
  // its cursor; a drawing in the outbox is replayed, the others get the
  // server's picture. replay: ids of tiles already shown to replay too.
  addPage(page, replay = []) {
    const outbox = getApp().outbox();
    const have = {};
    this.data.paints.forEach((p) => { have[p.id] = true; });
    const added = page.items.filter((p) => !have[p.id])
      .map((p) => ({ id: p.id, src: '', local: outbox.pending(p.id) }));
    this.next = page.next;
    this.listed += page.items.length;
    this.setData({ paints: this.data.paints.concat(added) }, () => {
      this.drawThumbnails(replay.concat(added.filter((p) => p.local).map((p) => p.id)));
      this.downloadThumbnails();
    });
  },

  // onReachBottom lists the next page.
  onReachBottom() {
    if (!this.next || this.data.more || this.data.loading) return;
    const seq = this.seq;
    this.setData({ more: true });
    this.listPage(this.next).then((page) => {
      if (seq !== this.seq) return;
      this.setData({ more: false });
      this.addPage(page);
    }, (error) => {
      if (seq === this.seq) this.setData({ more: false, error });
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
    // Each picture once: a later page's call queues only its own tiles.
    const asked = this.asked;
    const queue = this.data.paints.filter((p) => !p.local && !p.src && !asked[p.id]).map((p) => p.id);
    queue.forEach((id) => { asked[id] = true; });
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
    const app = getApp();
    this.data.paints.filter((p) => p.local && (!ids || ids.indexOf(p.id) >= 0)).forEach(({ id }) => {
      const pending = app.outbox().actions(id);
      if (pending) {
        this.replayThumbnail(id, pending);
        return;
      }
      // No picture: the drawing itself, read with get, or if that fails
      // too, what this launch has read or drawn of it.
      this.readPaint(id).then((list) => this.replayThumbnail(id, list), () => {
        const known = app.globalData.paints[id];
        if (known) this.replayThumbnail(id, known);
      });
    });
  },

  // readPaint resolves with a drawing's actions, read with get.
  readPaint(id) {
    return wxsession.requestAsync({ url: getApp().api('get'), data: { id } }).then((res) => {
      const body = res.data || {};
      if (body.code !== 0 || !body.data) throw new Error('get: HTTP ' + res.statusCode);
      return actions.parse(body.data.actions);
    });
  },

  // replayThumbnail replays list on the tile of paint id.
  replayThumbnail(id, list) {
    const dpr = pixelRatio();
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
        actions.replay(ctx, list, { scale: actions.scaleFor(r.width) });
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
