/*
 * actions: the 一笔到底 drawing format (docs/drawing.md), shared by the
 * mini program and the browser app: one renderer, one recorder.
 *
 * A drawing is a JSON array of {method, data} actions, the shape the 2016
 * mini program's canvas recorder (wx.createContext().getActions()) wrote,
 * plus three actions 2016 clients skip: `space` (the drawing is in the
 * 375 x 500 logical space), `undo` and `clear`. replay() draws any such
 * array onto a CanvasRenderingContext2D-like object; it accepts every shape
 * the 2016 recorder is known to have produced and never throws.
 * strokeActions() records a new stroke in the same 2016 shape, so old and
 * new clients read each other's drawings.
 *
 * An ES module: browsers and Node load it as is, WeChat DevTools compiles
 * it for the mini program. It sets no globals.
 */

/** The 2016 palette, in order. */
export const PALETTE = ['#666666', '#FF0000', '#FFA500', '#FFFF00', '#008000', '#0000FF', '#8A2BE2'];
/** The line widths offered, in logical units; the middle one is the 2016 width. */
export const WIDTHS = [2, 5, 12];
/** The 2016 line width, the default. */
export const LINE_WIDTH = 5;
/** The eraser: a stroke in the background colour (2016 canvases had no composite operation). */
export const ERASER = { color: '#FFFFFF', width: 20 };
/** The logical drawing space: every coordinate a writer records is in it. */
export const SPACE = { width: 375, height: 500 };
/** The gallery's thumbnail scale (of the logical space). */
export const THUMBNAIL_SCALE = 1 / 3;
/**
 * MAX_BYTES is the server's default limit on a drawing's serialized size
 * (YIBI_MAX_ACTIONS_BYTES, 1 MiB). Writers stop taking strokes before it:
 * see room().
 */
export const MAX_BYTES = 1 << 20;

function num(v) {
  if (typeof v === 'number') return isFinite(v) ? v : NaN;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

// nums reads n finite numbers from args, or returns null.
function nums(args, n) {
  if (!args || typeof args.length !== 'number' || args.length < n) return null;
  var out = [];
  for (var i = 0; i < n; i++) {
    var v = num(args[i]);
    if (isNaN(v)) return null;
    out.push(v);
  }
  return out;
}

function clamp(v, lo, hi) { return v < lo ? lo : v > hi ? hi : v; }

// rgba turns [r, g, b, a?] into a CSS colour. Alpha above 1 is taken as
// the recorder's 0..255 scale, 0..1 as CSS's; 1 reads as opaque either way.
function rgba(list) {
  var c = nums(list, 3);
  if (!c) return null;
  var a = list.length > 3 ? num(list[3]) : 1;
  if (isNaN(a)) a = 1;
  if (a > 1) a = a / 255;
  return 'rgba(' + Math.round(clamp(c[0], 0, 255)) + ',' + Math.round(clamp(c[1], 0, 255)) + ',' +
    Math.round(clamp(c[2], 0, 255)) + ',' + Math.round(clamp(a, 0, 1) * 1000) / 1000 + ')';
}

/**
 * colorOf reads a colour argument: a CSS string, ["normal", [r,g,b,a]],
 * [r,g,b,a], or an action's data array holding one of those. Returns a
 * CSS string or null.
 */
function colorOf(v, depth) {
  if (depth > 3 || v == null) return null;
  if (typeof v === 'string') {
    var s = v.trim();
    return s && s.length <= 64 ? s : null;
  }
  if (Array.isArray(v)) {
    if (v[0] === 'normal') return Array.isArray(v[1]) ? rgba(v[1]) : colorOf(v[1], depth + 1);
    if (v.length >= 3 && !isNaN(num(v[0]))) return rgba(v);
    return colorOf(v[0], depth + 1);
  }
  return null;
}

function toArgs(data) {
  if (data == null) return [];
  if (Array.isArray(data)) return data;
  return [data];
}

// Path-building methods and how many numeric arguments each takes.
var PATH = {
  moveTo: 2, lineTo: 2, quadraticCurveTo: 4, bezierCurveTo: 6,
  arc: 5, arcTo: 5, rect: 4, closePath: 0
};

/** parse reads a stored actions value (string or array); never throws. */
export function parse(value) {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return [];
  try {
    var v = JSON.parse(value);
    return Array.isArray(v) ? v : [];
  } catch (e) {
    return [];
  }
}

function has(ctx, name) { return ctx && typeof ctx[name] === 'function'; }

/**
 * replay draws what a drawing shows (visible(value)) onto ctx (a
 * CanvasRenderingContext2D or anything with its methods), scaled by
 * options.scale (default 1; scaleFor(canvasWidth) maps the 375-wide
 * drawing space onto a canvas). Unknown methods and bad arguments are
 * skipped; it never throws. Returns the number of actions applied.
 */
export function replay(ctx, value, options) {
  var list = visible(parse(value));
  var scale = options && !isNaN(num(options.scale)) ? num(options.scale) : 1;
  var applied = 0;
  var depth = 0;       // the drawing's own save() nesting, so a stray restore() cannot pop ours
  var drawn = false;   // the current path was stroked/filled: a new path command starts afresh

  function pathCommand(name, args) {
    var n = PATH[name];
    if (name === 'closePath') { ctx.closePath(); return true; }
    var a = nums(args, n);
    if (!a) return false;
    if (name === 'arc') {
      if (a[2] < 0) return false;
      ctx.arc(a[0], a[1], a[2], a[3], a[4], !!args[5]);
      return true;
    }
    if (name === 'arcTo' && a[4] < 0) return false;
    ctx[name].apply(ctx, a);
    return true;
  }

  function path(name, args) {
    if (!has(ctx, name)) return false;
    if (drawn) {
      // The 2016 recorder wrote no beginPath between strokes; without
      // one every stroke() would redraw all earlier strokes in its colour.
      if (has(ctx, 'beginPath')) ctx.beginPath();
      drawn = false;
    }
    return pathCommand(name, args);
  }

  function gathered(items, finish) {
    if (!Array.isArray(items)) return false;
    if (has(ctx, 'beginPath')) ctx.beginPath();
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      if (!it || typeof it !== 'object' || typeof it.method !== 'string') continue;
      if (!Object.prototype.hasOwnProperty.call(PATH, it.method) || !has(ctx, it.method)) continue;
      try { pathCommand(it.method, toArgs(it.data)); } catch (e) { /* skip odd data */ }
    }
    if (has(ctx, finish)) ctx[finish]();
    drawn = true;
    return true;
  }

  function apply(action) {
    if (!action || typeof action !== 'object') return false;
    var m = action.method;
    if (typeof m !== 'string') return false;
    var args = toArgs(action.data);
    var a, c;
    switch (m) {
      case 'save':
        if (!has(ctx, 'save')) return false;
        ctx.save(); depth++; return true;
      case 'restore':
        if (depth <= 0 || !has(ctx, 'restore')) return false;
        ctx.restore(); depth--; return true;
      case 'beginPath':
        if (!has(ctx, 'beginPath')) return false;
        ctx.beginPath(); drawn = false; return true;
      case 'stroke':
      case 'fill':
        if (!has(ctx, m)) return false;
        ctx[m](); drawn = true; return true;
      case 'strokePath':
        return gathered(action.data, 'stroke');
      case 'fillPath':
        return gathered(action.data, 'fill');
      case 'setStrokeStyle':
      case 'setFillStyle':
      case 'setShadowColor':
        c = colorOf(action.data, 0);
        if (!c) return false;
        ctx[m === 'setStrokeStyle' ? 'strokeStyle' : m === 'setFillStyle' ? 'fillStyle' : 'shadowColor'] = c;
        return true;
      case 'setLineWidth':
        a = nums(args, 1);
        if (!a || a[0] <= 0 || a[0] > 1000) return false;
        ctx.lineWidth = a[0]; return true;
      case 'setGlobalAlpha':
        a = nums(args, 1);
        if (!a) return false;
        a = a[0] > 1 ? a[0] / 255 : a[0];
        ctx.globalAlpha = clamp(a, 0, 1); return true;
      case 'setLineCap':
        if (['butt', 'round', 'square'].indexOf(args[0]) < 0) return false;
        ctx.lineCap = args[0]; return true;
      case 'setLineJoin':
        if (['bevel', 'round', 'miter'].indexOf(args[0]) < 0) return false;
        ctx.lineJoin = args[0]; return true;
      case 'scale':
      case 'translate':
        a = nums(args, 2);
        if (!a || !has(ctx, m)) return false;
        ctx[m](a[0], a[1]); return true;
      case 'rotate':
        a = nums(args, 1);
        if (!a || !has(ctx, m)) return false;
        ctx.rotate(a[0]); return true;
      case 'clearRect':
      case 'fillRect':
      case 'strokeRect':
        a = nums(args, 4);
        if (!a || !has(ctx, m)) return false;
        ctx[m](a[0], a[1], a[2], a[3]); return true;
      default:
        if (Object.prototype.hasOwnProperty.call(PATH, m)) return path(m, args);
        return false; // unknown method: skip
    }
  }

  if (!ctx) return 0;
  try {
    if (has(ctx, 'save')) ctx.save();
    if (scale !== 1 && has(ctx, 'scale')) ctx.scale(scale, scale);
    // Round ends and joins draw the 5px strokes smoothly; any
    // setLineCap/setLineJoin in the drawing still wins.
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    if (has(ctx, 'beginPath')) ctx.beginPath();
  } catch (e) { /* a strange context: draw what we can */ }
  for (var i = 0; i < list.length; i++) {
    try {
      if (apply(list[i])) applied++;
    } catch (e) { /* odd data for a real canvas: skip that action */ }
  }
  try {
    while (depth-- > 0) ctx.restore();
    if (has(ctx, 'restore')) ctx.restore();
  } catch (e) { /* ignore */ }
  return applied;
}

function round1(v) { return Math.round(v * 10) / 10; }

/**
 * strokeActions records one stroke through points ([[x, y], …] or
 * [{x, y}, …]) in the 2016 recorder's shape: save, moveTo, lineTo…,
 * setStrokeStyle, setLineWidth, stroke, restore. A single point (a tap)
 * becomes a dot.
 */
export function strokeActions(points, strokeColor, lineWidth) {
  var pts = [];
  for (var i = 0; i < (points ? points.length : 0); i++) {
    var p = points[i];
    var x = num(Array.isArray(p) ? p[0] : p && p.x);
    var y = num(Array.isArray(p) ? p[1] : p && p.y);
    if (!isNaN(x) && !isNaN(y)) pts.push([round1(x), round1(y)]);
  }
  if (!pts.length) return [];
  if (pts.length === 1) pts.push([pts[0][0], pts[0][1]]);
  var out = [{ method: 'save', data: [] }, { method: 'moveTo', data: pts[0] }];
  for (var j = 1; j < pts.length; j++) out.push({ method: 'lineTo', data: pts[j] });
  out.push({ method: 'setStrokeStyle', data: [strokeColor || PALETTE[0]] });
  out.push({ method: 'setLineWidth', data: [lineWidth || LINE_WIDTH] });
  out.push({ method: 'stroke', data: [] });
  out.push({ method: 'restore', data: [] });
  return out;
}

/** serialize turns actions into the string the paint API stores. */
export function serialize(actions) { return JSON.stringify(actions || []); }

/** spaceAction is the first action of every drawing made today. */
export function spaceAction() { return { method: 'space', data: [SPACE.width, SPACE.height] }; }
/**
 * undoAction takes back unit target (its index in the drawing's unit
 * order: see units), or, with no target, the latest unit still standing
 * (the form drawings saved before targets were recorded hold).
 */
export function undoAction(target) {
  return { method: 'undo', data: target === undefined ? [] : [target] };
}
/**
 * clearAction hides the first count units of the drawing (every unit
 * before it, when count is its own index) until it is undone; with no
 * count it hides every unit before it, whatever they are.
 */
export function clearAction(count) {
  return { method: 'clear', data: count === undefined ? [] : [0, count] };
}

/** scaleFor is the replay scale that maps the 375-wide drawing space onto a canvas width. */
export function scaleFor(canvasWidth) {
  var w = num(canvasWidth);
  return w > 0 ? w / SPACE.width : 1;
}

// methodOf is an entry's method, or null for an entry that is no action
// (not an object with a string method): no unit, never drawn, as the
// server's renderer reads it.
function methodOf(action) {
  return action && typeof action === 'object' && !Array.isArray(action) && typeof action.method === 'string'
    ? action.method : null;
}

// whole reads a unit index: a whole number (or a numeric string of one), or null.
function whole(v) {
  var n = num(v);
  return isNaN(n) || Math.floor(n) !== n ? null : n;
}

// tops splits a list into its top-level entries, each {from, to, m}
// (list.slice(from, to), its method): a stroke group (a save through its
// matching restore, or to the end when it never closes) or one entry.
function tops(list) {
  var out = [];
  var i = 0;
  while (i < list.length) {
    var m = methodOf(list[i]);
    var j = i + 1;
    if (m === 'save') {
      var depth = 0;
      for (j = i; j < list.length; j++) {
        var mj = methodOf(list[j]);
        if (mj === 'save') depth++;
        else if (mj === 'restore' && --depth === 0) break;
      }
      j = Math.min(j + 1, list.length);
    }
    out.push({ from: i, to: j, m: m });
    i = j;
  }
  return out;
}

// plain says whether an undo or clear has no arguments: the form saved
// before targets were recorded.
function plain(action) { return toArgs(action.data).length === 0; }

// rangesOf reads a ranged clear's [from, to) pairs of unit indexes;
// pairs that are not whole numbers are skipped.
function rangesOf(action) {
  var args = toArgs(action.data);
  var out = [];
  for (var p = 0; p + 1 < args.length; p += 2) {
    var a = whole(args[p]);
    var b = whole(args[p + 1]);
    if (a !== null && b !== null) out.push([a, b]);
  }
  return out;
}

/**
 * analyze reads a drawing's units (docs/drawing.md, "Units, undo and
 * clear"). Every unit gets the next index in the drawing's unit order (0,
 * 1, …), taken back or not, so an index names one unit for good: units
 * appended later, by this device or another, never move it. An undo with
 * no target takes back the latest unit still standing; an undo with a
 * target takes back that unit if it stands and comes before it, else
 * nothing. Returns {all, took}: every unit, in order, as {index, from, to,
 * clear, up (standing), hidden (by a standing clear)}, and for each plain
 * undo (by its action index) the unit it took back, -1 for none.
 */
function analyze(list) {
  var all = [];
  var stack = []; // units not yet popped by a plain undo; some may be down (taken back by target)
  var took = {};
  var items = tops(list);
  for (var n = 0; n < items.length; n++) {
    var it = items[n];
    if (it.m === null || it.m === 'space') continue;
    if (it.m === 'undo') {
      var action = list[it.from];
      var k = -1;
      if (plain(action)) {
        while (stack.length && k < 0) {
          var top = stack.pop();
          if (all[top].up) k = top;
        }
        took[it.from] = k;
      } else {
        var t = whole(toArgs(action.data)[0]);
        if (t !== null && t >= 0 && t < all.length && all[t].up) k = t;
      }
      if (k >= 0) all[k].up = false;
      continue;
    }
    stack.push(all.length);
    all.push({ index: all.length, from: it.from, to: it.to, clear: it.m === 'clear', up: true, hidden: false });
  }
  // A standing clear hides the units it names before it: a plain one all
  // of them. Counted with a difference array, so a hostile drawing of many
  // clears and ranges costs what its size does.
  var diff = new Array(all.length + 1).fill(0);
  function cover(a, b) {
    a = Math.max(a, 0);
    if (a < b) { diff[a]++; diff[b]--; }
  }
  for (var c = 0; c < all.length; c++) {
    if (!all[c].up || !all[c].clear) continue;
    var act = list[all[c].from];
    if (plain(act)) { cover(0, c); continue; }
    var rs = rangesOf(act);
    for (var r = 0; r < rs.length; r++) cover(rs[r][0], Math.min(rs[r][1], c));
  }
  for (var h = 0, sum = 0; h < all.length; h++) {
    sum += diff[h];
    all[h].hidden = sum > 0;
  }
  return { all: all, took: took };
}

/**
 * units reads a drawing's units (docs/drawing.md): a stroke group (a save
 * through its matching restore, or to the end when it never closes), a
 * clear, or any other single top-level action except `space` (a marker,
 * so no undo takes it back) and `undo`. Returns the units still standing
 * (not taken back by an undo), oldest first, each {index, clear, hidden,
 * actions}: index is the unit's place in the drawing's unit order, the
 * target an undo of it records.
 */
export function units(value) {
  var list = parse(value);
  return analyze(list).all.filter(function (u) { return u.up; }).map(function (u) {
    return { index: u.index, clear: u.clear, hidden: u.hidden, actions: list.slice(u.from, u.to) };
  });
}

/** unitCount is how many units a drawing holds, taken back or not: the index its next unit gets. */
export function unitCount(value) { return analyze(parse(value)).all.length; }

/** lastUnit is the index of the latest unit still standing (what an undo takes back), or -1. */
export function lastUnit(value) {
  var all = analyze(parse(value)).all;
  for (var i = all.length - 1; i >= 0; i--) if (all[i].up) return i;
  return -1;
}

/** visible is what a drawing shows: the standing units no standing clear hides, flattened, in order. */
export function visible(list) {
  var out = [];
  var all = analyze(list).all;
  for (var i = 0; i < all.length; i++) {
    var u = all[i];
    if (!u.up || u.clear || u.hidden) continue;
    for (var j = u.from; j < u.to; j++) out.push(list[j]);
  }
  return out;
}

/** canUndo says whether an undo would take anything back. */
export function canUndo(value) { return lastUnit(value) >= 0; }

/** canClear says whether a clear would hide anything (something is drawn). */
export function canClear(value) { return visible(parse(value)).length > 0; }

/**
 * pinUnits returns list with every plain undo and clear from action index
 * from on written with its target, as it reads in list: an undo names the
 * unit it takes back (one that takes back nothing is dropped), a clear the
 * units before it. They then keep their meaning when units are inserted
 * before them (shiftUnits); a drawing's own pending edits saved by an
 * older app hold the plain forms.
 */
export function pinUnits(list, from) {
  var a = analyze(list);
  var clearAt = {};
  for (var c = 0; c < a.all.length; c++) if (a.all[c].clear) clearAt[a.all[c].from] = c;
  var out = list.slice(0, from);
  var items = tops(list);
  for (var n = 0; n < items.length; n++) {
    var it = items[n];
    if (it.to <= from) continue;
    var action = list[it.from];
    if (it.from >= from && (it.m === 'undo' || it.m === 'clear') && plain(action)) {
      if (it.m === 'undo') {
        if (a.took[it.from] >= 0) out.push(undoAction(a.took[it.from]));
      } else {
        out.push(clearAction(clearAt[it.from]));
      }
      continue;
    }
    for (var j = Math.max(it.from, from); j < it.to; j++) out.push(list[j]);
  }
  return out;
}

/**
 * shiftUnits returns list with its unit targets rewritten for a drawing
 * where by units were inserted at unit index at: each targeted undo and
 * ranged clear naming a unit at or after at names it by+ its index. A
 * conflict rebuilds a drawing as the server's actions followed by this
 * device's pending ones (lib/sync.js); the pending edits, pinned first
 * (pinUnits), are shifted past the units the server gained.
 */
export function shiftUnits(list, at, by) {
  var out = [];
  var items = tops(list);
  for (var n = 0; n < items.length; n++) {
    var it = items[n];
    var action = list[it.from];
    if ((it.m === 'undo' || it.m === 'clear') && !plain(action)) {
      if (it.m === 'undo') {
        var t = whole(toArgs(action.data)[0]);
        out.push(t !== null && t >= at ? undoAction(t + by) : action);
      } else {
        var data = [];
        var rs = rangesOf(action);
        for (var r = 0; r < rs.length; r++) {
          var lo = rs[r][0];
          var hi = rs[r][1];
          if (lo >= hi) continue;
          if (lo < at) data.push(lo, Math.min(hi, at));
          if (hi > at) data.push(Math.max(lo, at) + by, hi + by);
        }
        // A clear that hid nothing keeps its data: none would make it plain.
        out.push(data.length ? { method: 'clear', data: data } : action);
      }
      continue;
    }
    for (var j = it.from; j < it.to; j++) out.push(list[j]);
  }
  return out;
}

/** byteLength is the UTF-8 size of a string. */
export function byteLength(s) {
  var n = 0;
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; } else n += 3;
  }
  return n;
}

/**
 * POINT_BYTES bounds what one recorded point adds to a drawing
 * ({"method":"lineTo","data":[375.5,499.9]},), STROKE_BYTES a stroke's
 * framing (save, colour, width, stroke, restore) and FULL_BYTES the room
 * under MAX_BYTES below which a drawing is full: no new stroke fits a
 * useful length, but undo and clear (tiny) still do.
 */
export const POINT_BYTES = 48;
export const STROKE_BYTES = 200;
export const FULL_BYTES = STROKE_BYTES + 64 * POINT_BYTES;

/** room is how many bytes a drawing can still grow by under maxBytes (default MAX_BYTES). */
export function room(list, maxBytes) {
  return (maxBytes || MAX_BYTES) - byteLength(serialize(list));
}

/** maxPoints is how many points a stroke may take with room bytes left. */
export function maxPoints(roomBytes) {
  return Math.max(0, Math.floor((roomBytes - STROKE_BYTES) / POINT_BYTES));
}

/** color reads a colour argument (see colorOf) as a CSS string, or null. */
export function color(v) { return colorOf(v, 0); }

// PAINTS: the canvas calls that put ink down; playCalls shows a drawing
// one of them at a time.
const PAINTS = { stroke: 1, fill: 1, fillRect: 1, strokeRect: 1, clearRect: 1 };

/**
 * recordCalls replays a drawing (actions) onto a recording context scaled
 * to a canvas cssWidth wide, and answers the calls it made: [name, args]
 * for a method, ['=', name, value] for a property. With playCalls, the
 * stroke-by-stroke replay of the share page and the mini program's view.
 */
export function recordCalls(list, cssWidth) {
  const calls = [];
  const rec = new Proxy({}, {
    get: (t, name) => (...args) => { calls.push([name, args]); },
    set: (t, name, v) => { calls.push(['=', name, v]); return true; },
  });
  replay(rec, list, { scale: cssWidth / SPACE.width });
  return calls;
}

/**
 * playCalls plays recorded calls on ctx a few strokes per frame (the
 * whole drawing in at most about 300 frames): schedule(fn) runs fn on
 * the next frame (requestAnimationFrame); done() when all is drawn.
 * Answers a stop function.
 */
export function playCalls(ctx, calls, schedule, done) {
  let strokes = 0;
  for (const c of calls) if (PAINTS[c[0]]) strokes++;
  const perFrame = Math.max(1, Math.ceil(strokes / 300));
  let i = 0;
  let stopped = false;
  function frame() {
    if (stopped) return;
    let n = 0;
    while (i < calls.length && n < perFrame) {
      const c = calls[i++];
      try {
        if (c[0] === '=') ctx[c[1]] = c[2];
        else ctx[c[0]](...c[1]);
      } catch (e) { /* a call this canvas refuses is skipped */ }
      if (PAINTS[c[0]]) n++;
    }
    if (i < calls.length) schedule(frame);
    else if (done) done();
  }
  schedule(frame);
  return () => { stopped = true; };
}

export default {
  PALETTE, WIDTHS, LINE_WIDTH, ERASER, SPACE, THUMBNAIL_SCALE, MAX_BYTES, POINT_BYTES, STROKE_BYTES, FULL_BYTES,
  color, parse, replay, strokeActions, serialize, spaceAction, undoAction, clearAction, scaleFor,
  units, unitCount, lastUnit, visible, canUndo, canClear, pinUnits, shiftUnits, byteLength, room, maxPoints, drawSegment,
  recordCalls, playCalls,
};

/**
 * drawSegment draws one segment of a stroke in progress, in logical
 * coordinates on a context already scaled by scaleFor: what strokeActions
 * records for that stroke, drawn at once while the finger moves.
 */
export function drawSegment(ctx, from, to, strokeColor, lineWidth) {
  ctx.save();
  ctx.beginPath();
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.strokeStyle = strokeColor;
  ctx.lineWidth = lineWidth;
  ctx.moveTo(from[0], from[1]);
  ctx.lineTo(to[0], to[1]);
  ctx.stroke();
  ctx.restore();
}
