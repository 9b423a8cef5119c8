// ES module face of actions.js (one source for every runtime): loading the
// script in a module context makes it set globalThis.yibiActions.
import './actions.js';

const actions = globalThis.yibiActions;
export default actions;
export const {
  PALETTE, LINE_WIDTH, THUMBNAIL_SCALE, color, parse, replay, strokeActions, serialize,
} = actions;
