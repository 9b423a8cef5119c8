// ES module face of wxsession.js (one source for every runtime): loading
// the script in a module context, where `module` is undefined, makes it
// assign globalThis.wxsession, which this file re-exports.
import './wxsession.js';

const wxsession = globalThis.wxsession;
export default wxsession;
export const {
  MAGIC, HEADER_CODE, HEADER_RAW_DATA, HEADER_SIGNATURE,
  ERR_SESSION_EXPIRED, ERR_SESSION_KEY_EXCHANGE_FAILED, ERR_UNTRUSTED_RAW_DATA,
  ERR_WX_LOGIN_FAILED, ERR_WX_GET_USER_INFO, ERR_REQUEST_FAILED, ERR_SESSION,
  createClient, wxPlatform, request, requestAsync, clear, resetDefault,
} = wxsession;
