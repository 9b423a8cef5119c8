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
/** undoAction takes back the latest unit still standing. */
export function undoAction() { return { method: 'undo', data: [] }; }
/** clearAction hides every unit before it until it is undone. */
export function clearAction() { return { method: 'clear', data: [] }; }

/** scaleFor is the replay scale that maps the 375-wide drawing space onto a canvas width. */
export function scaleFor(canvasWidth) {
  var w = num(canvasWidth);
  return w > 0 ? w / SPACE.width : 1;
}

function methodOf(action) {
  return action && typeof action === 'object' && typeof action.method === 'string' ? action.method : '';
}

/**
 * units splits top-level actions into units (docs/drawing.md): a stroke
 * group (a save through its matching restore, or to the end when it never
 * closes), a clear, or any other single action. `undo` takes back the
 * latest unit still standing; `space` is a marker, not a unit, so an undo
 * never takes it back. Returns the standing units, oldest first, each
 * {clear: bool, actions: [...]}.
 */
export function units(list) {
  var standing = [];
  var i = 0;
  while (i < list.length) {
    var m = methodOf(list[i]);
    if (m === 'undo') { standing.pop(); i++; continue; }
    if (m === 'space') { i++; continue; }
    if (m === 'clear') { standing.push({ clear: true, actions: [] }); i++; continue; }
    if (m === 'save') {
      var depth = 0;
      var j = i;
      for (; j < list.length; j++) {
        var mj = methodOf(list[j]);
        if (mj === 'save') depth++;
        else if (mj === 'restore' && --depth === 0) break;
      }
      standing.push({ clear: false, actions: list.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    standing.push({ clear: false, actions: [list[i]] });
    i++;
  }
  return standing;
}

/** visible is what a drawing shows: the standing units after the last standing clear, flattened. */
export function visible(list) {
  var standing = units(list);
  var out = [];
  for (var i = standing.length - 1; i >= 0 && !standing[i].clear; i--) out.unshift(standing[i].actions);
  return [].concat.apply([], out);
}

/** canUndo says whether an undo would take anything back. */
export function canUndo(value) { return units(parse(value)).length > 0; }

/** canClear says whether a clear would hide anything (something is drawn). */
export function canClear(value) { return visible(parse(value)).length > 0; }

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

export default {
  PALETTE, WIDTHS, LINE_WIDTH, ERASER, SPACE, THUMBNAIL_SCALE, MAX_BYTES, POINT_BYTES, STROKE_BYTES, FULL_BYTES,
  color, parse, replay, strokeActions, serialize, spaceAction, undoAction, clearAction, scaleFor,
  units, visible, canUndo, canClear, byteLength, room, maxPoints, drawSegment,
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
