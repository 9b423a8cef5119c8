// Package sharepage serves share links' public pages: SharePath + token
// (api.SharePath) is a light HTML page (no SDK, no login, nothing fetched
// from elsewhere) showing the picture at once and replaying the drawing
// stroke by stroke on demand; + ".png" is the picture, + ".card.png" the
// picture for a WeChat share card (5:4), + ".json" the actions.
// Everything answers 404 as soon as the link is unshared or the paint
// deleted: every request asks the store.
package sharepage

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/picture"
	"github.com/yibi/yibi/internal/render"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.css
	pageCSS string
	//go:embed replay.js
	replayJS string
)

var page = template.Must(template.New("page").Parse(pageHTML))

// csp allows the page its own inline style and script (by hash, so the
// page needs no per-request nonce), the shared reader script, the
// picture and the actions from this server, and nothing else.
var csp = "default-src 'none'; img-src 'self'; connect-src 'self'; script-src 'self' " + hash(replayJS) +
	"; style-src " + hash(pageCSS) + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// ImageWidth is the width of the shared picture: twice the page's 375 CSS
// pixels, sharp on phones, and a good Open Graph size.
const ImageWidth = 750

// CardWidth is the width of the share card picture, 500 × 400: WeChat
// shows a card's image at 5:4, about 200 points wide in a chat, and
// loads a small one faster.
const CardWidth = 500

// Config configures Handler.
type Config struct {
	Paints   paint.Store
	Shares   paint.ShareStore
	Pictures *picture.Renderer
	// ReplayLib is the path of the clients' shared reader script
	// (clients/miniprogram/lib/actions.js as the browser app serves it).
	ReplayLib string
	// TrustedProxies are the peers whose X-Forwarded-Proto is believed
	// when building the og:image URL.
	TrustedProxies []netip.Prefix
	// StoreTimeout bounds a request's store calls; 0 = none.
	StoreTimeout time.Duration
	Logger       *slog.Logger
}

// Pattern is the ServeMux pattern Handler serves.
const Pattern = "GET " + api.SharePath + "{name}"

// Handler serves Pattern.
func Handler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &handler{cfg: cfg}
}

type handler struct{ cfg Config }

// tokenLen is the length of a token (paint.NewShareToken); anything else
// is a 404 without asking the store.
var tokenLen = base64.RawURLEncoding.EncodedLen(paint.ShareTokenBytes)

func validToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	token, kind := name, "page"
	if t, ok := strings.CutSuffix(name, ".card.png"); ok {
		token, kind = t, "card"
	} else if t, ok := strings.CutSuffix(name, ".png"); ok {
		token, kind = t, "png"
	} else if t, ok := strings.CutSuffix(name, ".json"); ok {
		token, kind = t, "json"
	}
	if !validToken(token) {
		api.Fail(w, http.StatusNotFound, api.ReasonNotFound)
		return
	}
	p, err := h.lookup(r, token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch kind {
	case "png", "card":
		// Rendered as the paint's owner: the link's visitors share the
		// owner's turn (picture.Renderer), so a hostile drawing shared
		// takes no more than one render slot either.
		width, format := ImageWidth, picture.PNG
		if kind == "card" {
			width, format = CardWidth, picture.Card
		}
		img, err := h.cfg.Pictures.Render(r.Context(), p, width, format)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		// public, but revalidated each time: an unshared link must stop
		// showing at once.
		picture.Write(w, r, img, "public, no-cache")
	case "json":
		hd := w.Header()
		hd.Set("Content-Type", "application/json; charset=utf-8")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "public, no-cache")
		hd.Set("Content-Length", strconv.Itoa(len(p.Actions)))
		_, _ = w.Write([]byte(p.Actions))
	default:
		h.page(w, r, token)
	}
}

// lookup returns the paint a link shows, or paint.ErrNotShared.
func (h *handler) lookup(r *http.Request, token string) (paint.Paint, error) {
	ctx := r.Context()
	if h.cfg.StoreTimeout > 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, h.cfg.StoreTimeout)
		defer cancel()
	}
	sh, err := h.cfg.Shares.Shared(ctx, token)
	if err != nil {
		return paint.Paint{}, err
	}
	p, err := h.cfg.Paints.Get(ctx, sh.OpenID, sh.ID)
	if errors.Is(err, paint.ErrNotFound) || err == nil && !sh.Of(p) {
		// Deleted, or deleted and made again: the link ended with it.
		return paint.Paint{}, paint.ErrNotShared
	}
	return p, err
}

// words are a page's words in one language.
type words struct {
	Lang     string // <html lang>
	OGLocale string
	Title    string
	Alt      string // the picture's alternative text
	Replay   string
	Draw     string // the link to the app
}

// The page speaks Chinese, as 一笔到底 does, and English to a visitor
// whose first language is English (language).
var (
	zh = words{Lang: "zh-CN", OGLocale: "zh_CN", Title: "一笔到底", Alt: "一幅用一笔到底画的画", Replay: "重播", Draw: "我也来画一幅"}
	en = words{Lang: "en", OGLocale: "en_US", Title: "A drawing on 一笔到底", Alt: "A drawing made with 一笔到底", Replay: "Replay", Draw: "Draw one yourself"}
)

// language picks the page's words from an Accept-Language header: English
// when the language the visitor prefers most (highest q, the first of
// equals) is English, Chinese otherwise, including when the header is
// absent or unreadable.
func language(acceptLanguage string) words {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 || f > 1 {
					f = 0 // unreadable: ignore the language
				}
				q = f
			}
		}
		if tag != "" && q > bestQ {
			best, bestQ = tag, q
		}
	}
	primary, _, _ := strings.Cut(best, "-")
	if strings.EqualFold(primary, "en") {
		return en
	}
	return zh
}

type pageData struct {
	words
	ImageURL      string
	Image         string
	Actions       string
	Width, Height int
	ReplayLib     string
	Style         template.CSS
	Script        template.JS
}

func (h *handler) page(w http.ResponseWriter, r *http.Request, token string) {
	_, image := api.SharePaths(token)
	width, height := render.Size(ImageWidth)
	var buf bytes.Buffer
	err := page.Execute(&buf, pageData{
		words:     language(r.Header.Get("Accept-Language")),
		ImageURL:  h.origin(r) + image,
		Image:     image,
		Actions:   api.SharePath + token + ".json",
		Width:     width,
		Height:    height,
		ReplayLib: h.cfg.ReplayLib,
		Style:     template.CSS(pageCSS),
		Script:    template.JS(replayJS),
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-cache")
	// The page's language follows Accept-Language: a cache must keep one
	// copy per language.
	hd.Add("Vary", "Accept-Language")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// origin is the scheme and host the request was made to, for the
// absolute og:image URL: https when TLS ends here, or when a trusted
// proxy says so in X-Forwarded-Proto; the Host header as sent (html/
// template escapes it; a forged Host only changes the forger's own page).
func (h *handler) origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	} else if h.trusted(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *handler) trusted(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// fail answers in the paint API's envelope: a link that does not show
// anything is a 404 whatever the reason.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, paint.ErrNotShared):
		api.Fail(w, http.StatusNotFound, api.ReasonNotFound)
	case errors.Is(r.Context().Err(), context.Canceled):
		h.cfg.Logger.DebugContext(r.Context(), "share page: client went away", "err", err)
		api.Fail(w, api.StatusClientClosed, api.ReasonClientClosed)
	case errors.Is(err, picture.ErrBusy):
		w.Header().Set("Retry-After", "1")
		api.Fail(w, http.StatusServiceUnavailable, api.ReasonBusy)
	case errors.Is(err, paint.ErrUnavailable):
		h.cfg.Logger.WarnContext(r.Context(), "share page: store unavailable", "err", err)
		api.Fail(w, http.StatusServiceUnavailable, api.ReasonUnavailable)
	default:
		h.cfg.Logger.ErrorContext(r.Context(), "share page", "err", err)
		api.Fail(w, http.StatusInternalServerError, api.ReasonInternal)
	}
}
