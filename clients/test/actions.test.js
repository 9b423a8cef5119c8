import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import actions, { playCalls } from '../miniprogram/lib/actions.js';
import { Drawing, ink } from '../miniprogram/lib/drawing.js';

// ctxAndLog makes a CanvasRenderingContext2D stand-in that logs every method
// call and property write, in order.
function ctxAndLog() {
  const log = [];
  const target = {};
  for (const m of ['save', 'restore', 'beginPath', 'closePath', 'moveTo', 'lineTo', 'arc', 'arcTo',
    'quadraticCurveTo', 'bezierCurveTo', 'rect', 'stroke', 'fill', 'scale', 'translate', 'rotate',
    'clearRect', 'fillRect', 'strokeRect']) {
    target[m] = (...args) => log.push([m, ...args]);
  }
  const ctx = new Proxy(target, {
    set(t, prop, value) { log.push(['=' + String(prop), value]); t[prop] = value; return true; },
  });
  return { ctx, log };
}

// body drops replay's own framing (outer save/scale/caps/beginPath … restore).
function body(log) {
  const start = log.findIndex((e) => e[0] === 'beginPath') + 1;
  return log.slice(start, -1);
}

const a = (method, ...data) => ({ method, data });

test('replays the 2016 top-level stroke shape', () => {
  const { ctx, log } = ctxAndLog();
  const n = actions.replay(ctx, [
    a('save'), a('moveTo', 1, 2), a('lineTo', 3, 4), a('lineTo', 5, 6),
    a('setStrokeStyle', '#FF0000'), a('setLineWidth', 5), a('stroke'), a('restore'),
  ]);
  assert.equal(n, 8);
  assert.deepEqual(body(log), [
    ['save'], ['moveTo', 1, 2], ['lineTo', 3, 4], ['lineTo', 5, 6],
    ['=strokeStyle', '#FF0000'], ['=lineWidth', 5], ['stroke'], ['restore'],
  ]);
});

test('a second top-level stroke starts a new path', () => {
  const { ctx, log } = ctxAndLog();
  const stroke = (c) => [a('save'), a('moveTo', 0, 0), a('lineTo', 9, 9), a('setStrokeStyle', c), a('stroke'), a('restore')];
  actions.replay(ctx, [...stroke('red'), ...stroke('blue')]);
  const b = body(log);
  const second = b.findIndex((e, i) => i > b.findIndex((x) => x[0] === 'moveTo') && e[0] === 'moveTo');
  assert.deepEqual(b[second - 1], ['beginPath'], `got ${JSON.stringify(b)}`);
});

test('replays strokePath and fillPath with gathered commands and rgba colours', () => {
  const { ctx, log } = ctxAndLog();
  actions.replay(ctx, [
    { method: 'setStrokeStyle', data: ['normal', [255, 0, 0, 255]] },
    { method: 'setLineWidth', data: [5] },
    { method: 'strokePath', data: [a('moveTo', 10, 10), a('lineTo', 20, 20), a('quadraticCurveTo', 1, 2, 3, 4), a('bezierCurveTo', 1, 2, 3, 4, 5, 6)] },
    { method: 'setFillStyle', data: [['normal', [0, 0, 255, 0.5]]] },
    { method: 'fillPath', data: [a('rect', 0, 0, 4, 4), a('arc', 5, 5, 2, 0, 3.14), a('closePath')] },
  ]);
  assert.deepEqual(body(log), [
    ['=strokeStyle', 'rgba(255,0,0,1)'], ['=lineWidth', 5],
    ['beginPath'], ['moveTo', 10, 10], ['lineTo', 20, 20], ['quadraticCurveTo', 1, 2, 3, 4], ['bezierCurveTo', 1, 2, 3, 4, 5, 6], ['stroke'],
    ['=fillStyle', 'rgba(0,0,255,0.5)'],
    ['beginPath'], ['rect', 0, 0, 4, 4], ['arc', 5, 5, 2, 0, 3.14, false], ['closePath'], ['fill'],
  ]);
});

test('colour shapes', async (t) => {
  for (const [name, input, want] of [
    ['css string', '#8A2BE2', '#8A2BE2'],
    ['data array of a css string', ['#8A2BE2'], '#8A2BE2'],
    ['normal with alpha 0..255', ['normal', [0, 128, 0, 255]], 'rgba(0,128,0,1)'],
    ['normal with alpha 0..1', ['normal', [0, 128, 0, 0.25]], 'rgba(0,128,0,0.25)'],
    ['normal with half alpha 0..255', ['normal', [0, 0, 0, 51]], 'rgba(0,0,0,0.2)'],
    ['normal wrapped in data', [['normal', [1, 2, 3, 255]]], 'rgba(1,2,3,1)'],
    ['numbers as strings', ['normal', ['255', '165', '0', '255']], 'rgba(255,165,0,1)'],
    ['bare rgba list', [10, 20, 30], 'rgba(10,20,30,1)'],
    ['out of range clamped', ['normal', [300, -5, 0, 999]], 'rgba(255,0,0,1)'],
    ['null', null, null],
    ['number', 7, null],
    ['normal without list', ['normal'], null],
  ]) {
    await t.test(name, () => assert.equal(actions.color(input), want));
  }
});

test('top-level extra commands: caps, joins, transforms, rects', () => {
  const { ctx, log } = ctxAndLog();
  actions.replay(ctx, [
    a('setLineCap', 'square'), a('setLineJoin', 'bevel'), a('translate', 1, 2), a('scale', 2, 2), a('rotate', 0.5),
    a('beginPath'), a('arc', 1, 1, 1, 0, 6.28, true), a('fill'), a('fillRect', 0, 0, 1, 1), a('setGlobalAlpha', 0.5),
  ]);
  assert.deepEqual(body(log), [
    ['=lineCap', 'square'], ['=lineJoin', 'bevel'], ['translate', 1, 2], ['scale', 2, 2], ['rotate', 0.5],
    ['beginPath'], ['arc', 1, 1, 1, 0, 6.28, true], ['fill'], ['fillRect', 0, 0, 1, 1], ['=globalAlpha', 0.5],
  ]);
});

test('scale frames the drawing in save/scale/restore', () => {
  const { ctx, log } = ctxAndLog();
  actions.replay(ctx, [a('moveTo', 3, 3)], { scale: 1 / 3 });
  assert.deepEqual(log[0], ['save']);
  assert.deepEqual(log[1], ['scale', 1 / 3, 1 / 3]);
  assert.deepEqual(log[log.length - 1], ['restore']);
});

test('unbalanced save/restore never pops the frame', () => {
  const { ctx, log } = ctxAndLog();
  actions.replay(ctx, [a('restore'), a('restore'), a('save'), a('save')]);
  const saves = log.filter((e) => e[0] === 'save').length;
  const restores = log.filter((e) => e[0] === 'restore').length;
  assert.equal(saves, 3);
  assert.equal(restores, 3);
});

test('odd data never throws and is skipped', async (t) => {
  const odd = [
    null, 3, 'x', [], {}, { method: 5 }, { method: 'nope', data: [1] }, { method: 'moveTo' },
    { method: 'moveTo', data: null }, { method: 'lineTo', data: ['a', 'b'] }, { method: 'lineTo', data: [1] },
    { method: 'lineTo', data: [Infinity, 1] }, { method: 'arc', data: [0, 0, -1, 0, 1] },
    { method: 'setStrokeStyle', data: { r: 1 } }, { method: 'setLineWidth', data: ['-3'] },
    { method: 'strokePath', data: 'nope' }, { method: 'strokePath', data: [null, 1, { method: 'stroke' }, { method: 'lineTo', data: 'x' }] },
    { method: 'fillPath' }, { method: 'setLineCap', data: [{}] }, { method: '__proto__', data: [] },
    { method: 'constructor', data: [] }, { method: 'toString', data: [] },
  ];
  for (const [name, value] of [
    ['odd actions', odd], ['null', null], ['undefined', undefined], ['number', 42], ['bad JSON', '[{'],
    ['JSON object', '{"a":1}'], ['JSON string of odd actions', JSON.stringify(odd)],
  ]) {
    await t.test(name, () => {
      const { ctx } = ctxAndLog();
      assert.doesNotThrow(() => actions.replay(ctx, value));
    });
  }
  await t.test('numbers as strings are read', () => {
    const { ctx, log } = ctxAndLog();
    actions.replay(ctx, [{ method: 'moveTo', data: ['1', '2.5'] }, { method: 'setLineWidth', data: ['5'] }]);
    assert.deepEqual(body(log), [['moveTo', 1, 2.5], ['=lineWidth', 5]]);
  });
  await t.test('a context that throws', () => {
    const ctx = new Proxy({}, { get: () => () => { throw new Error('boom'); }, set: () => { throw new Error('boom'); } });
    assert.doesNotThrow(() => actions.replay(ctx, [a('moveTo', 1, 1), a('stroke')]));
  });
  await t.test('a context missing methods', () => {
    assert.doesNotThrow(() => actions.replay({}, [a('save'), a('moveTo', 1, 1), a('arc', 1, 1, 1, 0, 1), a('stroke'), a('restore')]));
    assert.equal(actions.replay(null, [a('stroke')]), 0);
  });
});

test('record then replay round trip', () => {
  const points = [[10, 10], { x: 20.04, y: 30.06 }, [40, 50]];
  const rec = actions.strokeActions(points, '#0000FF');
  assert.deepEqual(rec.map((x) => x.method), ['save', 'moveTo', 'lineTo', 'lineTo', 'setStrokeStyle', 'setLineWidth', 'stroke', 'restore']);
  assert.deepEqual(rec[5].data, [5]);
  const stored = actions.serialize([...rec, ...actions.strokeActions([[1, 1]], '#FF0000')]);
  const { ctx, log } = ctxAndLog();
  const n = actions.replay(ctx, stored);
  assert.equal(n, 15);
  const b = body(log);
  assert.deepEqual(b.slice(0, 8), [
    ['save'], ['moveTo', 10, 10], ['lineTo', 20, 30.1], ['lineTo', 40, 50],
    ['=strokeStyle', '#0000FF'], ['=lineWidth', 5], ['stroke'], ['restore'],
  ]);
  assert.deepEqual(b.filter((e) => e[0] === 'lineTo').pop(), ['lineTo', 1, 1], 'a tap becomes a dot');
});

test('strokeActions with no points records nothing', () => {
  assert.deepEqual(actions.strokeActions([], '#000'), []);
  assert.deepEqual(actions.strokeActions(null), []);
});

test('palette and line width are the 2016 ones', () => {
  assert.deepEqual(actions.PALETTE, ['#666666', '#FF0000', '#FFA500', '#FFFF00', '#008000', '#0000FF', '#8A2BE2']);
  assert.equal(actions.LINE_WIDTH, 5);
});

// strokeOf is a recorded stroke whose first point is (x, x).
const strokeOf = (x) => actions.strokeActions([[x, x], [x + 1, x + 1]], '#FF0000', 5);
// firstPoints lists the first moveTo x of every stroke replay drew.
function drawnStrokes(value) {
  const { ctx, log } = ctxAndLog();
  actions.replay(ctx, value);
  return log.filter((e) => e[0] === 'moveTo').map((e) => e[1]);
}
const U = a('undo');
const C = a('clear');
const S = a('space', 375, 500);

test('space, undo and clear: what is drawn', async (t) => {
  for (const [name, list, want] of [
    ['space alone draws nothing', [S], []],
    ['strokes', [S, ...strokeOf(1), ...strokeOf(2)], [1, 2]],
    ['undo takes back the latest stroke', [S, ...strokeOf(1), ...strokeOf(2), U], [1]],
    ['two undos take back two', [S, ...strokeOf(1), ...strokeOf(2), U, U], []],
    ['undo with nothing standing does nothing', [S, U, U, ...strokeOf(3)], [3]],
    ['undo never takes back space', [S, ...strokeOf(1), U, U, ...strokeOf(2)], [2]],
    ['clear hides everything before it', [S, ...strokeOf(1), ...strokeOf(2), C, ...strokeOf(3)], [3]],
    ['undo right after clear brings it back', [S, ...strokeOf(1), C, U], [1]],
    ['undo after a stroke after clear takes the stroke', [S, ...strokeOf(1), C, ...strokeOf(2), U], []],
    ['two clears, one undone', [S, ...strokeOf(1), C, ...strokeOf(2), C, U], [2]],
    ['a 2016 drawing: each action a unit', [a('moveTo', 7, 7), a('lineTo', 8, 8), a('stroke'), U], [7]],
    ['an unclosed stroke group runs to the end', [...strokeOf(1).slice(0, -1)], [1]],
    ['nested save/restore stays one unit', [a('save'), a('save'), a('moveTo', 4, 4), a('restore'), a('stroke'), a('restore'), U], []],
    ['a stored string', JSON.stringify([S, ...strokeOf(5), U, ...strokeOf(6)]), [6]],
    ['odd entries are no units and never throw', [null, 5, ...strokeOf(1), U, U], []],
  ]) {
    await t.test(name, () => assert.deepEqual(drawnStrokes(list), want));
  }
});

// The undo and clear cases the server's renderer is tested with too
// (internal/render/units_test.go): both take back and hide the same strokes.
test('undo and clear, plain and targeted: the cases shared with the Go renderer', async (t) => {
  const file = new URL('../../internal/render/testdata/units.json', import.meta.url);
  const cases = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(cases.length > 20);
  for (const c of cases) {
    await t.test(c.name, () => assert.deepEqual(drawnStrokes(c.actions), c.drawn));
  }
});

test('units: indexes, lastUnit and unitCount', () => {
  const list = [S, ...strokeOf(1), U, ...strokeOf(2), ...strokeOf(3), a('undo', 1), a('clear', 0, 3)];
  assert.deepEqual(actions.units(list).map((u) => [u.index, u.clear, u.hidden]), [[2, false, true], [3, true, false]]);
  assert.equal(actions.unitCount(list), 4, 'taken back or not, every unit counts');
  assert.equal(actions.lastUnit(list), 3, 'the clear');
  assert.equal(actions.lastUnit([S, ...strokeOf(1), a('undo', 0)]), -1);
  assert.equal(actions.unitCount(JSON.stringify(list)), 4, 'a stored string');
});

test('pinUnits writes plain undos and clears with their targets, from an action on', () => {
  const head = [S, ...strokeOf(1), ...strokeOf(2)];
  const list = [...head, U, C, U, U, U, ...strokeOf(3)];
  const pinned = actions.pinUnits(list, head.length);
  // undo takes unit 1; clear (unit 2) hides 0..1; undo takes the clear, then unit 0; the last takes nothing.
  assert.deepEqual(pinned.slice(head.length), [a('undo', 1), a('clear', 0, 2), a('undo', 2), a('undo', 0), ...strokeOf(3)]);
  assert.deepEqual(drawnStrokes(pinned), drawnStrokes(list), 'the same drawing');
  assert.deepEqual(actions.pinUnits([...head, U], head.length + 1), [...head, U], 'before from: left as it is');
});

test('shiftUnits moves targets at or past the insertion point', () => {
  const list = [a('undo', 0), a('undo', 2), a('undo', 5), a('clear', 0, 4), a('clear', 2, 3), a('clear', 0, 1), U, C, ...strokeOf(1)];
  assert.deepEqual(actions.shiftUnits(list, 2, 3), [
    a('undo', 0), a('undo', 5), a('undo', 8), a('clear', 0, 2, 5, 7), a('clear', 5, 6), a('clear', 0, 1), U, C, ...strokeOf(1),
  ]);
  assert.deepEqual(actions.shiftUnits([a('clear', 1, 2, 'x', 3, 3, 3)], 0, 1), [a('clear', 2, 3)], 'empty and odd ranges are dropped');
  const none = a('clear', 'x', 1, 2, 2);
  assert.deepEqual(actions.shiftUnits([none], 0, 1), [none], 'a clear that hid nothing never becomes a plain one');
});

test('canUndo and canClear', () => {
  assert.equal(actions.canUndo([S]), false);
  assert.equal(actions.canUndo([S, ...strokeOf(1)]), true);
  assert.equal(actions.canUndo([S, ...strokeOf(1), U]), false);
  assert.equal(actions.canClear([S, ...strokeOf(1), C]), false);
  assert.equal(actions.canUndo([S, ...strokeOf(1), C]), true);
  assert.equal(actions.canClear('not json'), false);
});

test('scaleFor maps the 375-wide space onto any canvas, with or without space', async (t) => {
  for (const [width, want] of [[375, 1], [750, 2], [125, 1 / 3], [0, 1], ['x', 1]]) {
    await t.test(String(width), () => assert.equal(actions.scaleFor(width), want));
  }
  // A pixel drawing (no space, from a 375-wide phone) and a logical one replay the same.
  const old = drawnStrokes([...strokeOf(10)]);
  const now = drawnStrokes([S, ...strokeOf(10)]);
  assert.deepEqual(old, now);
});

test('byteLength counts UTF-8', () => {
  assert.equal(actions.byteLength('abc'), 3);
  assert.equal(actions.byteLength('一笔'), 6);
  assert.equal(actions.byteLength('😀'), 4);
});

test('Drawing: a new drawing starts with space; edits append and report', () => {
  const d = new Drawing();
  assert.deepEqual(d.actions, [S]);
  assert.equal(d.canUndo, false);
  assert.deepEqual(d.undo(), [], 'nothing to undo');
  assert.deepEqual(d.clear(), [], 'nothing to clear');
  const added = d.stroke([[1, 2], [3, 4]], { color: '#FF0000', width: 12 });
  assert.deepEqual(added.map((x) => x.method), ['save', 'moveTo', 'lineTo', 'setStrokeStyle', 'setLineWidth', 'stroke', 'restore']);
  assert.deepEqual(added[4].data, [12]);
  const erased = d.stroke([[1, 2]], { eraser: true });
  assert.deepEqual(erased[3].data, ['#FFFFFF']);
  assert.deepEqual(erased[4].data, [20]);
  // Each names what it takes back or hides: unit 1 (the eraser stroke), units 0 and 1.
  assert.deepEqual(d.undo(), [a('undo', 1)]);
  assert.deepEqual(d.clear(), [a('clear', 0, 2)]);
  assert.equal(d.canClear, false);
  assert.deepEqual(d.undo(), [a('undo', 2)], 'the clear is unit 2');
  assert.equal(d.canClear, true);
  assert.equal(d.actions.length, 1 + 7 + 7 + 1 + 1 + 1);
  assert.deepEqual(ink({ eraser: true }), { color: '#FFFFFF', width: 20 });
  assert.deepEqual(ink({}), { color: '#666666', width: 5 });
});

test('Drawing: an old drawing is continued as it is', () => {
  const old = [a('moveTo', 1, 1), a('lineTo', 2, 2), a('stroke')];
  const d = new Drawing(JSON.stringify(old));
  assert.deepEqual(d.actions, old);
});

test('Drawing: full before the limit, never past it', async (t) => {
  const limit = 4096;
  const d = new Drawing(undefined, limit);
  let strokes = 0;
  const points = Array.from({ length: 40 }, (_, i) => [i * 9.123, i * 7.456]);
  while (!d.full && strokes < 1000) {
    assert.ok(d.stroke(points, { color: '#0000FF', width: 5 }).length > 0);
    strokes++;
  }
  await t.test('it filled up', () => assert.ok(strokes > 0 && d.full, `strokes ${strokes}, full ${d.full}`));
  await t.test('a full drawing takes no stroke', () => assert.deepEqual(d.stroke(points, {}), []));
  await t.test('undo and clear still fit', () => {
    assert.deepEqual(d.undo(), [a('undo', strokes - 1)]);
    assert.ok(actions.byteLength(actions.serialize(d.actions)) <= limit);
  });
  await t.test('a stroke is cut to the room left', () => {
    const e = new Drawing(undefined, actions.FULL_BYTES + actions.STROKE_BYTES + 10 * actions.POINT_BYTES + 40);
    const long = Array.from({ length: 500 }, (_, i) => [374.99 - i / 7, 499.99 - i / 9]);
    e.stroke(long, { color: '#0000FF', width: 12 });
    assert.ok(actions.byteLength(actions.serialize(e.actions)) <= e.maxBytes, `${actions.byteLength(actions.serialize(e.actions))} > ${e.maxBytes}`);
  });
});

test('recordCalls and playCalls replay a drawing stroke by stroke, scaled, to the end', () => {
  // 600 strokes: at most about 300 frames, so two strokes a frame.
  const list = [actions.spaceAction()];
  for (let i = 0; i < 600; i++) list.push(...actions.strokeActions([[i % 375, 10], [i % 375, 20]], '#FF0000'));
  const calls = actions.recordCalls(list, 750); // twice the drawing space
  assert.ok(calls.some((c) => c[0] === 'scale' && c[1][0] === 2), 'the replay is scaled to the canvas');

  let strokes = 0;
  const ctx = new Proxy({}, {
    get: (t, name) => (...args) => { if (name === 'stroke') strokes++; },
    set: () => true,
  });
  const frames = [];
  let done = false;
  playCalls(ctx, calls, (fn) => frames.push(fn), () => { done = true; });
  const seen = [];
  while (frames.length) {
    frames.shift()();
    seen.push(strokes);
  }
  assert.equal(done, true);
  assert.equal(strokes, 600);
  assert.equal(seen[0], 2, 'the first frame draws two strokes, not the drawing');
  assert.ok(seen.length >= 299 && seen.length <= 301, `about 300 frames, got ${seen.length}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1]);
});

test('playCalls stops when told', () => {
  const list = [];
  for (let i = 0; i < 10; i++) list.push(...actions.strokeActions([[i, 1], [i, 2]], '#000000'));
  let strokes = 0;
  const ctx = new Proxy({}, { get: (t, name) => () => { if (name === 'stroke') strokes++; }, set: () => true });
  const frames = [];
  const stop = playCalls(ctx, actions.recordCalls(list, 375), (fn) => frames.push(fn));
  frames.shift()();
  stop();
  while (frames.length) frames.shift()();
  assert.equal(strokes, 1);
});
