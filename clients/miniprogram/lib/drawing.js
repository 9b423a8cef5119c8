/*
 * drawing: one drawing being edited, the model both apps' draw pages share
 * (the pages only add input and display). It appends actions in the format
 * of actions.js and says what the page may offer: undo, clear, or nothing
 * more because the drawing is full.
 *
 * Every edit returns the actions it appended; the pages hand the whole
 * drawing to the outbox, which appends only what the server lacks.
 */
import {
  spaceAction, undoAction, clearAction, strokeActions, canClear, lastUnit, unitCount, room, maxPoints,
  FULL_BYTES, ERASER, LINE_WIDTH, PALETTE, parse, replay, scaleFor,
} from './actions.js';

/** ink is what a tool ({color, width} or {eraser: true}) draws with: {color, width}. */
export function ink(tool) {
  if (tool && tool.eraser) return { color: ERASER.color, width: ERASER.width };
  return { color: (tool && tool.color) || PALETTE[0], width: (tool && tool.width) || LINE_WIDTH };
}

export class Drawing {
  /**
   * actions: the drawing so far (an array or the stored string); a new
   * drawing (none) starts with the `space` action. maxBytes: the server's
   * limit (default actions.MAX_BYTES).
   */
  constructor(actions, maxBytes) {
    const list = parse(actions);
    this.actions = list.length ? list.slice() : [spaceAction()];
    this.maxBytes = maxBytes;
    this.room = room(this.actions, maxBytes);
  }

  push(added) {
    this.actions = this.actions.concat(added);
    this.room = room(this.actions, this.maxBytes);
    return added;
  }

  /** full: no stroke of useful length fits any more (undo and clear still do). */
  get full() { return this.room < FULL_BYTES; }

  /** maxPoints: how many points the next stroke may take. */
  get maxPoints() { return this.full ? 0 : maxPoints(this.room); }

  get canUndo() { return lastUnit(this.actions) >= 0; }

  get canClear() { return canClear(this.actions); }

  /**
   * stroke records a stroke through points (logical coordinates) with a
   * tool ({color, width} or {eraser: true}); returns the actions appended,
   * [] when there is nothing to record or it does not fit.
   */
  stroke(points, tool) {
    if (this.full || !points || !points.length) return [];
    const pts = points.slice(0, this.maxPoints);
    const k = ink(tool);
    return this.push(strokeActions(pts, k.color, k.width));
  }

  /**
   * undo appends an undo of the latest unit still standing, naming it, so
   * it takes back that unit even when a conflict puts another device's
   * strokes after it (lib/sync.js); nothing when nothing stands.
   */
  undo() {
    const k = lastUnit(this.actions);
    return k >= 0 ? this.push([undoAction(k)]) : [];
  }

  /**
   * clear appends a clear of the units drawn so far, counted, so strokes
   * another device appended meanwhile stay visible after a conflict;
   * nothing when nothing is drawn.
   */
  clear() { return this.canClear ? this.push([clearAction(unitCount(this.actions))]) : []; }

  /**
   * paint clears a canvas of pixelWidth × pixelHeight device pixels shown
   * at pixelRatio device pixels per CSS pixel, replays the drawing scaled
   * to it, and leaves the context scaled to the drawing space, so a stroke
   * in progress is drawn in logical coordinates (drawSegment). Returns the
   * scale from the drawing space to CSS pixels.
   */
  paint(ctx, pixelWidth, pixelHeight, pixelRatio) {
    const dpr = pixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, pixelWidth, pixelHeight);
    const s = scaleFor(pixelWidth / dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    replay(ctx, this.actions, { scale: s });
    ctx.setTransform(dpr * s, 0, 0, dpr * s, 0, 0);
    return s;
  }
}

export default Drawing;
