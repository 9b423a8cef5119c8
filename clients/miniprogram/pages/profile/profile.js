// The profile page (protocol v2): avatar, nickname and phone number,
// opened by the gallery after a first login (isNew) and by tapping the
// gallery's profile bar later.
import wxsession from '../../lib/wxsession.js';

// maskPhone shows a number as 138****5678.
function maskPhone(n) {
  return String(n).replace(/^(\d{3})\d+(\d{4})$/, '$1****$2');
}

// PHONE_KEY: the masked number bound on this device (/session/me only says hasPhone).
const PHONE_KEY = 'yibi.phone';

function failure(err) {
  return (err && (err.reason || err.message)) || '网络错误';
}

Page({
  data: {
    avatar: '',   // what <image> shows: the server's avatar or the chosen temporary file
    nickName: '',
    phone: '',    // masked, or '已绑定' when bound elsewhere
    isNew: false,
    saving: false,
  },

  // query.new: opened by the gallery right after a first login.
  onLoad(query) {
    const app = getApp();
    this.chosen = ''; // the temporary file chooseAvatar gave, until saved
    this.setData({ isNew: !!query && query.new === '1' });
    wxsession.getClient().me().then((me) => {
      this.setData({
        avatar: this.chosen || app.avatarSrc(me.avatarUrl),
        nickName: me.nickName,
        phone: wx.getStorageSync(PHONE_KEY) || (me.hasPhone ? '已绑定' : ''),
      });
    }, () => wx.showToast({ title: '加载失败', icon: 'none' }));
  },

  onChooseAvatar(e) {
    const url = e.detail && e.detail.avatarUrl;
    if (!url) return;
    this.chosen = url;
    this.setData({ avatar: url });
  },

  save(e) {
    const nickName = String((e.detail.value && e.detail.value.nickName) || '').trim();
    if (!nickName && !this.chosen) {
      wx.showToast({ title: '请填写昵称', icon: 'none' });
      return;
    }
    const profile = {};
    if (nickName) profile.nickName = nickName;
    if (this.chosen) profile.avatar = this.chosen;
    this.setData({ saving: true });
    wxsession.getClient().profile(profile).then((me) => {
      const app = getApp();
      app.globalData.user = { nickName: me.nickName, avatarUrl: me.avatarUrl };
      this.chosen = '';
      this.setData({ saving: false, isNew: false, nickName: me.nickName, avatar: app.avatarSrc(me.avatarUrl) });
      wx.showToast({ title: '已保存', icon: 'success' });
    }, (err) => {
      this.setData({ saving: false });
      wx.showToast({ title: '保存失败：' + failure(err), icon: 'none' });
    });
  },

  // getPhoneNumber's callback: a one-time code (base library ≥ 2.21.2), or
  // no code when the user declined.
  onGetPhoneNumber(e) {
    const code = e.detail && e.detail.code;
    if (!code) return;
    wxsession.getClient().bindPhone(code).then((p) => {
      const masked = maskPhone(p.purePhoneNumber);
      wx.setStorageSync(PHONE_KEY, masked);
      this.setData({ phone: masked });
    }, (err) => wx.showToast({ title: '绑定失败：' + failure(err), icon: 'none' }));
  },

  later() {
    wx.navigateBack();
  },

  logout() {
    const done = () => {
      wx.removeStorageSync(PHONE_KEY);
      getApp().globalData.user = null;
      wx.reLaunch({ url: '/pages/index/index' });
    };
    // The token is forgotten whatever the server answers.
    wxsession.getClient().logout().then(done, done);
  },
});
