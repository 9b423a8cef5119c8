// Replays a shared drawing stroke by stroke on demand. The drawing is
// replayed by the clients' shared reader (lib/actions.js, loaded before
// this), on a recording context: the canvas calls it makes are then
// played on the real canvas a few strokes per frame.
(function () {
  'use strict';
  var main = document.getElementById('yb');
  var img = document.getElementById('pic');
  var canvas = document.getElementById('cv');
  var button = document.getElementById('replay');
  var reader = window.yibiActions;
  if (!main || !canvas || !button || !reader || typeof Proxy !== 'function') return;
  button.hidden = false;

  // standing applies undo and clear (docs/drawing.md), as the server's
  // renderer does (internal/render, standing).
  function standing(list) {
    var units = [];
    for (var i = 0; i < list.length;) {
      var m = list[i] && list[i].method;
      if (m === 'undo') { units.pop(); i++; continue; }
      if (m === 'save') {
        var depth = 0, j = i;
        for (; j < list.length; j++) {
          var n = list[j] && list[j].method;
          if (n === 'save') depth++; else if (n === 'restore') depth--;
          if (depth === 0) { j++; break; }
        }
        units.push([i, j]); i = j; continue;
      }
      units.push([i, i + 1]); i++;
    }
    var start = 0;
    for (var k = units.length - 1; k >= 0; k--) {
      if (list[units[k][0]] && list[units[k][0]].method === 'clear') { start = k + 1; break; }
    }
    var out = [];
    for (var u = start; u < units.length; u++) out = out.concat(list.slice(units[u][0], units[u][1]));
    return out;
  }

  // record returns the canvas calls replaying list makes: [name, args]
  // for a method, ['=', name, value] for a property set.
  function record(list) {
    var calls = [];
    var rec = new Proxy({}, {
      get: function (t, name) {
        return function () { calls.push([name, Array.prototype.slice.call(arguments)]); };
      },
      set: function (t, name, v) { calls.push(['=', name, v]); return true; }
    });
    reader.replay(rec, list, { scale: canvas.width / 375 });
    return calls;
  }

  var PAINTS = { stroke: 1, fill: 1, fillRect: 1, strokeRect: 1, clearRect: 1 };

  function play(calls) {
    var ctx = canvas.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#FFFFFF';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    canvas.hidden = false;
    img.hidden = true;
    var strokes = 0;
    for (var s = 0; s < calls.length; s++) if (PAINTS[calls[s][0]]) strokes++;
    var perFrame = Math.max(1, Math.ceil(strokes / 300)); // at most ~5 s
    var i = 0;
    function frame() {
      var done = 0;
      while (i < calls.length && done < perFrame) {
        var c = calls[i++];
        try {
          if (c[0] === '=') ctx[c[1]] = c[2]; else ctx[c[0]].apply(ctx, c[1]);
        } catch (e) { /* skip what this canvas refuses */ }
        if (PAINTS[c[0]]) done++;
      }
      if (i < calls.length) { requestAnimationFrame(frame); return; }
      button.disabled = false;
      main.setAttribute('data-replayed', '1');
    }
    requestAnimationFrame(frame);
  }

  var calls = null;
  button.addEventListener('click', function () {
    button.disabled = true;
    if (calls) { play(calls); return; }
    fetch(main.getAttribute('data-actions'), { credentials: 'omit' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (text) { calls = record(standing(reader.parse(text))); play(calls); })
      .catch(function () { button.disabled = false; });
  });
})();
