// Pictures of paints in the mini program: the server draws them
// ({base}/session/paints/image, the caller's own, with the session token;
// /s/<token>.png, a shared one, public; /s/<token>.card.png, its 5:4 share
// card), the pages show their temporary files, share them as WeChat cards,
// and save them to the photo album.
// The mini program's alone (the browser app has web/pictures.js); an ES
// module that sets no globals. `wx` is passed in, as lib/outbox.js does.

/** PICTURE_WIDTH: the width of a saved or shared picture, as /s/<token>.png. */
export const PICTURE_WIDTH = 750;

/**
 * thumbnailWidth is the pixel width to ask for a tile rpx wide (750 rpx
 * = the window's width), sharp at the device's pixel ratio.
 */
export function thumbnailWidth(wx, rpx) {
  const info = wx.getWindowInfo ? wx.getWindowInfo() : wx.getSystemInfoSync();
  const px = (rpx * (info.windowWidth || 375)) / 750;
  return Math.round(px * (info.pixelRatio || 1));
}

/** pictureUrl is the image route of paint id at width w (app.api builds paint API URLs). */
export function pictureUrl(app, id, w) {
  return app.api('image') + '?id=' + encodeURIComponent(id) + '&w=' + w;
}

/**
 * downloadPicture downloads the caller's picture of paint id at width w
 * (client: the SDK's v2 client, which adds the token and logs in again
 * when needed) and resolves with its temporary file. Rejects with
 * err.statusCode 404 for a paint the server does not have (not saved yet).
 */
export function downloadPicture(client, app, id, w) {
  return client.downloadFileAsync({ url: pictureUrl(app, id, w) }).then((res) => {
    if (res.statusCode === 200 && res.tempFilePath) return res.tempFilePath;
    const err = new Error('picture: HTTP ' + res.statusCode);
    err.statusCode = res.statusCode;
    throw err;
  });
}

/** TOKEN: what a share token looks like (the server's are 24 base64url characters). */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** tokenOf reads the token of a share answer's url ("/s/<token>"), or ''. */
export function tokenOf(url) {
  const m = /\/s\/([^/?#.]+)$/.exec(String(url || ''));
  return m && TOKEN.test(m[1]) ? m[1] : '';
}

/** isToken says whether t can be a share token (the view page's query). */
export function isToken(t) { return TOKEN.test(String(t || '')); }

/** viewPath is the view page of a shared paint, the path of a share card. */
export function viewPath(token) { return '/pages/view/view?token=' + token; }

/**
 * cardPath is the picture of a share card (imageUrl): WeChat shows it at
 * 5:4, so the 3:4 /s/<token>.png would be cropped; /s/<token>.card.png is
 * the whole drawing at 500 × 400.
 */
export function cardPath(token) { return '/s/' + token + '.card.png'; }

const TITLE = '一笔到底';

/**
 * shareMessage is onShareAppMessage's answer for paint id: WeChat shows
 * the card at once and waits (up to 3 s) for `promise`, which shares the
 * paint (POST {base}/session/paints/share, idempotent) and gives the card
 * the server's card picture (5:4) and a path to the read-only view page. If sharing
 * fails (a paint not saved yet, no network), the promise gives the
 * default card: the app's first page, no picture.
 */
export function shareMessage(client, app, id) {
  const fallback = { title: TITLE, path: '/pages/index/index' };
  const promise = client.requestAsync({
    url: app.api('share'), method: 'POST', header: { 'content-type': 'application/json' }, data: { id },
  }).then((res) => {
    const body = res.data || {};
    const token = body.code === 0 && body.data ? tokenOf(body.data.url) : '';
    if (!token) throw new Error('share: HTTP ' + res.statusCode);
    // A server from before card pictures answers only image: cropped, but a picture.
    return { title: TITLE, path: viewPath(token), imageUrl: app.url(body.data.card || body.data.image) };
  }).catch(() => fallback);
  return Object.assign({}, fallback, { promise });
}

/**
 * saveToAlbum saves the image file filePath to the photo album. A refused
 * permission (scope.writePhotosAlbum) is explained, with a way to the
 * settings; a cancel says nothing. Resolves 'saved', 'denied', 'cancelled'
 * or 'failed'; never rejects.
 */
export function saveToAlbum(wx, filePath) {
  return new Promise((resolve) => {
    wx.saveImageToPhotosAlbum({
      filePath,
      success: () => {
        wx.showToast({ title: '已保存到相册', icon: 'success' });
        resolve('saved');
      },
      fail: (err) => {
        const msg = (err && err.errMsg) || '';
        if (/cancel/i.test(msg)) { resolve('cancelled'); return; }
        if (/auth|authorize|permission|privacy/i.test(msg)) {
          wx.showModal({
            title: '无法保存到相册',
            content: '需要你允许一笔到底“添加到相册”。可以在设置里打开，然后再保存一次。',
            confirmText: '去设置',
            cancelText: '以后再说',
            success: (r) => {
              if (r.confirm && wx.openSetting) wx.openSetting({});
              resolve('denied');
            },
            fail: () => resolve('denied'),
          });
          return;
        }
        wx.showToast({ title: '保存失败', icon: 'none' });
        resolve('failed');
      },
    });
  });
}

/**
 * saveDrawing downloads the caller's picture of paint id (750 px) and
 * saves it to the album; a paint the server does not have yet says so.
 * Resolves like saveToAlbum, or 'unsaved' / 'failed'.
 */
export function saveDrawing(wx, client, app, id) {
  wx.showLoading && wx.showLoading({ title: '正在保存' });
  const done = (v) => { if (wx.hideLoading) wx.hideLoading(); return v; };
  return downloadPicture(client, app, id, PICTURE_WIDTH).then((file) => {
    done();
    return saveToAlbum(wx, file);
  }, (err) => {
    done();
    const unsaved = err && err.statusCode === 404;
    wx.showToast({ title: unsaved ? '这幅画还没有保存，请稍后再试' : '网络错误，请稍后再试', icon: 'none' });
    return unsaved ? 'unsaved' : 'failed';
  });
}

