// Package clients embeds Yibi's browser-side files: the 一笔到底 browser app
// (clients/web) and the JavaScript modules it shares with the WeChat mini
// program (clients/miniprogram/lib: the session SDK and the drawing
// format), so the yibi binary can serve them with no files on disk.
package clients

import (
	"embed"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
)

//go:embed web miniprogram/lib
var files embed.FS

// Web is the browser app as served: web/* at the root (index.html, app.js,
// style.css) and miniprogram/lib/* under lib/ (lib/wxsession.mjs,
// lib/actions.mjs, …), the paths app.js imports. The mini program keeps
// its own copy of lib/ as its require path, so one source serves both.
var Web fs.FS = mergedFS{web: mustSub("web"), lib: mustSub("miniprogram/lib")}

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}

// mergedFS mounts lib under "lib" on top of web.
type mergedFS struct{ web, lib fs.FS }

var (
	_ fs.FS        = mergedFS{}
	_ fs.ReadDirFS = mergedFS{}
)

// route picks the file system and the name inside it.
func (m mergedFS) route(op, name string) (fs.FS, string, error) {
	if !fs.ValidPath(name) {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "lib" {
		return m.lib, ".", nil
	}
	if rest, ok := strings.CutPrefix(name, "lib/"); ok {
		return m.lib, rest, nil
	}
	return m.web, name, nil
}

// Open opens name. The root directory lists lib among web's entries.
func (m mergedFS) Open(name string) (fs.File, error) {
	fsys, inner, err := m.route("open", name)
	if err != nil {
		return nil, err
	}
	f, err := fsys.Open(inner)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.Unwrap(err)}
	}
	if name == "." {
		dir, ok := f.(fs.ReadDirFile)
		if !ok {
			f.Close()
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
		}
		return &rootDir{ReadDirFile: dir, m: m}, nil
	}
	return f, nil
}

// ReadDir lists name; for the root, web's entries plus lib.
func (m mergedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	fsys, inner, err := m.route("readdir", name)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, inner)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.Unwrap(err)}
	}
	if name == "." {
		info, err := fs.Stat(m.lib, ".")
		if err != nil {
			return nil, err
		}
		entries = append(entries, libEntry{fs.FileInfoToDirEntry(info)})
		slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	}
	return entries, nil
}

// libEntry is the lib directory's entry in the root: named "lib" whatever
// the embedded directory's own name.
type libEntry struct{ fs.DirEntry }

func (libEntry) Name() string { return "lib" }

// rootDir is the root directory, whose listing includes lib.
type rootDir struct {
	fs.ReadDirFile
	m       mergedFS
	entries []fs.DirEntry // nil until the first ReadDir
	read    bool
}

func (d *rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		all, err := d.m.ReadDir(".")
		if err != nil {
			return nil, err
		}
		d.entries, d.read = all, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}
