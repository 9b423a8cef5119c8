// The browser app's pictures of paints: thumbnails and PNGs drawn by the
// server ({base}/session/paints/image), fetched with the session's token
// (an <img> cannot send it) through the SDK's downloadFile, kept as blob:
// URLs with their ETags so showing the gallery again costs a 304 per
// picture; and share links. An ES module: it sets no globals.

/**
 * createPictures makes the pictures of one user's client (a v2 wxsession
 * client whose platform has downloadFile, as simplatform's does).
 * base: the paint API's route base ('/applet').
 */
export function createPictures({ client, base }) {
  // cache: `${id}@${w}` -> {etag, blob, url}. One entry per picture shown;
  // its blob: URL is revoked when a newer picture replaces it, the paint is
  // forgotten, or the user changes (close).
  const cache = new Map();

  const api = (name) => `${base}/session/paints/${name}`;

  /**
   * url resolves with a blob: URL of paint id drawn w pixels wide: the
   * cached one when the server answers 304 to its ETag. Rejects when the
   * server has no picture (not saved yet: 404) or cannot answer.
   */
  async function url(id, w) {
    const key = `${id}@${w}`;
    const had = cache.get(key);
    const res = await client.downloadFileAsync({
      url: `${api('image')}?id=${encodeURIComponent(id)}&w=${w}`,
      header: had && had.etag ? { 'If-None-Match': had.etag } : {},
    });
    if (res.statusCode === 304 && had) return had.url;
    if (res.statusCode !== 200 || !res.tempFilePath) {
      const reason = res.data && res.data.error && res.data.error.reason;
      const err = new Error(reason || `HTTP ${res.statusCode}`);
      err.statusCode = res.statusCode;
      throw err;
    }
    const now = cache.get(key); // another load may have stored one meanwhile
    if (now) URL.revokeObjectURL(now.url);
    cache.set(key, { etag: (res.header && res.header.etag) || '', blob: res.blob, url: res.tempFilePath });
    return res.tempFilePath;
  }

  /** forget drops the pictures of paint id (deleted). */
  function forget(id) {
    for (const [key, v] of cache) {
      if (key.startsWith(id + '@')) { URL.revokeObjectURL(v.url); cache.delete(key); }
    }
  }

  /** close drops every picture (another user, or logged out). */
  function close() {
    for (const v of cache.values()) URL.revokeObjectURL(v.url);
    cache.clear();
  }

  async function post(name, id) {
    const res = await client.requestAsync({ url: api(name), method: 'POST', header: { 'content-type': 'application/json' }, data: { id } });
    const body = res.data;
    if (!body || body.code !== 0) throw new Error((body && body.error && body.error.reason) || `HTTP ${res.statusCode}`);
    return body.data;
  }

  /** share makes (or gets) paint id's public link: {url, image}, absolute. */
  async function share(id) {
    const d = await post('share', id);
    return { url: location.origin + d.url, image: location.origin + d.image };
  }

  /** unshare ends paint id's public link. */
  function unshare(id) { return post('unshare', id).then(() => {}); }

  /** download saves paint id as <id>.png, 750 px wide, the shared picture's size. */
  async function download(id) {
    const a = document.createElement('a');
    a.href = await url(id, 750);
    a.download = `${id}.png`;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
  }

  return { url, forget, close, share, unshare, download, size: () => cache.size };
}
