// Package clients embeds the files the 一笔到底 browser app loads, so the
// yibi binary serves them with no files on disk.
package clients

import "embed"

// Web is the browser app, rooted at what it is served at ("/"): the page
// and its icon at the top (index.html, favicon.ico, the two URLs a browser
// asks for by name), the app's own files under web/ (app.js, style.css,
// …), and the modules it shares with the WeChat mini program under
// miniprogram/lib/ (every .js there: wxsession.js, actions.js, drawing.js,
// outbox.js, sync.js): one source, loaded by both as ES modules. Nothing
// else of clients/ is in it.
//
//go:embed index.html favicon.ico web miniprogram/lib/*.js
var Web embed.FS
