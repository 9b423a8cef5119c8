// The view page: a shared drawing, read-only, opened from a share card
// (/pages/view/view?token=…). It needs no session: the picture is the
// server's public /s/<token>.png, 重播 replays the drawing stroke by stroke
// from /s/<token>.json, 保存到相册 saves the picture. A link that was
// unshared (404) says so.
import { parse, recordCalls, playCalls } from '../../lib/actions.js';
import { isToken, viewPath, cardPath, saveToAlbum } from '../../utils/pictures.js';

function pixelRatio() {
  const info = wx.getWindowInfo ? wx.getWindowInfo() : wx.getSystemInfoSync();
  return info.pixelRatio || 1;
}

Page({
  data: {
    src: '',        // the picture, /s/<token>.png
    gone: false,    // the link was unshared or never was
    replaying: false,
    error: '',
  },

  onLoad(query) {
    const token = query && query.token;
    if (!isToken(token)) {
      this.setData({ gone: true });
      return;
    }
    this.token = token;
    this.setData({ src: getApp().url('/s/' + token + '.png') });
  },

  onUnload() {
    if (this.stop) this.stop();
  },

  // imageError: the picture did not load; an unshared link answers 404.
  imageError() {
    this.setData({ gone: true });
  },

  // replay draws the drawing again, stroke by stroke, over the picture.
  replay() {
    if (!this.token || this.data.replaying) return;
    this.setData({ replaying: true, error: '' });
    wx.request({
      url: getApp().url('/s/' + this.token + '.json'),
      dataType: 'text', // the actions as stored; parse reads any shape
      success: (res) => {
        if (res.statusCode === 404) { this.setData({ replaying: false, gone: true }); return; }
        if (res.statusCode !== 200) { this.setData({ replaying: false, error: '加载失败，请稍后再试' }); return; }
        this.play(parse(res.data));
      },
      fail: () => this.setData({ replaying: false, error: '网络错误，请稍后再试' }),
    });
  },

  play(list) {
    wx.createSelectorQuery().in(this)
      .select('#v')
      .fields({ node: true, size: true })
      .exec((res) => {
        const r = res && res[0];
        if (!r || !r.node) { this.setData({ replaying: false }); return; }
        const dpr = pixelRatio();
        const canvas = r.node;
        canvas.width = r.width * dpr;
        canvas.height = r.height * dpr;
        const ctx = canvas.getContext('2d');
        ctx.scale(dpr, dpr);
        ctx.fillStyle = '#FFFFFF';
        ctx.fillRect(0, 0, r.width, r.height);
        const schedule = canvas.requestAnimationFrame
          ? (fn) => canvas.requestAnimationFrame(fn)
          : (fn) => setTimeout(fn, 16);
        if (this.stop) this.stop();
        this.stop = playCalls(ctx, recordCalls(list, r.width), schedule, () => this.setData({ replaying: false }));
      });
  },

  // saveToAlbum downloads the public picture and saves it.
  saveToAlbum() {
    if (!this.token) return Promise.resolve('failed');
    return new Promise((resolve) => {
      wx.downloadFile({
        url: this.data.src,
        success: (res) => {
          if (res.statusCode === 200) { saveToAlbum(wx, res.tempFilePath).then(resolve); return; }
          if (res.statusCode === 404) this.setData({ gone: true });
          else wx.showToast({ title: '下载失败，请稍后再试', icon: 'none' });
          resolve('failed');
        },
        fail: () => {
          wx.showToast({ title: '网络错误，请稍后再试', icon: 'none' });
          resolve('failed');
        },
      });
    });
  },

  // The card passes the same link on, with the 5:4 card picture.
  onShareAppMessage() {
    if (!this.token || this.data.gone) return { title: '一笔到底', path: '/pages/index/index' };
    return { title: '一笔到底', path: viewPath(this.token), imageUrl: getApp().url(cardPath(this.token)) };
  },

  // 我也画一幅: the app itself.
  draw() {
    wx.reLaunch({ url: '/pages/index/index' });
  },
});
