// Package web serves an fs.FS (the embedded browser app) with content-hash
// ETags computed once at start-up, so browsers revalidate cheaply.
package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

type file struct {
	data []byte
	etag string
	ct   string
}

// Handler serves fsys; "/" serves index.html. It reads every file once.
func Handler(fsys fs.FS) (http.Handler, error) {
	files := map[string]file{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js", ".mjs":
			ct = "text/javascript; charset=utf-8"
		}
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		files[p] = file{b, `"` + hex.EncodeToString(sum[:16]) + `"`, ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if p == "" || strings.HasSuffix(r.URL.Path, "/") {
			p = path.Join(p, "index.html")
		}
		f, ok := files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.ct)
		w.Header().Set("ETag", f.etag)
		// no-cache: always revalidate, cheap thanks to the ETag.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
	}), nil
}
