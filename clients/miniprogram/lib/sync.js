/*
 * sync: the outbox's transport for the paint API (docs/api.md). Each save
 * appends only what the server has not acknowledged, at the revision the
 * device last saw, so the upload for a drawing grows with its new strokes,
 * not with the drawing.
 *
 * When another device or tab wrote first (409 revision conflict), the
 * paint is read back with `get` and rebuilt as the server's actions
 * followed by ours, and ours are appended at the server's revision:
 * neither side's strokes are lost. Our undos and clears name the units
 * they take back or hide (docs/drawing.md), and those names are moved past
 * the units the server gained, so an undo of our stroke still takes back
 * our stroke, not the other device's that now comes after it, and a clear
 * hides only what this device saw. The rebuilt drawing is returned, so the
 * outbox keeps it and the page repaints it.
 *
 * One app-specific function is all it needs: call(name, body, id) sends
 * POST {base}/session/paints/<name> with the JSON body (or, with no body,
 * GET …/<name>?id=<id>) through the session SDK and resolves with
 * {statusCode, data}, the answer's envelope; it rejects when there is no
 * answer (network).
 */
import { parse, unitCount, pinUnits, shiftUnits } from './actions.js';
import { FULL, QUOTA } from './outbox.js';

/** Reasons of refusals that retrying soon will not fix, and the outbox state each shows. */
export const REFUSED = {
  'paint is full': FULL,
  'storage quota exceeded': QUOTA,
  'too many paints': QUOTA,
};

/** CONFLICTS: rebuilds tried in one send before giving up to the outbox's backoff. */
export const CONFLICTS = 4;

// sameActions compares action lists by their JSON, as stored.
function sameActions(a, b) {
  return a.length === b.length && JSON.stringify(a) === JSON.stringify(b);
}

function failure(res, reason) {
  const err = new Error(`paints: ${reason || 'HTTP ' + res.statusCode}`);
  err.statusCode = res.statusCode;
  err.reason = reason || null;
  if (REFUSED[reason]) err.state = REFUSED[reason];
  return err;
}

/**
 * rebase rebuilds a drawing after a conflict: local's first base actions
 * are what the server had acknowledged, server is the paint now. Returns
 * {actions, at, by}: the rebuilt drawing and how its units moved (by units
 * inserted at unit index at), for edits made on local meanwhile.
 */
export function rebase(local, base, server) {
  const ours = local.slice(base);
  if (sameActions(server.slice(base, base + ours.length), ours)) {
    // Our earlier append arrived; only its answer was lost. Sending it
    // again would draw every stroke twice. Units another device appended
    // after it come before anything we add next.
    const at = unitCount(local);
    return { actions: server, at, by: unitCount(server) - at };
  }
  // Ours move past what the server gained since our base. Plain undos and
  // clears an older app left pending are pinned to what they meant first.
  const at = unitCount(local.slice(0, base));
  const by = unitCount(server) - at;
  const pinned = pinUnits(local, base).slice(base);
  return { actions: server.concat(shiftUnits(pinned, at, by)), at, by };
}

/**
 * appendSender makes the outbox's send: ({id, actions, acked, rev}) →
 * {rev} or, after a conflict, {rev, actions, follow} with the rebuilt
 * drawing and follow(edits), which rewrites edits made on the old drawing
 * meanwhile so they name the same units in the rebuilt one.
 */
export function appendSender(call) {
  return async function send({ id, actions: list, acked, rev }) {
    let local = list;
    let base = acked || 0;
    let at = rev || 0;
    let rebuilt = false;
    const moves = [];
    const follow = (edits) => moves.reduce((l, m) => shiftUnits(l, m.at, m.by), edits);
    const done = (r) => (rebuilt ? { rev: r, actions: local, follow } : { rev: r });
    for (let i = 0; i <= CONFLICTS; i++) {
      const add = local.slice(base);
      if (!add.length) return done(at);
      const res = await call('append', { id, rev: at, actions: add });
      const body = (res && res.data) || {};
      if (body.code === 0) return done(body.data && body.data.rev);
      const reason = body.error && body.error.reason;
      if (res.statusCode !== 409 || reason !== 'revision conflict') throw failure(res, reason);

      const got = await call('get', null, id);
      const g = (got && got.data) || {};
      if (got.statusCode === 404) {
        // Deleted elsewhere (or never created, a new paint whose first
        // answer was lost): what this device has becomes the paint again.
        base = 0;
        at = 0;
        continue;
      }
      if (g.code !== 0 || !g.data) throw failure(got, g.error && g.error.reason);
      const server = parse(g.data.actions);
      const r = rebase(local, base, server);
      local = r.actions;
      moves.push(r);
      base = server.length;
      at = g.data.rev;
      rebuilt = true;
    }
    const err = new Error('paints: revision conflict: other writers keep winning');
    err.reason = 'revision conflict';
    throw err;
  };
}

export default { appendSender, rebase, REFUSED, CONFLICTS };
