package api

import (
	"net/http"
	"strconv"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/picture"
)

// Reasons of the image and share routes.
const (
	ReasonBadWidth  = "w is invalid"
	ReasonBadFormat = "format is invalid"
	ReasonBusy      = "server busy"
)

// DefaultImageWidth is the width of an image asked for without w: the
// 375-wide logical space, one pixel per unit.
const DefaultImageWidth = 375

// imageParams reads ?w= (clamped by render.Size later) and ?format=.
func imageParams(r *http.Request) (width int, format string, err error) {
	q := r.URL.Query()
	width = DefaultImageWidth
	if q.Has("w") {
		n, err := strconv.Atoi(q.Get("w"))
		if err != nil || n <= 0 {
			return 0, "", &paint.InvalidError{Reason: ReasonBadWidth}
		}
		width = n
	}
	switch format = q.Get("format"); format {
	case "", picture.PNG:
		format = picture.PNG
	case picture.SVG:
	default:
		return 0, "", &paint.InvalidError{Reason: ReasonBadFormat}
	}
	return width, format, nil
}

// image answers one of the caller's paints as a PNG or SVG. Only the
// caller's own paints are read, so another user's id is a 404 and is
// never rendered.
func (a *api) image(w http.ResponseWriter, r *http.Request) {
	width, format, err := imageParams(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p, ok := a.ownPaint(w, r)
	if !ok {
		return
	}
	img, err := a.cfg.Pictures.Render(r.Context(), p, width, format)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// private: the image is the caller's; no-cache: revalidate (a 304)
	// so an edited drawing shows at once.
	picture.Write(w, r, img, "private, no-cache")
}
