// Type declarations for wxsession.js, an ES module:
//   import wxsession from './lib/wxsession.js';          // the default object
//   import { createClient } from './lib/wxsession.js';   // or by name
// `tsc --noEmit` checks them in the tests (test/types.test.js).

/** The options of wx.request, plus its callbacks. */
export interface RequestOptions<T = any> {
  url: string;
  data?: string | object | ArrayBuffer;
  /** Kept and merged with the session headers (which win on a clash). */
  header?: Record<string, string>;
  method?: 'OPTIONS' | 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'TRACE' | 'CONNECT' | string;
  dataType?: 'json' | string;
  responseType?: 'text' | 'arraybuffer';
  timeout?: number;
  /** Called for every HTTP answer that is not a session error envelope. */
  success?: (res: Response<T>) => void;
  /** Called with the reason the request failed. */
  fail?: (err: WxSessionError) => void;
  /** Called exactly once, after success or fail. */
  complete?: () => void;
  [key: string]: unknown;
}

/** wx.request's answer. */
export interface Response<T = any> {
  statusCode: number;
  data: T;
  header: Record<string, string>;
  errMsg?: string;
}

export type ErrorType = 'ERR_WX_LOGIN_FAILED' | 'ERR_WX_GET_USER_INFO' | 'ERR_REQUEST_FAILED' | 'ERR_SESSION';

/** The error passed to fail or rejected by requestAsync. */
export interface WxSessionError extends Error {
  name: 'WxSessionError';
  /** What failed: login, getUserInfo, the network, or the session layer. */
  type: ErrorType;
  /** For ERR_SESSION: the envelope's reason (ERR_SESSION_EXPIRED …), or null when it had none. */
  reason: string | null;
  /** For ERR_SESSION: the HTTP status of the envelope. */
  statusCode?: number;
  /** For ERR_SESSION: the envelope itself. */
  data?: object;
  /** For ERR_SESSION: how many re-logins were spent on this request. */
  retries?: number;
  /** For the other types: what the platform reported. */
  cause?: unknown;
}

/** What a client needs from its runtime. wxPlatform(wx) makes one from the mini program API. */
export interface Platform {
  /** wx.login: resolves with the login code. */
  login(): Promise<{ code: string }>;
  /** wx.getUserInfo: resolves with rawData (a JSON string) and its signature. */
  getUserInfo(): Promise<{ rawData: string; signature: string; userInfo?: object }>;
  /** wx.request: resolves for every HTTP status; rejects only when no answer came. */
  request(options: Omit<RequestOptions, 'success' | 'fail' | 'complete'> & { header: Record<string, string> }): Promise<Response>;
}

export interface ClientOptions {
  platform: Platform;
  /** Re-logins allowed per request after ERR_SESSION_EXPIRED / ERR_SESSION_KEY_EXCHANGE_FAILED. Default 3. */
  maxRetries?: number;
}

export interface Client {
  /** wx.request with the session: callbacks, no return value (the 2016 client's shape). */
  request<T = any>(options: RequestOptions<T>): void;
  /** The same as a Promise. */
  requestAsync<T = any>(options: Omit<RequestOptions<T>, 'success' | 'fail' | 'complete'>): Promise<Response<T>>;
  /** Forgets the session; the next request logs in again. */
  clear(): void;
  /** The session code the server accepted, or null. */
  code(): string | null;
}

export declare const MAGIC: 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';
export declare const HEADER_CODE: 'X-WX-Code';
export declare const HEADER_RAW_DATA: 'X-WX-RawData';
export declare const HEADER_SIGNATURE: 'X-WX-Signature';
export declare const ERR_SESSION_EXPIRED: 'ERR_SESSION_EXPIRED';
export declare const ERR_SESSION_KEY_EXCHANGE_FAILED: 'ERR_SESSION_KEY_EXCHANGE_FAILED';
export declare const ERR_UNTRUSTED_RAW_DATA: 'ERR_UNTRUSTED_RAW_DATA';
export declare const ERR_WX_LOGIN_FAILED: 'ERR_WX_LOGIN_FAILED';
export declare const ERR_WX_GET_USER_INFO: 'ERR_WX_GET_USER_INFO';
export declare const ERR_REQUEST_FAILED: 'ERR_REQUEST_FAILED';
export declare const ERR_SESSION: 'ERR_SESSION';

export declare function createClient(options: ClientOptions): Client;
/** The part of the mini program's `wx` that wxPlatform calls (callback style). */
export interface WxLike {
  login(options: { success?: (res: any) => void; fail?: (err: any) => void }): unknown;
  getUserInfo(options: { success?: (res: any) => void; fail?: (err: any) => void }): unknown;
  request(options: any): unknown;
}

export declare function wxPlatform(wx: WxLike): Platform;

/** The default client's request, bound to the global wx: a drop-in for the 2016 client. */
export declare function request<T = any>(options: RequestOptions<T>): void;
export declare function requestAsync<T = any>(options: Omit<RequestOptions<T>, 'success' | 'fail' | 'complete'>): Promise<Response<T>>;
/** Forgets the default client's session. */
export declare function clear(): void;
/** Drops the default client, so the next call binds to the current global wx. */
export declare function resetDefault(): void;

declare const wxsession: {
  MAGIC: typeof MAGIC;
  HEADER_CODE: typeof HEADER_CODE;
  HEADER_RAW_DATA: typeof HEADER_RAW_DATA;
  HEADER_SIGNATURE: typeof HEADER_SIGNATURE;
  ERR_SESSION_EXPIRED: typeof ERR_SESSION_EXPIRED;
  ERR_SESSION_KEY_EXCHANGE_FAILED: typeof ERR_SESSION_KEY_EXCHANGE_FAILED;
  ERR_UNTRUSTED_RAW_DATA: typeof ERR_UNTRUSTED_RAW_DATA;
  ERR_WX_LOGIN_FAILED: typeof ERR_WX_LOGIN_FAILED;
  ERR_WX_GET_USER_INFO: typeof ERR_WX_GET_USER_INFO;
  ERR_REQUEST_FAILED: typeof ERR_REQUEST_FAILED;
  ERR_SESSION: typeof ERR_SESSION;
  createClient: typeof createClient;
  wxPlatform: typeof wxPlatform;
  request: typeof request;
  requestAsync: typeof requestAsync;
  clear: typeof clear;
  resetDefault: typeof resetDefault;
};
export default wxsession;
