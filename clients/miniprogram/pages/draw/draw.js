// The draw page: one canvas, the 2016 palette, line width 5. Every stroke
// is recorded in the 2016 actions shape and the whole drawing is saved
// after each stroke, as the 2016 page did.
const wxsession = require('../../lib/wxsession.js');
const actions = require('../../lib/actions.js');

// uuid makes a paint id (RFC 4122 version 4 layout).
function uuid() {
  const hex = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) s += '-';
    else if (i === 14) s += '4';
    else if (i === 19) s += hex[8 + Math.floor(Math.random() * 4)];
    else s += hex[Math.floor(Math.random() * 16)];
  }
  return s;
}

function pixelRatio() {
  const info = wx.getWindowInfo ? wx.getWindowInfo() : wx.getSystemInfoSync();
  return info.pixelRatio || 1;
}

function point(e) {
  const t = (e.touches && e.touches[0]) || (e.changedTouches && e.changedTouches[0]);
  return t ? [t.x, t.y] : null;
}

Page({
  data: {
    palette: actions.PALETTE,
    color: actions.PALETTE[0],
    saveState: '', // '', 'saving', 'saved', 'failed'
  },

  onLoad(query) {
    this.paintId = (query && query.id) || uuid();
    const known = getApp().globalData.paints[this.paintId];
    this.actions = Array.isArray(known) ? known.slice() : [];
    this.points = null;
    this.saveSeq = 0;
  },

  onReady() {
    wx.createSelectorQuery().in(this)
      .select('#c')
      .fields({ node: true, size: true })
      .exec((res) => {
        const r = res && res[0];
        if (!r || !r.node) return;
        const dpr = pixelRatio();
        const canvas = r.node;
        canvas.width = r.width * dpr;
        canvas.height = r.height * dpr;
        this.ctx = canvas.getContext('2d');
        this.ctx.scale(dpr, dpr);
        actions.replay(this.ctx, this.actions);
      });
  },

  pick(e) {
    this.setData({ color: e.currentTarget.dataset.color });
  },

  touchstart(e) {
    const p = point(e);
    if (!p) return;
    this.points = [p];
  },

  touchmove(e) {
    const p = point(e);
    if (!p || !this.points) return;
    const last = this.points[this.points.length - 1];
    this.points.push(p);
    if (!this.ctx) return;
    // Draw the new segment at once; the recorded stroke is the same line.
    const ctx = this.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = this.data.color;
    ctx.lineWidth = actions.LINE_WIDTH;
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    ctx.restore();
  },

  touchend() {
    if (!this.points) return;
    const stroke = actions.strokeActions(this.points, this.data.color, actions.LINE_WIDTH);
    this.points = null;
    if (!stroke.length) return;
    if (this.ctx) actions.replay(this.ctx, stroke); // a tap's dot
    this.actions = this.actions.concat(stroke);
    getApp().globalData.paints[this.paintId] = this.actions;
    this.save();
  },

  touchcancel() {
    this.touchend();
  },

  // save sends the whole drawing; only the newest save's answer sets the
  // state shown, so a slow earlier answer cannot say "saved" for later work.
  save() {
    const seq = ++this.saveSeq;
    this.setData({ saveState: 'saving' });
    wxsession.request({
      url: getApp().api('save'),
      method: 'POST',
      data: { id: this.paintId, actions: actions.serialize(this.actions) },
      success: (res) => {
        if (seq !== this.saveSeq) return;
        this.setData({ saveState: res.data && res.data.code === 0 ? 'saved' : 'failed' });
      },
      fail: () => {
        if (seq !== this.saveSeq) return;
        this.setData({ saveState: 'failed' });
      },
    });
  },
});
