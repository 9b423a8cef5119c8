import test from 'node:test';
import assert from 'node:assert/strict';
import actions from '../miniprogram/lib/actions.js';

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
