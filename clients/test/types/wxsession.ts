// Compiled by `tsc --noEmit` (test/types.test.js), never run: uses every
// declaration of wxsession.d.ts as an app would, against WeChat's own
// typings (miniprogram-api-typings) for `wx`.
import wxsession, {
  createClient, wxPlatform, request, requestAsync, clear, resetDefault,
  MAGIC, HEADER_CODE, ERR_SESSION, ERR_SESSION_EXPIRED,
  type Client, type Platform, type Response, type WxSessionError,
} from '../../miniprogram/lib/wxsession.js';

interface Envelope { code: number; msg: string; data?: unknown }

const platform: Platform = wxPlatform(wx);
const client: Client = createClient({ platform, maxRetries: 2 });

client.request<Envelope>({
  url: 'https://example.com/applet/session/paints/list',
  success(res: Response<Envelope>) {
    const code: number = res.data.code;
    console.log(code, res.statusCode);
  },
  fail(err: WxSessionError) {
    if (err.type === ERR_SESSION && err.reason === ERR_SESSION_EXPIRED) clear();
  },
  complete() {},
});

async function save(): Promise<number> {
  const res = await requestAsync<Envelope>({ url: '/applet/session/paints/save', method: 'POST', data: { id: 'x', actions: '[]' } });
  return res.data.code;
}

const code: string | null = client.code();
const magic: 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A' = MAGIC;
const header: string = HEADER_CODE;
request({ url: '/x' });
resetDefault();
wxsession.createClient({ platform: { login: async () => ({ code: 'c' }), getUserInfo: async () => ({ rawData: '{}', signature: 's' }), request: async () => ({ statusCode: 200, data: {}, header: {} }) } });
export { save, code, magic, header };

// v2: wx.login alone, a bearer token kept in wx storage.
import {
  configure, getClient, ERR_SESSION_KEY_STALE, ERR_API, DEFAULT_STORAGE_KEY,
  type V2Client, type LoginResult, type Profile, type PhoneNumber, type UploadResponse, type DownloadResponse, type WxPlatform,
} from '../../miniprogram/lib/wxsession.js';

const wxp: WxPlatform = wxPlatform(wx);
const v2: V2Client = createClient({
  protocol: 'v2',
  platform: wxp,
  base: 'https://example.com/applet',
  storageKey: DEFAULT_STORAGE_KEY,
  maxRetries: 3,
  onLogin(r: LoginResult) { if (r.isNew) wx.navigateTo({ url: '/pages/profile/profile' }); },
});

async function v2Flow(): Promise<string> {
  const l: LoginResult = await v2.login();
  const me: Profile = await v2.me();
  const p: Profile = await v2.profile({ nickName: '小明', avatar: 'wxfile://tmp/a.png' });
  const phone: PhoneNumber = await v2.bindPhone('code');
  const steps = await v2.decrypt<{ stepInfoList: { step: number }[] }>({ encryptedData: 'e', iv: 'i' });
  // A function gives fresh data after a re-login (ERR_SESSION_KEY_STALE).
  const fresh = await v2.decrypt(() => new Promise<{ encryptedData: string; iv: string }>((resolve) =>
    wx.getWeRunData({ success: (r) => resolve({ encryptedData: r.encryptedData, iv: r.iv }) })));
  const up: UploadResponse = await v2.uploadFileAsync({ url: '/applet/session/profile', filePath: 'f', name: 'avatar', formData: { nickName: 'n' } });
  const pic: DownloadResponse = await v2.downloadFileAsync({ url: '/applet/session/paints/image?id=a&w=250', header: { 'If-None-Match': '"e"' } });
  await v2.logout({ all: true });
  const t: string | null = v2.token();
  return [l.token, l.expiresIn, me.hasPhone, p.avatarUrl, phone.purePhoneNumber, steps.stepInfoList.length, Object.keys(fresh).length, up.data, pic.statusCode, pic.tempFilePath, t].join();
}

v2.request<Envelope>({
  url: '/applet/session/paints/list',
  success(res) { console.log(res.data.code); },
  fail(err) { if (err.reason === ERR_SESSION_KEY_STALE || err.type === ERR_API) v2.clear(); },
});
v2.downloadFile({ url: '/d', success(res: DownloadResponse) { console.log(res.statusCode, res.tempFilePath); } });
v2.uploadFile({ url: '/u', filePath: 'f', name: 'avatar', success(res: UploadResponse) { console.log(res.data.length); } });

configure({ protocol: 'v2', base: 'https://example.com/applet' });
const def = getClient();
if (def.protocol === 'v2') def.me().then((m) => console.log(m.nickName));
else console.log(def.code());
configure();
// The minimal v2 platform: no getUserInfo, no storage.
createClient({ protocol: 'v2', platform: { login: async () => ({ code: 'c' }), request: async () => ({ statusCode: 200, data: {}, header: {} }) } });
export { v2Flow };
