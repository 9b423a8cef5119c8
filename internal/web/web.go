// Package web serves the browser app (clients.Web, embedded in the binary),
// as miniflux's ui/static does: every file is read once at start-up and
// served from memory with a content-hash ETag and Cache-Control: no-cache,
// so browsers revalidate cheaply and never run a stale app. It is the one
// place that knows how the app is served, including the one change made to
// it: index.html's route-base meta names the configured API prefix.
package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"sort"
	"time"
)

// routeBaseMeta finds the browser app's <meta name="yibi-route-base"
// content="…">, which tells app.js where the paint API is.
var routeBaseMeta = regexp.MustCompile(`(<meta\s+name="yibi-route-base"\s+content=")([^"]*)(")`)

// Route is one URL path the app serves and the handler that serves it.
type Route struct {
	// Pattern is a net/http.ServeMux path pattern without a method:
	// "/app.js", or "/{$}" for a directory's index.html.
	Pattern string
	// Handler serves the file; it expects GET or HEAD (the caller's
	// route table answers other methods).
	Handler http.Handler
}

// asset is one file as served.
type asset struct {
	data []byte
	etag string
	ct   string
}

// Routes reads every file of fsys once and returns a route for each
// (sorted by pattern), plus one for each directory that has an
// index.html. routeBase is the paint API's prefix ("" for none, as for the
// configured "/"): index.html's route-base meta is set to it, so the app
// finds the API whatever the base path.
//
// Each file is its own route, not a catch-all "/", so that an unknown path
// is the route table's 404 and a known one with another method its 405.
func Routes(fsys fs.FS, routeBase string) ([]Route, error) {
	var routes []Route
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if path.Base(p) == "index.html" {
			b = setRouteBase(b, routeBase)
		}
		h := newAsset(p, b)
		routes = append(routes, Route{"/" + p, h})
		if path.Base(p) == "index.html" {
			dir := path.Dir(p)
			if dir == "." {
				routes = append(routes, Route{"/{$}", h})
			} else {
				routes = append(routes, Route{"/" + dir + "/{$}", h})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].Pattern < routes[j].Pattern })
	return routes, nil
}

func newAsset(name string, b []byte) *asset {
	sum := sha256.Sum256(b)
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js", ".mjs":
		// Some systems' MIME tables say application/javascript or
		// nothing for .mjs; browsers need a JavaScript type for modules.
		ct = "text/javascript; charset=utf-8"
	}
	if ct == "" {
		ct = http.DetectContentType(b)
	}
	return &asset{data: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, ct: ct}
}

// ServeHTTP serves the file; If-None-Match and Range are ServeContent's.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ct)
	h.Set("ETag", a.etag)
	// no-cache: always revalidate, cheap thanks to the ETag.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}

// setRouteBase returns page with its route-base meta set to base ("" for
// no prefix); page is returned as is when it has no such meta.
func setRouteBase(page []byte, base string) []byte {
	loc := routeBaseMeta.FindSubmatchIndex(page) // whole, 1, 2 (content), 3
	if loc == nil {
		return page
	}
	content := base
	if content == "" {
		// app.js falls back to /applet on an empty value; "." makes its
		// `${BASE}/session/…` a path relative to the page at the root.
		content = "."
	}
	if html.UnescapeString(string(page[loc[4]:loc[5]])) == content {
		return page
	}
	out := append([]byte{}, page[:loc[4]]...)
	out = append(out, html.EscapeString(content)...)
	return append(out, page[loc[5]:]...)
}
