// ES module face of simplatform.js: loading the script in a module context
// makes it set globalThis.yibiSimPlatform.
import './simplatform.js';

const simplatform = globalThis.yibiSimPlatform;
export default simplatform;
export const { createSimPlatform, listUsers } = simplatform;
