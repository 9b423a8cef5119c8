package wechatsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// AvatarSide is the width and height of a simulated user's avatar.
const AvatarSide = 96

// Avatar is the picture <button open-type="chooseAvatar"> gives user: a
// PNG of AvatarSide pixels a side, the same for the same user every time
// (a symmetric 5×5 pattern in a colour, both taken from sha256(user)), so
// a browser app can upload it as the chosen avatar file and a test can
// recognise it. It needs no login: choosing an avatar does not.
func Avatar(user string) ([]byte, error) {
	if !validUser(user) {
		return nil, ErrNoUser
	}
	sum := sha256.Sum256([]byte("avatar\x00" + user))
	fg := color.NRGBA{sum[0]/2 + 64, sum[1]/2 + 64, sum[2]/2 + 64, 255}
	bg := color.NRGBA{240, 240, 240, 255}
	m := image.NewNRGBA(image.Rect(0, 0, AvatarSide, AvatarSide))
	const cells, margin = 5, 8
	cell := (AvatarSide - 2*margin) / cells
	for y := range AvatarSide {
		for x := range AvatarSide {
			c := bg
			cx, cy := (x-margin)/cell, (y-margin)/cell
			if x >= margin && y >= margin && cx < cells && cy < cells {
				if cx > cells/2 { // mirror: left and right halves match
					cx = cells - 1 - cx
				}
				if sum[3+cy*3+cx]&1 == 1 {
					c = fg
				}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		return nil, fmt.Errorf("wechatsim: avatar: %w", err)
	}
	return b.Bytes(), nil
}

// serveAvatar serves GET /sim/avatar?user=: the user's avatar PNG.
func serveAvatar(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET", "chooseAvatar")
		return
	}
	data, err := Avatar(r.URL.Query().Get("user"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errMsg": "chooseAvatar:fail " + strings.TrimPrefix(err.Error(), "wechatsim: ")})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	w.Write(data)
}

// Avatar is chooseAvatar over HTTP: the user's avatar PNG.
func (r *Remote) Avatar(ctx context.Context, user string) ([]byte, error) {
	u := strings.TrimRight(r.BaseURL, "/") + "/sim/avatar?" + url.Values{"user": {user}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("wechatsim: %w", err)
	}
	hc := r.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		return nil, fmt.Errorf("wechatsim: /sim/avatar: HTTP %d", resp.StatusCode)
	}
	return data, nil
}
