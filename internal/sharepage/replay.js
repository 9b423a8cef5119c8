// Replays a shared drawing stroke by stroke on demand, with the clients'
// shared reader (the ES module at the page's data-lib,
// miniprogram/lib/actions.js: undo, clear and the drawing space included):
// it records the canvas calls of a replay, then plays them on the real
// canvas a few strokes per frame.
const main = document.getElementById('yb');
const img = document.getElementById('pic');
const canvas = document.getElementById('cv');
const button = document.getElementById('replay');
if (main && canvas && button && typeof Proxy === 'function') {
  import(main.getAttribute('data-lib')).then((reader) => start(reader), () => {});
}

function start(reader) {
  button.hidden = false;

  // The reader records the canvas calls of a replay and plays them a few
  // strokes per frame (recordCalls, playCalls): the mini program's view
  // page replays with the same two.
  function play(calls) {
    var ctx = canvas.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#FFFFFF';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    canvas.hidden = false;
    img.hidden = true;
    reader.playCalls(ctx, calls, requestAnimationFrame, function () {
      button.disabled = false;
      main.setAttribute('data-replayed', '1');
    });
  }

  var calls = null;
  button.addEventListener('click', function () {
    button.disabled = true;
    if (calls) { play(calls); return; }
    fetch(main.getAttribute('data-actions'), { credentials: 'omit' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (text) { calls = reader.recordCalls(reader.parse(text), canvas.width); play(calls); })
      .catch(function () { button.disabled = false; });
  });
}
