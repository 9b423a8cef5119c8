package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/render"
	"github.com/yibi/yibi/internal/testenv"
)

// shareSetups are the two store setups the picture and share tests run on.
func shareSetups(t *testing.T) map[string]func(t *testing.T) config.Config {
	return map[string]func(t *testing.T) config.Config{
		"SQLite": testConfig,
		"FerretDB": func(t *testing.T) config.Config {
			cfg := testConfig(t)
			cfg.MongoURI, cfg.MongoDatabase = testenv.StartFerretDB(t).URI, "yibi_share"
			return cfg
		},
	}
}

const shareDrawing = `[{"method":"space","data":[375,500]},{"method":"save","data":[]},{"method":"moveTo","data":[40,40]},{"method":"lineTo","data":[330,460]},{"method":"setStrokeStyle","data":["#FF0000"]},{"method":"setLineWidth","data":[12]},{"method":"stroke","data":[]},{"method":"restore","data":[]}]`

func (c *client) post(name string, body any) answer {
	c.t.Helper()
	b, _ := json.Marshal(body)
	return c.call("POST", name, "application/json", bytes.NewReader(b))
}

func (c *client) image(query string, header http.Header) answer {
	c.t.Helper()
	h := c.headers()
	for k, v := range header {
		h[k] = v
	}
	a := do(c.t, "GET", c.api+"/session/paints/image?"+query, h, "", nil)
	if a.status == http.StatusOK {
		c.loggedIn = true
	}
	return a
}

func pngSize(t *testing.T, what string, a answer) (int, int) {
	t.Helper()
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "image/png" {
		t.Fatalf("%s: got HTTP %d %q, want 200 image/png", what, a.status, a.header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(a.body))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func TestImage(t *testing.T) {
	for name, setup := range shareSetups(t) {
		t.Run(name, func(t *testing.T) {
			srv := start(t, setup(t), nil)
			u := srv.URL()
			alice := newClient(t, u, "/applet", devSim(u), "alice")
			bob := newClient(t, u, "/applet", devSim(u), "bob")
			id := newID()
			wantOK(t, "save", alice.saveJSON(id, shareDrawing))

			t.Run("ClampedSizes", func(t *testing.T) {
				for _, tt := range []struct {
					q    string
					w, h int
				}{{"w=120", 120, 160}, {"w=1", render.MinWidth, (render.MinWidth*4 + 1) / 3}, {"w=99999", render.MaxWidth, (render.MaxWidth*4 + 1) / 3}, {"", 375, 500}} {
					w, h := pngSize(t, tt.q, alice.image("id="+id+"&"+tt.q, nil))
					if w != tt.w || h != tt.h {
						t.Errorf("%s: got %dx%d, want %dx%d", tt.q, w, h, tt.w, tt.h)
					}
				}
			})
			t.Run("ETag304", func(t *testing.T) {
				a := alice.image("id="+id+"&w=120", nil)
				tag := a.header.Get("ETag")
				if tag == "" || !strings.Contains(a.header.Get("Cache-Control"), "private") {
					t.Fatalf("got ETag %q Cache-Control %q, want an ETag and private", tag, a.header.Get("Cache-Control"))
				}
				if b := alice.image("id="+id+"&w=120", http.Header{"If-None-Match": {tag}}); b.status != http.StatusNotModified || len(b.body) != 0 {
					t.Errorf("If-None-Match: got HTTP %d (%d bytes), want 304 empty", b.status, len(b.body))
				}
				if b := alice.image("id="+id+"&w=240", http.Header{"If-None-Match": {tag}}); b.status != http.StatusOK {
					t.Errorf("other width: got HTTP %d, want 200", b.status)
				}
				wantOK(t, "save again", alice.saveJSON(id, shareDrawing))
				b := alice.image("id="+id+"&w=120", http.Header{"If-None-Match": {tag}})
				if b.status != http.StatusOK || b.header.Get("ETag") == tag {
					t.Errorf("after a save: got HTTP %d ETag %q, want 200 and a new ETag", b.status, b.header.Get("ETag"))
				}
			})
			t.Run("SVG", func(t *testing.T) {
				a := alice.image("id="+id+"&w=300&format=svg", nil)
				if a.status != http.StatusOK || a.header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(a.body, []byte("<svg")) {
					t.Fatalf("got %v %q, want 200 image/svg+xml", a.status, a.header.Get("Content-Type"))
				}
			})
			t.Run("NotFoundForOtherUser", func(t *testing.T) {
				wantFail(t, "bob", bob.image("id="+id, nil), http.StatusNotFound, "not found")
			})
			t.Run("BadParams", func(t *testing.T) {
				wantFail(t, "w", alice.image("id="+id+"&w=abc", nil), http.StatusBadRequest, "w is invalid")
				wantFail(t, "format", alice.image("id="+id+"&format=gif", nil), http.StatusBadRequest, "format is invalid")
				wantFail(t, "id", alice.image("id=a/b", nil), http.StatusBadRequest, "id is invalid")
			})
			t.Run("LargestPaintWithinBound", func(t *testing.T) {
				big := bigDrawing(paint.DefaultMaxActionsBytes)
				bid := newID()
				wantOK(t, "save big", alice.saveJSON(bid, big))
				width := render.MaxWidth
				if raceEnabled {
					width = 375
				}
				start := time.Now()
				if w, _ := pngSize(t, "big", alice.image(fmt.Sprintf("id=%s&w=%d", bid, width), nil)); w != width {
					t.Errorf("got width %d, want %d", w, width)
				}
				if d := time.Since(start); d > 20*time.Second {
					t.Errorf("a 1 MiB drawing at %d px took %v, want under 20s", width, d)
				}
				t.Logf("1 MiB drawing at %d px: %v", width, time.Since(start))
			})
		})
	}
}

// bigDrawing is strokes across the whole canvas, just under max bytes.
func bigDrawing(max int) string {
	var b strings.Builder
	b.WriteString(`[{"method":"space","data":[375,500]}`)
	for i := 0; ; i++ {
		s := fmt.Sprintf(`,{"method":"save","data":[]},{"method":"moveTo","data":[%d,%d]},{"method":"lineTo","data":[%d,%d]},{"method":"lineTo","data":[%d,%d]},{"method":"setStrokeStyle","data":["#0000FF"]},{"method":"setLineWidth","data":[12]},{"method":"stroke","data":[]},{"method":"restore","data":[]}`,
			i%375, (i*7)%500, (i*13)%375, (i*3)%500, (i*5)%375, (i*11)%500)
		if b.Len()+len(s)+1 > max {
			break
		}
		b.WriteString(s)
	}
	b.WriteString("]")
	return b.String()
}

// shareLink shares id as c and returns the page and picture paths.
func shareLink(t *testing.T, c *client, id string) (page, image string) {
	t.Helper()
	page, image, _ = shareLinks(t, c, id)
	return page, image
}

// shareLinks shares id as c and returns the page, picture and card paths.
func shareLinks(t *testing.T, c *client, id string) (page, image, card string) {
	t.Helper()
	a := c.post("share", map[string]string{"id": id})
	var env struct {
		Data struct{ URL, Image, Card string } `json:"data"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &env) != nil || env.Data.URL == "" {
		t.Fatalf("share: got %v, want 200 {url, image, card}", a)
	}
	return env.Data.URL, env.Data.Image, env.Data.Card
}

func TestShare(t *testing.T) {
	for name, setup := range shareSetups(t) {
		t.Run(name, func(t *testing.T) {
			srv := start(t, setup(t), nil)
			u := srv.URL()
			alice := newClient(t, u, "/applet", devSim(u), "alice")
			bob := newClient(t, u, "/applet", devSim(u), "bob")
			id := newID()
			wantOK(t, "save", alice.saveJSON(id, shareDrawing))
			page, image, card := shareLinks(t, alice, id)

			t.Run("PublicWhileShared", func(t *testing.T) {
				p := do(t, "GET", u+page, nil, "", nil)
				if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
					t.Fatalf("page: got %v, want 200 text/html", p)
				}
				for _, want := range []string{"<title>一笔到底</title>", `property="og:image" content="` + u + image + `"`, `<img id="pic" src="` + image + `" width="375" height="500"`} {
					if !bytes.Contains(p.body, []byte(want)) {
						t.Errorf("page: no %q in it", want)
					}
				}
				if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
					t.Errorf("page CSP: got %q, want default-src 'none'", csp)
				}
				w, h := pngSize(t, "picture", do(t, "GET", u+image, nil, "", nil))
				if w != 750 || h != 1000 {
					t.Errorf("picture: got %dx%d, want 750x1000", w, h)
				}
				a := do(t, "GET", u+image, nil, "", nil)
				if b := do(t, "GET", u+image, http.Header{"If-None-Match": {a.header.Get("ETag")}}, "", nil); b.status != http.StatusNotModified {
					t.Errorf("picture with its ETag: got HTTP %d, want 304", b.status)
				}
				j := do(t, "GET", u+page+".json", nil, "", nil)
				if j.status != http.StatusOK || string(j.body) != shareDrawing {
					t.Errorf("actions: got %v, want the drawing", j)
				}
			})
			t.Run("Card", func(t *testing.T) {
				if card != page+".card.png" {
					t.Fatalf("card: got %q, want %q", card, page+".card.png")
				}
				a := do(t, "GET", u+card, nil, "", nil)
				if w, h := pngSize(t, "card", a); w != 500 || h != 400 {
					t.Errorf("card: got %dx%d, want 500x400 (5:4, as WeChat shows it)", w, h)
				}
				if cc := a.header.Get("Cache-Control"); cc != "public, no-cache" {
					t.Errorf("card: got Cache-Control %q, want public, no-cache", cc)
				}
				if a.header.Get("ETag") == "" || a.header.Get("ETag") == do(t, "GET", u+image, nil, "", nil).header.Get("ETag") {
					t.Errorf("card: got ETag %q, want its own", a.header.Get("ETag"))
				}
				if b := do(t, "GET", u+card, http.Header{"If-None-Match": {a.header.Get("ETag")}}, "", nil); b.status != http.StatusNotModified || len(b.body) != 0 {
					t.Errorf("card with its ETag: got HTTP %d (%d bytes), want 304 empty", b.status, len(b.body))
				}
				img, err := png.Decode(bytes.NewReader(a.body))
				if err != nil {
					t.Fatal(err)
				}
				// The whole drawing at full height, centred: the red
				// stroke runs from (40,40) to (330,460) of 375×500, so at
				// 0.8 px per unit from about (132,32) to (364,368); the
				// sides are the apps' background.
				for _, p := range []struct {
					x, y int
					want string
				}{{5, 200, "f4f4f4"}, {495, 200, "f4f4f4"}, {105, 5, "ffffff"}, {395, 395, "ffffff"}, {133, 33, "ff0000"}, {363, 367, "ff0000"}, {248, 200, "ff0000"}} {
					r, g, b, _ := img.At(p.x, p.y).RGBA()
					if got := fmt.Sprintf("%02x%02x%02x", r>>8, g>>8, b>>8); got != p.want {
						t.Errorf("card at (%d,%d): got #%s, want #%s", p.x, p.y, got, p.want)
					}
				}
			})
			t.Run("Language", func(t *testing.T) {
				for _, tt := range []struct {
					acceptLanguage string
					want           []string
				}{
					{"", []string{`<html lang="zh-CN">`, "<title>一笔到底</title>", `alt="一幅用一笔到底画的画"`, ">重播</button>", `href="/">我也来画一幅</a>`}},
					{"zh-CN,zh;q=0.9,en;q=0.8", []string{`<html lang="zh-CN">`, ">重播</button>"}},
					{"en-US,en;q=0.9", []string{`<html lang="en">`, "<title>A drawing on 一笔到底</title>", `alt="A drawing made with 一笔到底"`, ">Replay</button>", `href="/">Draw one yourself</a>`, `property="og:image" content="` + u + image + `"`}},
				} {
					var h http.Header
					if tt.acceptLanguage != "" {
						h = http.Header{"Accept-Language": {tt.acceptLanguage}}
					}
					p := do(t, "GET", u+page, h, "", nil)
					if p.status != http.StatusOK {
						t.Fatalf("Accept-Language %q: got HTTP %d, want 200", tt.acceptLanguage, p.status)
					}
					for _, want := range tt.want {
						if !bytes.Contains(p.body, []byte(want)) {
							t.Errorf("Accept-Language %q: no %q in the page", tt.acceptLanguage, want)
						}
					}
					if bytes.Contains(p.body, []byte("重播 / Replay")) {
						t.Errorf("Accept-Language %q: the page mixes both languages", tt.acceptLanguage)
					}
					if got := p.header.Values("Vary"); !slices.Contains(got, "Accept-Language") {
						t.Errorf("Accept-Language %q: got Vary %q, want Accept-Language", tt.acceptLanguage, got)
					}
				}
			})
			t.Run("Idempotent", func(t *testing.T) {
				if p2, _ := shareLink(t, alice, id); p2 != page {
					t.Errorf("share again: got %q, want %q", p2, page)
				}
			})
			t.Run("TokenUnguessable", func(t *testing.T) {
				token := strings.TrimPrefix(page, "/s/")
				if len(token) < 22 || strings.Contains(token, id) || strings.Contains(id, token) {
					t.Errorf("token %q: want at least 22 base64url characters (128 bits), unrelated to the id %q", token, id)
				}
				other := newID()
				wantOK(t, "save other", alice.saveJSON(other, shareDrawing))
				p2, _ := shareLink(t, alice, other)
				if p2 == page || commonPrefix(p2, page) > len("/s/")+4 {
					t.Errorf("two links %q and %q look alike", p2, page)
				}
				wantFail(t, "a guessed token", do(t, "GET", u+"/s/"+strings.Repeat("A", len(token)), nil, "", nil), http.StatusNotFound, "not found")
				wantFail(t, "a malformed token", do(t, "GET", u+"/s/..%2f..", nil, "", nil), http.StatusNotFound, "not found")
				wantFail(t, "a guessed card", do(t, "GET", u+"/s/"+strings.Repeat("A", len(token))+".card.png", nil, "", nil), http.StatusNotFound, "not found")
				wantFail(t, "a card of a card", do(t, "GET", u+page+".card.card.png", nil, "", nil), http.StatusNotFound, "not found")
			})
			t.Run("ForeignUserCannotShareOrUnshare", func(t *testing.T) {
				wantFail(t, "bob shares", bob.post("share", map[string]string{"id": id}), http.StatusNotFound, "not found")
				wantFail(t, "bob unshares", bob.post("unshare", map[string]string{"id": id}), http.StatusNotFound, "not found")
				if p := do(t, "GET", u+page, nil, "", nil); p.status != http.StatusOK {
					t.Errorf("page after bob's unshare: got HTTP %d, want 200", p.status)
				}
			})
			t.Run("NotFoundAfterUnshare", func(t *testing.T) {
				wantOK(t, "unshare", alice.post("unshare", map[string]string{"id": id}))
				for _, p := range []string{page, image, card, page + ".json"} {
					wantFail(t, p, do(t, "GET", u+p, nil, "", nil), http.StatusNotFound, "not found")
				}
				p2, _ := shareLink(t, alice, id)
				if p2 == page {
					t.Errorf("share after unshare: got the old link %q, want a new one", p2)
				}
			})
			t.Run("NotFoundAfterDelete", func(t *testing.T) {
				p2, img2, card2 := shareLinks(t, alice, id)
				wantOK(t, "delete", alice.del(id))
				for _, p := range []string{p2, img2, card2} {
					wantFail(t, p, do(t, "GET", u+p, nil, "", nil), http.StatusNotFound, "not found")
				}
				wantOK(t, "save again", alice.saveJSON(id, shareDrawing))
				wantFail(t, "old link of a recreated paint", do(t, "GET", u+p2, nil, "", nil), http.StatusNotFound, "not found")
			})
			t.Run("BadBodies", func(t *testing.T) {
				wantFail(t, "no id", alice.post("share", map[string]string{}), http.StatusBadRequest, "id or actions does not exists")
				wantFail(t, "bad id", alice.post("unshare", map[string]string{"id": "a b"}), http.StatusBadRequest, "id is invalid")
			})
		})
	}
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// TestSharePageInChromium opens a share page in Chromium: with JavaScript
// off (a Chinese browser) the picture and the link to the app show; with
// it on (an English browser on a phone) Replay draws on the canvas, the
// card and the buttons fit the screen, and the link opens the app.
func TestSharePageInChromium(t *testing.T) {
	bin, repo := testenv.Chromium(t)
	srv := start(t, testConfig(t), nil)
	u := srv.URL()
	alice := newClient(t, u, "/applet", devSim(u), "alice")
	id := newID()
	wantOK(t, "save", alice.saveJSON(id, shareDrawing))
	page, _ := shareLink(t, alice, id)

	b, err := exec.Command("node", filepath.Join("testdata", "sharepage.js"), repo, bin, u+page).CombinedOutput()
	if err != nil {
		t.Fatalf("node sharepage.js: %v\n%s", err, b)
	}
	var got struct {
		NoJS struct {
			NaturalWidth int  `json:"naturalWidth"`
			ButtonHidden bool `json:"buttonHidden"`
			Link         struct {
				Href, Text string
				Height     float64
			} `json:"link"`
		} `json:"noJS"`
		JS struct {
			NonWhite int  `json:"nonWhite"`
			Hidden   bool `json:"hidden"`
		} `json:"js"`
		Layout struct {
			ViewportHeight     float64 `json:"viewportHeight"`
			Replay             string  `json:"replay"`
			Card, Button, Link struct{ Width, Height, Bottom float64 }
		} `json:"layout"`
		Followed struct{ Path, Title string } `json:"followed"`
		Errors   []string                     `json:"errors"`
	}
	if err := json.Unmarshal(b[bytes.LastIndexByte(b[:len(b)-1], '\n')+1:], &got); err != nil {
		t.Fatalf("node sharepage.js printed %q: %v", b, err)
	}
	t.Logf("%s", b)
	if got.NoJS.NaturalWidth != 750 || !got.NoJS.ButtonHidden {
		t.Errorf("JavaScript off: got naturalWidth %d, button hidden %v; want 750, true", got.NoJS.NaturalWidth, got.NoJS.ButtonHidden)
	}
	// The red stroke is 12 units wide and about 515 long: at 2 px per
	// unit, tens of thousands of pixels.
	if got.JS.NonWhite < 10000 || got.JS.Hidden {
		t.Errorf("JavaScript on: got %d drawn pixels (canvas hidden %v), want at least 10000, shown", got.JS.NonWhite, got.JS.Hidden)
	}
	if l := got.NoJS.Link; l.Href != u+"/" || l.Text != "我也来画一幅" || l.Height < 44 {
		t.Errorf("JavaScript off, the link: got %q %q %.0f px tall, want %q %q at least 44 px", l.Href, l.Text, l.Height, u+"/", "我也来画一幅")
	}
	if lay := got.Layout; lay.Replay != "Replay" {
		t.Errorf("an English browser: got the button %q, want Replay", lay.Replay)
	}
	// On a 390×844 phone the whole card, Replay and the link show at
	// once, the picture in 3:4, the touch targets 44 px tall.
	lay := got.Layout
	if c := lay.Card; c.Width < 300 || math.Abs(c.Height-c.Width*4/3) > 1 || c.Bottom > lay.ViewportHeight {
		t.Errorf("card: got %.0fx%.0f ending at %.0f, want at least 300 wide, 3:4, within the %.0f px viewport", c.Width, c.Height, c.Bottom, lay.ViewportHeight)
	}
	for what, r := range map[string]struct{ Width, Height, Bottom float64 }{"Replay": lay.Button, "link": lay.Link} {
		if r.Height < 44 || r.Bottom > lay.ViewportHeight {
			t.Errorf("%s: got %.0f px tall ending at %.0f, want at least 44 within %.0f", what, r.Height, r.Bottom, lay.ViewportHeight)
		}
	}
	if got.Followed.Path != "/" || got.Followed.Title != "一笔到底" {
		t.Errorf("following the link: got %q titled %q, want the app at / titled 一笔到底", got.Followed.Path, got.Followed.Title)
	}
	if len(got.Errors) > 0 {
		t.Errorf("page errors (CSP?): %v", got.Errors)
	}
}
