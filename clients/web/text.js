// The browser app's words: Chinese, as 一笔到底 spoke, and English when
// the browser's first language asks for it (navigator.languages).

const zh = {
  loading: '加载中…',
  editProfile: '编辑资料',
  logout: '退出登录',
  profileHint: '设置你的头像和昵称',
  chooseAvatar: '使用微信头像',
  nicknamePlaceholder: '昵称',
  save: '保存',
  later: '以后再说',
  bindPhone: '绑定手机号',
  phoneBound: '已绑定手机号',
  profileFailed: (why) => `保存失败：${why}。`,
  phoneFailed: (why) => `绑定失败：${why}。`,
  back: '返回画廊',
  switchUser: '切换用户',
  whoDraws: '谁来画？',
  devHint: '开发模式：用户是模拟的微信用户，由 Yibi 内置的微信模拟器登录。',
  newUser: '新用户，如 alice',
  userPattern: '字母、数字、_ . -',
  start: '开始',
  loadingUsers: '正在加载用户…',
  noUsers: '还没有用户：在上面起个名字。',
  usersFailed: (why) => `无法加载用户：${why}。仍可在上面输入用户名。`,
  noSimulator: '这个服务器没有开发用的微信模拟器：网页版只在开发模式下登录。请在微信里打开一笔到底小程序。',
  newPaint: '新建一幅',
  loadingPaints: '正在加载你的画…',
  noPaints: '还没有画。点 + 画一幅。',
  paintsFailed: (why) => `无法加载你的画：${why}。`,
  morePaints: '更多的画',
  retry: '重试',
  open: '打开这幅画',
  deleteOne: '删除这幅画',
  confirmDelete: '确定删除这幅画吗？',
  deleteFailed: (why) => `删除失败：${why}。`,
  cancel: '取消',
  delete: '删除',
  color: (c) => `颜色 ${c}`,
  width: (w) => `线宽 ${w}`,
  eraser: '橡皮',
  undo: '撤销',
  undoKey: '撤销 (Ctrl/⌘+Z)',
  clear: '清空',
  saving: '保存中…',
  saved: '已保存',
  unsaved: '尚未保存：笔画留在本机，联网后自动保存',
  leaveUnsaved: '还有笔画尚未保存。它们留在本机，联网后会自动保存。现在离开吗？',
  leave: '离开',
  loadFailed: (why) => `无法加载：${why}`,
  full: '这幅画已满：可以撤销或清空，新的笔画请新建一幅。',
  refusedFull: '这幅画已满，最近的笔画未能保存：它们留在本机。新的笔画请新建一幅。',
  quota: '存储空间已满，笔画尚未保存：它们留在本机，删除一些画后会自动保存。',
  errNetwork: '连不上服务器',
  errSession: (r) => `会话错误${r ? '（' + r + '）' : ''}`,
  errLogin: '登录失败',
  errUnknown: '未知错误',
  crashed: (why) => `出错了：${why}`,
  share: '分享',
  downloadPng: '下载 PNG',
  unshare: '取消分享',
  linkCopied: '链接已复制：',
  linkShown: '分享链接：',
  unshared: '已取消分享：链接不再可用。',
  shareFailed: (why) => `分享失败：${why}。`,
  downloadFailed: (why) => `下载失败：${why}。`,
};

const en = {
  loading: 'Loading…',
  editProfile: 'Edit profile',
  logout: 'Log out',
  profileHint: 'Choose your avatar and nickname',
  chooseAvatar: 'Use my WeChat avatar',
  nicknamePlaceholder: 'Nickname',
  save: 'Save',
  later: 'Later',
  bindPhone: 'Bind phone number',
  phoneBound: 'Phone number bound',
  profileFailed: (why) => `Could not save: ${why}.`,
  phoneFailed: (why) => `Could not bind: ${why}.`,
  back: 'Back to the gallery',
  switchUser: 'Switch user',
  whoDraws: 'Who is drawing?',
  devHint: "Development mode: users are simulated WeChat users, logged in by Yibi's built-in WeChat simulator.",
  newUser: 'New user, e.g. alice',
  userPattern: 'letters, digits, _ . -',
  start: 'Start',
  loadingUsers: 'Loading users…',
  noUsers: 'No users yet: name one above.',
  usersFailed: (why) => `Could not load users: ${why}. You can still name a user above.`,
  noSimulator: 'This server has no development WeChat simulator: the browser app logs in only in development mode. Open the 一笔到底 mini program in WeChat.',
  newPaint: 'New drawing',
  loadingPaints: 'Loading your drawings…',
  noPaints: 'No drawings yet. Tap + to draw one.',
  paintsFailed: (why) => `Could not load your drawings: ${why}.`,
  morePaints: 'More drawings',
  retry: 'Retry',
  open: 'Open drawing',
  deleteOne: 'Delete drawing',
  confirmDelete: 'Delete this drawing?',
  deleteFailed: (why) => `Could not delete: ${why}.`,
  cancel: 'Cancel',
  delete: 'Delete',
  color: (c) => `Colour ${c}`,
  width: (w) => `Line width ${w}`,
  eraser: 'Eraser',
  undo: 'Undo',
  undoKey: 'Undo (Ctrl/⌘+Z)',
  clear: 'Clear',
  saving: 'saving…',
  saved: 'saved',
  unsaved: 'not saved yet: kept on this device, saved when the network is back',
  leaveUnsaved: 'Some strokes are not saved yet. They are kept on this device and saved when the network is back. Leave now?',
  leave: 'Leave',
  loadFailed: (why) => `could not load: ${why}`,
  full: 'This drawing is full: you can undo or clear; start a new drawing for new strokes.',
  refusedFull: 'This drawing is full: the latest strokes could not be saved and are kept on this device. Start a new drawing for new strokes.',
  quota: 'Your storage is full: strokes not saved yet are kept on this device and saved once you delete some drawings.',
  errNetwork: 'the server cannot be reached',
  errSession: (r) => `session error${r ? ' (' + r + ')' : ''}`,
  errLogin: 'login failed',
  errUnknown: 'unknown error',
  crashed: (why) => `Something went wrong: ${why}`,
  share: 'Share',
  downloadPng: 'Download PNG',
  unshare: 'Unshare',
  linkCopied: 'Link copied: ',
  linkShown: 'Share link: ',
  unshared: 'Unshared: the link no longer works.',
  shareFailed: (why) => `Could not share: ${why}.`,
  downloadFailed: (why) => `Could not download: ${why}.`,
};

/** lang picks 'en' when the browser's first language is English, else 'zh'. */
export function lang(languages) {
  const first = (languages && languages[0]) || '';
  return /^en\b/i.test(first) ? 'en' : 'zh';
}

const current = lang(typeof navigator === 'undefined' ? [] : (navigator.languages?.length ? navigator.languages : [navigator.language]));
const table = current === 'en' ? en : zh;

/** t is the text for key in the app's language; functions take arguments. */
export function t(key, ...args) {
  const v = table[key];
  return typeof v === 'function' ? v(...args) : v ?? key;
}

/** localize fills every data-i18n* element under root with the app's language. */
export function localize(root) {
  root.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export { zh, en };
