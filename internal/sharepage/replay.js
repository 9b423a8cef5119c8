// Replays a shared drawing stroke by stroke on demand. The drawing is
// replayed by the clients' shared reader (the ES module at the page's
// data-lib, miniprogram/lib/actions.js: undo, clear and the drawing space
// included), on a recording context: the canvas calls it makes are then
// played on the real canvas a few strokes per frame.
const main = document.getElementById('yb');
const img = document.getElementById('pic');
const canvas = document.getElementById('cv');
const button = document.getElementById('replay');
if (main && canvas && button && typeof Proxy === 'function') {
  import(main.getAttribute('data-lib')).then((reader) => start(reader), () => {});
}

function start(reader) {
  button.hidden = false;

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
      .then(function (text) { calls = record(reader.parse(text)); play(calls); })
      .catch(function () { button.disabled = false; });
  });
}
