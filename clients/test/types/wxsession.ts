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
