// Package picture serves a paint as an image: it renders through
// internal/render, keeps the results in one bounded render.Cache shared
// by every endpoint, bounds how many renders run at once (in all, and
// for each owner), and answers with an ETag of the paint's revision, so a
// gallery revisits cost a 304.
package picture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/yibi/yibi/internal/keylock"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/render"
)

// DefaultCacheBytes is the rendered images kept in memory: about 2000
// gallery thumbnails (a 240 px PNG of an ordinary drawing is 5 to 15 KB),
// or a hundred full-size pictures.
const DefaultCacheBytes = 32 << 20

// ErrBusy: the owner's turn or a render slot stayed taken until the
// request's context ended or DefaultWait passed. The caller answers 503:
// retry later.
var ErrBusy = errors.New("picture: too many renders at once")

// The formats Render makes.
const (
	PNG = "png"
	SVG = "svg"
	// Card is a PNG for a picture shown at 5:4 (a WeChat share card):
	// width × CardHeight(width), the whole drawing at the card's height,
	// centred on the apps' background, #f4f4f4.
	Card = "card"
)

// cardBackground is the colour around the drawing on a Card: the apps'
// background (#f4f4f4: the mini program's page, the browser app, the
// share page), so the drawing's white sheet shows whole, as it does in
// the apps, and a stroke that reaches its edge does not seem cut.
var cardBackground = color.RGBA{0xf4, 0xf4, 0xf4, 0xff}

// CardHeight is the height of a Card width wide: 5:4, as WeChat shows
// share cards.
func CardHeight(width int) int { return (width*4 + 2) / 5 }

// Renderer renders paints, at most Slots at a time and one of each
// owner's, through a cache. It is safe for concurrent use; one serves the
// whole server.
//
// A render the cache cannot answer costs up to seconds of a CPU (a 1 MiB
// drawing), and any width is a new one, so without the owner's turn one
// user asking for new widths of a hostile drawing would hold every slot
// and everyone else's thumbnails would wait and fail. With it, one user
// (and the share links of their paints: they render as their owner)
// holds at most one slot; their other renders wait their turn, within
// the same DefaultWait.
type Renderer struct {
	cache *render.Cache
	slots chan struct{}
	wait  time.Duration

	owners keylock.Locks // one render at a time per owner
	// draw renders one image; a seam for tests (a slow renderer).
	draw func(out io.Writer, actions string, width int, format string) error
}

// DefaultWait is the longest a request waits for its owner's turn and a
// render slot, together.
const DefaultWait = 5 * time.Second

// New returns a renderer with a cache of cacheBytes (0: DefaultCacheBytes)
// and slots concurrent renders (0: runtime.NumCPU(), as rendering is CPU
// work: more at once only makes each slower and a burst of thumbnails
// could starve every other request).
func New(cacheBytes, slots int) *Renderer {
	if cacheBytes <= 0 {
		cacheBytes = DefaultCacheBytes
	}
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	return &Renderer{cache: render.NewCache(cacheBytes), slots: make(chan struct{}, slots), wait: DefaultWait, draw: draw}
}

// draw renders actions in format.
func draw(out io.Writer, actions string, width int, format string) error {
	switch format {
	case SVG:
		return render.SVG(out, actions, width)
	case Card:
		return render.CardPNG(out, actions, width, CardHeight(width), cardBackground)
	default:
		return render.PNG(out, actions, width)
	}
}

// Image is a rendered paint.
type Image struct {
	Data        []byte // shared with the cache: do not change
	ContentType string
	ETag        string
}

// Tag is the ETag of p at width (already clamped) in format: it changes
// with the revision, and with the paint's creation time, so a paint
// deleted and made again under the same id (revision 1 again) has
// another.
func Tag(p paint.Paint, width int, format string) string {
	return `"` + strconv.FormatInt(p.CreatedAt.UnixMilli(), 36) + "." + strconv.FormatInt(p.Rev, 10) + "." +
		strconv.Itoa(width) + "." + format + `"`
}

// key is p's cache key. render.Key has no creation time, so it goes into
// ID, for the reason Tag gives.
func key(p paint.Paint, width int, format string) render.Key {
	return render.Key{Owner: p.OpenID, ID: p.ID + "@" + strconv.FormatInt(p.CreatedAt.UnixMilli(), 36),
		Revision: p.Rev, Width: width, Format: format}
}

// Render returns p at width (clamped by render.Size) in format (PNG, SVG
// or Card), from the cache or rendered now. A render waits for its
// owner's turn (the owner being p.OpenID), then for a render slot, until
// ctx ends or DefaultWait passes in all, then fails with ErrBusy.
func (rd *Renderer) Render(ctx context.Context, p paint.Paint, width int, format string) (Image, error) {
	width, _ = render.Size(width)
	img := Image{ContentType: "image/png", ETag: Tag(p, width, format)}
	if format == SVG {
		img.ContentType = "image/svg+xml"
	}
	k := key(p, width, format)
	if b, ok := rd.cache.Get(k); ok {
		img.Data = b
		return img, nil
	}
	wctx, cancel := context.WithTimeout(ctx, rd.wait)
	defer cancel()
	unlock, err := rd.owners.Lock(wctx, p.OpenID)
	if err != nil {
		return Image{}, busy(ctx)
	}
	defer unlock()
	select {
	case rd.slots <- struct{}{}:
	case <-wctx.Done():
		return Image{}, busy(ctx)
	}
	defer func() { <-rd.slots }()
	// Another request may have rendered it while this one waited.
	if b, ok := rd.cache.Get(k); ok {
		img.Data = b
		return img, nil
	}
	var buf bytes.Buffer
	if err := rd.draw(&buf, p.Actions, width, format); err != nil {
		return Image{}, fmt.Errorf("picture: %w", err)
	}
	img.Data = buf.Bytes()
	rd.cache.Add(k, img.Data)
	return img, nil
}

// busy is the error of a render that waited too long: ErrBusy, with the
// request's own context error when that ended it.
func busy(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	return ErrBusy
}

// Cached reports how many images the cache holds and their bytes.
func (rd *Renderer) Cached() (n, bytes int) { return rd.cache.Len() }

// Write answers img to r: 304 when r's If-None-Match names its ETag,
// else the image. cacheControl is the answer's Cache-Control (private
// for a user's own paint, public for a shared one); no-cache in it makes
// browsers revalidate, which costs a 304.
func Write(w http.ResponseWriter, r *http.Request, img Image, cacheControl string) {
	h := w.Header()
	h.Set("ETag", img.ETag)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	if img.ContentType == "image/svg+xml" {
		// An SVG opened directly is a document: no scripts, no fetches.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	if matches(r.Header.Values("If-None-Match"), img.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", img.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(img.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(img.Data)
	}
}

// matches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*". Splitting at
// commas is exact here: the tags this package makes hold none.
func matches(values []string, etag string) bool {
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || tag == etag || tag == "W/"+etag {
				return true
			}
		}
	}
	return false
}
