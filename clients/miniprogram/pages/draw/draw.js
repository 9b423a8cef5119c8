// The draw page: one canvas in the 375 × 500 drawing space scaled to the
// screen, the 2016 palette, three line widths, an eraser, undo and clear.
// Every stroke is recorded in the 2016 actions shape (docs/drawing.md) and
// saved after each edit through the app's outbox, which appends only the
// new actions and keeps them on the device until the server has them. A
// drawing opened from the gallery is read whole with get (the gallery
// lists no actions), unless the outbox holds newer edits of it.
import { PALETTE, WIDTHS, LINE_WIDTH, SPACE, parse, replay, drawSegment } from '../../lib/actions.js';
import { Drawing, ink } from '../../lib/drawing.js';
import wxsession from '../../lib/wxsession.js';
import { shareMessage, saveDrawing } from '../../utils/pictures.js';

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

Page({
  data: {
    palette: PALETTE,
    widths: WIDTHS,
    color: PALETTE[0],
    width: LINE_WIDTH,
    eraser: false,
    canUndo: false,
    canClear: false,
    full: false,
    saveState: '', // '', 'saving', 'saved', 'unsaved', 'full', 'quota' (outbox states)
    loading: false, // the drawing is being read; it takes no stroke meanwhile
    loadError: '',
  },

  onLoad(query) {
    const app = getApp();
    this.paintId = (query && query.id) || uuid();
    // Edits not yet acknowledged are newer than the server's copy, and
    // their outbox entry holds their own base.
    const pending = app.outbox().actions(this.paintId);
    const known = app.globalData.paints[this.paintId]; // read or drawn earlier in this launch
    this.drawing = new Drawing(pending || known);
    this.acked = Array.isArray(known) ? known.length : 0; // what the server had when opened
    if (query && query.id && !pending) this.read();
    this.points = null;
    app.globalData.saveListeners[this.paintId] = (state) => this.showSave(state);
    app.globalData.rebaseListeners[this.paintId] = (actions) => {
      this.drawing = new Drawing(actions);
      this.repaint();
      this.showTools();
    };
    if (app.outbox().pending(this.paintId)) this.showSave(app.outbox().state(this.paintId));
    this.cssWidth = 0; // the canvas's width on screen, px; 0 until onReady measured it
    this.showTools();
  },

  // read reads the drawing with get: its actions, and its length and
  // revision as the next append's base. Not found is a new drawing; a
  // failure says so and leaves what this launch had of it (an append at a
  // stale base is rebased by the outbox, so nothing is lost).
  read() {
    const app = getApp();
    const id = this.paintId;
    this.setData({ loading: true, loadError: '' });
    wxsession.requestAsync({ url: app.api('get'), data: { id } }).then((res) => {
      if (this.unloaded) return;
      const body = res.data || {};
      if (res.statusCode === 404) {
        this.setData({ loading: false });
        return;
      }
      if (body.code !== 0 || !body.data) throw new Error('get: HTTP ' + res.statusCode);
      const list = parse(body.data.actions);
      app.globalData.paints[id] = list;
      this.acked = list.length;
      app.outbox().track(id, list.length, body.data.rev);
      this.drawing = new Drawing(list);
      this.setData({ loading: false });
      this.repaint();
      this.showTools();
    }).catch(() => {
      if (!this.unloaded) this.setData({ loading: false, loadError: '加载失败：显示的是本机上的画' });
    });
  },

  onUnload() {
    this.unloaded = true;
    delete getApp().globalData.saveListeners[this.paintId];
    delete getApp().globalData.rebaseListeners[this.paintId];
  },

  onReady() {
    wx.createSelectorQuery().in(this)
      .select('#c')
      .fields({ node: true, size: true })
      .exec((res) => {
        const r = res && res[0];
        if (!r || !r.node) return;
        this.dpr = pixelRatio();
        this.canvas = r.node;
        this.canvas.width = r.width * this.dpr;
        this.canvas.height = r.height * this.dpr;
        this.cssWidth = r.width;
        this.ctx = this.canvas.getContext('2d');
        this.repaint();
      });
  },

  // repaint draws the whole drawing; a stroke in progress is drawn on top
  // of it segment by segment (see touchmove), in the same scaled space.
  repaint() {
    if (!this.ctx) return;
    this.drawing.paint(this.ctx, this.canvas.width, this.canvas.height, this.dpr);
  },

  showTools() {
    this.setData({ canUndo: this.drawing.canUndo, canClear: this.drawing.canClear, full: this.drawing.full });
  },

  // A colour (or width, or the eraser) is picked on touchstart, not tap:
  // a tap right after a stroke is not lost to the gesture recogniser.
  pick(e) {
    this.setData({ color: e.currentTarget.dataset.color, eraser: false });
  },

  pickWidth(e) {
    this.setData({ width: Number(e.currentTarget.dataset.width), eraser: false });
  },

  pickEraser() {
    this.setData({ eraser: true });
  },

  // point maps a touch on the canvas to the drawing space.
  point(e) {
    const t = (e.touches && e.touches[0]) || (e.changedTouches && e.changedTouches[0]);
    if (!t || !this.cssWidth) return null;
    const k = SPACE.width / this.cssWidth;
    return [t.x * k, t.y * k];
  },

  tool() {
    return this.data.eraser ? { eraser: true } : { color: this.data.color, width: this.data.width };
  },

  touchstart(e) {
    if (this.data.loading) return;
    if (this.drawing.full || this.data.saveState === 'full') {
      wx.showToast({ title: '这幅画已满，请新建一幅', icon: 'none' });
      return;
    }
    const p = this.point(e);
    if (p) this.points = [p];
  },

  touchmove(e) {
    const p = this.point(e);
    if (!p || !this.points || this.points.length >= this.drawing.maxPoints) return;
    const last = this.points[this.points.length - 1];
    this.points.push(p);
    if (!this.ctx) return;
    const k = ink(this.tool());
    drawSegment(this.ctx, last, p, k.color, k.width);
  },

  touchend() {
    if (!this.points) return;
    const added = this.drawing.stroke(this.points, this.tool());
    this.points = null;
    if (!added.length) return;
    if (this.ctx) replay(this.ctx, added); // a tap's dot; the context is already scaled
    this.edited();
  },

  touchcancel() {
    this.touchend();
  },

  undo() {
    if (!this.drawing.undo().length) return;
    this.repaint();
    this.edited();
  },

  clear() {
    if (!this.drawing.clear().length) return;
    this.repaint();
    this.edited();
  },

  edited() {
    getApp().globalData.paints[this.paintId] = this.drawing.actions;
    this.showTools();
    getApp().outbox().put(this.paintId, this.drawing.actions, this.acked);
  },

  // onShareAppMessage: a card with the server's picture that opens the
  // read-only view page (utils/pictures.js); the 分享 button and the menu.
  onShareAppMessage() {
    return shareMessage(wxsession.getClient(), getApp(), this.paintId);
  },

  // saveToAlbum: 保存到相册, the server's picture at 750 px.
  saveToAlbum() {
    return saveDrawing(wx, wxsession.getClient(), getApp(), this.paintId);
  },

  // showSave shows the outbox's state; while strokes are not saved yet,
  // leaving the page asks first (they stay queued either way).
  showSave(state) {
    this.setData({ saveState: state, loadError: '' });
    if (state !== 'saving' && state !== 'saved' && wx.enableAlertBeforeUnload) {
      wx.enableAlertBeforeUnload({ message: '还有笔画尚未保存。它们留在本机，联网后会自动保存。现在离开吗？' });
    } else if (state === 'saved' && wx.disableAlertBeforeUnload) {
      wx.disableAlertBeforeUnload();
    }
  },
});
