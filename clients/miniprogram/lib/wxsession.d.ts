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

export type ErrorType = 'ERR_WX_LOGIN_FAILED' | 'ERR_WX_GET_USER_INFO' | 'ERR_REQUEST_FAILED' | 'ERR_SESSION' | 'ERR_API';

/** The error passed to fail or rejected by requestAsync. */
export interface WxSessionError extends Error {
  name: 'WxSessionError';
  /** What failed: login, getUserInfo, the network, the session layer, or (v2 helpers) the API. */
  type: ErrorType;
  /** ERR_SESSION: the envelope's reason (ERR_SESSION_EXPIRED …), or null when it had none. ERR_API: the answer's error.reason text, or null. */
  reason: string | null;
  /** ERR_SESSION, ERR_API: the HTTP status. */
  statusCode?: number;
  /** ERR_SESSION: the envelope itself. ERR_API: the answer's body. */
  data?: unknown;
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
  /** 'v1' (the default): the 2016 headers. */
  protocol?: 'v1';
  platform: Platform;
  /** Re-logins allowed per request after ERR_SESSION_EXPIRED / ERR_SESSION_KEY_EXCHANGE_FAILED. Default 3. */
  maxRetries?: number;
}

export interface Client {
  protocol: 'v1';
  /** wx.request with the session: callbacks, no return value (the 2016 client's shape). */
  request<T = any>(options: RequestOptions<T>): void;
  /** The same as a Promise. */
  requestAsync<T = any>(options: Omit<RequestOptions<T>, 'success' | 'fail' | 'complete'>): Promise<Response<T>>;
  /** Forgets the session; the next request logs in again. */
  clear(): void;
  /** The session code the server accepted, or null. */
  code(): string | null;
}

/** Synchronous key-value storage, as wx.getStorageSync / setStorageSync / removeStorageSync. */
export interface Storage {
  /** The stored value, or '' (as wx gives) / undefined / null when there is none. */
  get(key: string): unknown;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/** wx.uploadFile's options (the token header is added), plus its callbacks. */
export interface UploadFileOptions {
  url: string;
  filePath: string;
  /** The file part's name. */
  name: string;
  header?: Record<string, string>;
  formData?: Record<string, string>;
  timeout?: number;
  success?: (res: UploadResponse) => void;
  fail?: (err: WxSessionError) => void;
  complete?: () => void;
  [key: string]: unknown;
}

/** wx.uploadFile's answer: data is the body as a string. */
export interface UploadResponse {
  statusCode: number;
  data: string;
  errMsg?: string;
}

/** wx.downloadFile's options (the token header is added), plus its callbacks. */
export interface DownloadFileOptions {
  url: string;
  header?: Record<string, string>;
  timeout?: number;
  success?: (res: DownloadResponse) => void;
  fail?: (err: WxSessionError) => void;
  complete?: () => void;
  [key: string]: unknown;
}

/**
 * wx.downloadFile's answer: the body in a temporary file, whatever the
 * status. For a status other than 200 and 304, data is the body read back
 * (parsed when it is JSON) where the platform can read it.
 */
export interface DownloadResponse {
  statusCode: number;
  tempFilePath?: string;
  /** Response headers, where the platform gives them (the simulator platform does). */
  header?: Record<string, string>;
  data?: unknown;
  errMsg?: string;
}

/** What a v2 client needs from its runtime: no getUserInfo. */
export interface V2Platform {
  /** wx.login: resolves with the login code. */
  login(): Promise<{ code: string }>;
  /** wx.request: resolves for every HTTP status; rejects only when no answer came. */
  request(options: Omit<RequestOptions, 'success' | 'fail' | 'complete'> & { header: Record<string, string> }): Promise<Response>;
  /** wx.uploadFile, for uploadFile and profile({avatar}). */
  uploadFile?(options: Omit<UploadFileOptions, 'success' | 'fail' | 'complete'> & { header: Record<string, string> }): Promise<UploadResponse>;
  /** wx.downloadFile, for downloadFile (pictures of paints). */
  downloadFile?(options: Omit<DownloadFileOptions, 'success' | 'fail' | 'complete'> & { header: Record<string, string> }): Promise<DownloadResponse>;
  /** Where the token is kept when ClientOptions gives none (wx storage in wxPlatform). */
  storage?: Storage;
}

/** The answer of POST {base}/session/login, given to onLogin and by login(). */
export interface LoginResult {
  token: string;
  /** Seconds until the token expires if unused (the idle limit; each use extends it). */
  expiresIn: number;
  /** True when the user has no profile yet: show the profile page. */
  isNew: boolean;
  user: { nickName: string; avatarUrl: string };
}

/** GET {base}/session/me and POST {base}/session/profile. */
export interface Profile {
  nickName: string;
  /** A path on the server ('' when unset). */
  avatarUrl: string;
  hasPhone: boolean;
}

export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/** WeChat's encrypted user data, as wx.getWeRunData (and the old getPhoneNumber flow) give it. */
export interface EncryptedData {
  encryptedData: string;
  iv: string;
}

export interface V2ClientOptions {
  protocol: 'v2';
  platform: V2Platform;
  /** The server's URL and route base path: {base}/session/login … Default '/applet' (same origin). */
  base?: string;
  /** Where the token is kept. Default: platform.storage, else memory (lost on restart). */
  storage?: Storage;
  /** The token's storage key. Default 'wxsession.token'. */
  storageKey?: string;
  /** Re-logins allowed per request after ERR_SESSION_EXPIRED / ERR_SESSION_KEY_STALE (or a refused code). Default 3. */
  maxRetries?: number;
  /** Called after every login, explicit or not (isNew: ask for a profile). */
  onLogin?: (result: LoginResult) => void;
}

export interface V2Client {
  protocol: 'v2';
  /** wx.request with `Authorization: Bearer`: callbacks, no return value. */
  request<T = any>(options: RequestOptions<T>): void;
  /** The same as a Promise. */
  requestAsync<T = any>(options: Omit<RequestOptions<T>, 'success' | 'fail' | 'complete'>): Promise<Response<T>>;
  /** wx.uploadFile with the token, logging in and resending like request. */
  uploadFile(options: UploadFileOptions): void;
  uploadFileAsync(options: Omit<UploadFileOptions, 'success' | 'fail' | 'complete'>): Promise<UploadResponse>;
  /** wx.downloadFile with the token, logging in and resending like request (e.g. {base}/session/paints/image). */
  downloadFile(options: DownloadFileOptions): void;
  downloadFileAsync(options: Omit<DownloadFileOptions, 'success' | 'fail' | 'complete'>): Promise<DownloadResponse>;
  /** Logs in now (wx.login, POST {base}/session/login), sharing a login already in flight. */
  login(): Promise<LoginResult>;
  /** POST {base}/session/logout (all: every session of the user, v1 too); the token is forgotten even if that fails. */
  logout(options?: { all?: boolean }): Promise<void>;
  /** GET {base}/session/me. */
  me(): Promise<Profile>;
  /** POST {base}/session/profile: multipart through uploadFile when avatar (a file path, as chooseAvatar gives) is set, JSON otherwise. */
  profile(profile: { nickName?: string; avatar?: string }): Promise<Profile>;
  /** POST {base}/session/phone with a getPhoneNumber code. */
  bindPhone(code: string): Promise<PhoneNumber>;
  /**
   * POST {base}/session/decrypt: encryptedData decrypted on the server with the session's session_key.
   * source is the data, or a function that gets it (e.g. `() => wx.getWeRunData()`), called once per
   * attempt, after any login the attempt needs. On ERR_SESSION_KEY_STALE the data is under a key the
   * server no longer holds, and resending it cannot help: the client logs in again, then calls a
   * function again and sends its fresh data (at most maxRetries times), but rejects for a plain object
   * (type 'ERR_SESSION', reason 'ERR_SESSION_KEY_STALE'): get the data anew and decrypt that.
   */
  decrypt<T = Record<string, unknown>>(source: EncryptedData | (() => EncryptedData | PromiseLike<EncryptedData>)): Promise<T>;
  /** Forgets the token (and removes it from storage) without telling the server. */
  clear(): void;
  /** The current token, or null. */
  token(): string | null;
}

export declare const MAGIC: 'F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';
export declare const HEADER_CODE: 'X-WX-Code';
export declare const HEADER_RAW_DATA: 'X-WX-RawData';
export declare const HEADER_SIGNATURE: 'X-WX-Signature';
export declare const HEADER_AUTHORIZATION: 'Authorization';
export declare const DEFAULT_STORAGE_KEY: 'wxsession.token';
export declare const ERR_SESSION_KEY_STALE: 'ERR_SESSION_KEY_STALE';
export declare const ERR_API: 'ERR_API';
export declare const ERR_SESSION_EXPIRED: 'ERR_SESSION_EXPIRED';
export declare const ERR_SESSION_KEY_EXCHANGE_FAILED: 'ERR_SESSION_KEY_EXCHANGE_FAILED';
export declare const ERR_UNTRUSTED_RAW_DATA: 'ERR_UNTRUSTED_RAW_DATA';
export declare const ERR_WX_LOGIN_FAILED: 'ERR_WX_LOGIN_FAILED';
export declare const ERR_WX_GET_USER_INFO: 'ERR_WX_GET_USER_INFO';
export declare const ERR_REQUEST_FAILED: 'ERR_REQUEST_FAILED';
export declare const ERR_SESSION: 'ERR_SESSION';

export declare function createClient(options: ClientOptions): Client;
export declare function createClient(options: V2ClientOptions): V2Client;
/** The part of the mini program's `wx` that wxPlatform calls (callback style). */
export interface WxLike {
  login(options: { success?: (res: any) => void; fail?: (err: any) => void }): unknown;
  getUserInfo(options: { success?: (res: any) => void; fail?: (err: any) => void }): unknown;
  request(options: any): unknown;
  uploadFile?(options: any): unknown;
  downloadFile?(options: any): unknown;
  /** Reads the body of a failed download (its session envelope). */
  getFileSystemManager?(): { readFile(options: any): void };
  getStorageSync?(key: string): any;
  setStorageSync?(key: string, data: any): void;
  removeStorageSync?(key: string): void;
}

/** wxPlatform's answer: a platform for both protocols. */
export interface WxPlatform extends Platform {
  uploadFile(options: Omit<UploadFileOptions, 'success' | 'fail' | 'complete'> & { header: Record<string, string> }): Promise<UploadResponse>;
  downloadFile(options: Omit<DownloadFileOptions, 'success' | 'fail' | 'complete'> & { header: Record<string, string> }): Promise<DownloadResponse>;
  storage: Storage;
}

export declare function wxPlatform(wx: WxLike): WxPlatform;

/** The default client's request, bound to the global wx: a drop-in for the 2016 client. */
export declare function request<T = any>(options: RequestOptions<T>): void;
export declare function requestAsync<T = any>(options: Omit<RequestOptions<T>, 'success' | 'fail' | 'complete'>): Promise<Response<T>>;
/** Forgets the default client's session. */
export declare function clear(): void;
/** Drops the default client, so the next call binds to the current global wx (its options stay). */
export declare function resetDefault(): void;
/** Sets the default client's options (platform defaults to wxPlatform(wx)); configure() goes back to v1. */
export declare function configure(options?: Partial<ClientOptions> | (Omit<V2ClientOptions, 'platform'> & { platform?: V2Platform })): void;
/** The default client: narrow on `protocol` for the v2 helpers. */
export declare function getClient(): Client | V2Client;

declare const wxsession: {
  MAGIC: typeof MAGIC;
  HEADER_CODE: typeof HEADER_CODE;
  HEADER_RAW_DATA: typeof HEADER_RAW_DATA;
  HEADER_SIGNATURE: typeof HEADER_SIGNATURE;
  HEADER_AUTHORIZATION: typeof HEADER_AUTHORIZATION;
  DEFAULT_STORAGE_KEY: typeof DEFAULT_STORAGE_KEY;
  ERR_SESSION_KEY_STALE: typeof ERR_SESSION_KEY_STALE;
  ERR_API: typeof ERR_API;
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
  configure: typeof configure;
  getClient: typeof getClient;
};
export default wxsession;
