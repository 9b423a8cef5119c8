package server

import (
	"bytes"
	"errors"
	"html"
	"io/fs"
	"regexp"
)

// routeBaseMeta finds the browser app's <meta name="yibi-route-base"
// content="…">, which tells app.js where the paint API is.
var routeBaseMeta = regexp.MustCompile(`(<meta\s+name="yibi-route-base"\s+content=")([^"]*)(")`)

// webFS returns the browser app with its route-base meta set to base (the
// configured RouteBasePath, "" for "/"), so the app finds the API whatever
// the base path. The file system is returned as is when the page already
// says base or has no such meta.
func webFS(fsys fs.FS, base string) (fs.FS, error) {
	const index = "index.html"
	page, err := fs.ReadFile(fsys, index)
	if errors.Is(err, fs.ErrNotExist) {
		return fsys, nil
	}
	if err != nil {
		return nil, err
	}
	m := routeBaseMeta.FindSubmatch(page)
	if m == nil || html.UnescapeString(string(m[2])) == base {
		return fsys, nil
	}
	content := base
	if content == "" {
		// app.js falls back to /applet on an empty value; "." makes its
		// `${BASE}/session/…` a path relative to the page at the root.
		content = "."
	}
	page = routeBaseMeta.ReplaceAllFunc(page, func(b []byte) []byte {
		sm := routeBaseMeta.FindSubmatch(b)
		return append(append(append([]byte{}, sm[1]...), html.EscapeString(content)...), sm[3]...)
	})
	return overlayFS{FS: fsys, name: index, data: page}, nil
}

// overlayFS is fsys with the file name's content replaced by data.
type overlayFS struct {
	fs.FS
	name string
	data []byte
}

var (
	_ fs.ReadFileFS = overlayFS{}
	_ fs.ReadDirFS  = overlayFS{}
)

func (o overlayFS) Open(name string) (fs.File, error) {
	if name != o.name {
		return o.FS.Open(name)
	}
	info, err := fs.Stat(o.FS, name)
	if err != nil {
		return nil, err
	}
	return &memFile{Reader: bytes.NewReader(o.data), info: memInfo{info, int64(len(o.data))}}, nil
}

func (o overlayFS) ReadFile(name string) ([]byte, error) {
	if name != o.name {
		return fs.ReadFile(o.FS, name)
	}
	return bytes.Clone(o.data), nil
}

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(o.FS, name) }

type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

// memInfo is the replaced file's info with its new size.
type memInfo struct {
	fs.FileInfo
	size int64
}

func (i memInfo) Size() int64 { return i.size }
