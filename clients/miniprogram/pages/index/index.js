// The welcome page: one button into the gallery.
Page({
  data: {},

  enter() {
    wx.navigateTo({ url: '/pages/gallery/gallery' });
  },
});
