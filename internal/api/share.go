package api

import (
	"net/http"

	"github.com/yibi/yibi/internal/paint"
)

// SharePath is where a share link's public page is served: SharePath +
// token is the page, SharePath + token + ".png" its picture and
// SharePath + token + ".card.png" its picture for a WeChat share card.
// All are outside the session routes: anyone with the link may look.
const SharePath = "/s/"

// shareData is the answer of share: the page's and the pictures' paths.
type shareData struct {
	URL   string `json:"url"`
	Image string `json:"image"`
	Card  string `json:"card"`
}

// SharePaths returns the page's and the picture's paths of a link.
func SharePaths(token string) (page, image string) {
	return SharePath + token, SharePath + token + ".png"
}

// ShareCardPath returns the path of a link's share card picture: 5:4, as
// WeChat shows a card's image (the 3:4 picture would be cropped).
func ShareCardPath(token string) string { return SharePath + token + ".card.png" }

// share makes (or returns the existing) public link of one of the
// caller's paints. Another user's id is a 404, as for get.
func (a *api) share(w http.ResponseWriter, r *http.Request) {
	uid, id, ok := a.shareTarget(w, r)
	if !ok {
		return
	}
	ctx, cancel := a.storeCtx(r)
	defer cancel()
	p, err := a.cfg.Store.Get(ctx, uid, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sh, err := a.cfg.Shares.Share(ctx, uid, id, p.CreatedAt, paint.NewShareToken())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, image := SharePaths(sh.Token)
	OK(w, shareData{URL: page, Image: image, Card: ShareCardPath(sh.Token)})
}

// unshare ends the link of one of the caller's paints: its page and
// picture answer 404 from then on, on every yibi (the store is the only
// truth about links). Unsharing a paint that has no link succeeds;
// another user's id (or a deleted paint) is a 404.
func (a *api) unshare(w http.ResponseWriter, r *http.Request) {
	uid, id, ok := a.shareTarget(w, r)
	if !ok {
		return
	}
	ctx, cancel := a.storeCtx(r)
	defer cancel()
	// Scoped to the caller: it can only ever remove the caller's link.
	if err := a.cfg.Shares.Unshare(ctx, uid, id); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.cfg.Store.Get(ctx, uid, id); err != nil {
		a.fail(w, r, err)
		return
	}
	OK(w, struct{}{})
}

// shareTarget reads the caller and the body's id of share and unshare.
func (a *api) shareTarget(w http.ResponseWriter, r *http.Request) (uid, id string, ok bool) {
	uid, err := a.user(r)
	if err != nil {
		a.fail(w, r, err)
		return "", "", false
	}
	b, err := a.body(w, r)
	if err != nil {
		a.fail(w, r, err)
		return "", "", false
	}
	id = b["id"]
	if id == "" {
		err = &paint.InvalidError{Reason: paint.ReasonMissing}
	} else {
		err = paint.ValidateID(id)
	}
	if err != nil {
		a.fail(w, r, err)
		return "", "", false
	}
	return uid, id, true
}
