// Package account serves the v2 routes of a signed-in user beyond login
// and logout (which the session library serves): the profile
// ({base}/session/me, {base}/session/profile), avatars
// ({base}/session/avatars/<name>), the phone number
// ({base}/session/phone) and encryptedData ({base}/session/decrypt), as
// protocol-v2.md specifies them.
//
// The user is the one the session middleware put in the request's context
// (wxsession.FromContext), v1 or v2 alike. Answers use the 2016 envelopes:
// api.OK and api.Fail, and the session envelope (wxsession.WriteError) for
// what the session layer's clients act on (no session, a stale
// session_key).
package account

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wxsession"
)

// Reasons of the failure envelope that this package sends.
const (
	ReasonNickName        = "nickName must be 1 to 32 characters without control characters"
	ReasonAvatarTooLarge  = "avatar over 2 MiB"
	ReasonAvatarType      = "avatar must be PNG, JPEG or WebP"
	ReasonAvatarImage     = "avatar is broken or over 4096 pixels a side"
	ReasonNothingToSave   = "send nickName, avatar or both"
	ReasonContentType     = "content type must be multipart/form-data or application/json"
	ReasonBadBody         = api.ReasonBadBody
	ReasonPhoneCode       = "phone code missing, invalid, used or expired"
	ReasonPhoneCodeOther  = "phone code belongs to another user"
	ReasonDecrypt         = "encryptedData could not be decrypted"
	ReasonDataTooLarge    = "encryptedData over 64 KiB"
	ReasonWeChatDown      = "wechat unavailable"
	ReasonWeChatMalformed = "wechat answered something malformed"
	ReasonNotConfigured   = "not available on this server"
)

// Limits of request bodies.
const (
	// MaxEncryptedData is the longest encryptedData accepted (64 KiB).
	MaxEncryptedData = 64 << 10
	// maxJSONBody bounds small JSON bodies ({nickName}, {code}).
	maxJSONBody = 4 << 10
	// maxField bounds a non-file multipart field (nickName is at most 128
	// bytes of UTF-8).
	maxField = 1 << 10
	// multipartSlack is what a multipart body may carry besides the
	// avatar file: boundaries, part headers, nickName.
	multipartSlack = 64 << 10
)

// PhoneNumbers exchanges getPhoneNumber codes; *wechat.Client (with a
// token source) is one. Each successful exchange is paid.
type PhoneNumbers interface {
	PhoneNumber(ctx context.Context, code, openID string) (wechat.PhoneNumber, error)
}

// SessionKeys decrypts encryptedData with the session_key of the session
// of ctx (the request's), which never leaves the session layer. An error
// wrapping wechat.ErrDecrypt is the input's fault; one wrapping
// wechat.ErrSessionKeyStale means WeChat no longer accepts that
// session_key (checked with checksession after a failed decryption).
type SessionKeys interface {
	Decrypt(ctx context.Context, encryptedData, iv string) ([]byte, error)
}

// Config configures a Service.
type Config struct {
	// Store keeps profiles and avatars (required).
	Store profile.Store
	// BasePath is the routes' prefix, e.g. "/applet" ("" for none).
	BasePath string
	// Phones exchanges phone codes; nil answers /session/phone with 503.
	Phones PhoneNumbers
	// Keys decrypts for /session/decrypt; nil answers it with 503.
	Keys SessionKeys
	// OnPaidCall is called once for each phone code exchange WeChat
	// answered with a number (a paid call), for a metric. Optional.
	OnPaidCall func()
	// Decodes bounds the avatar decodes running at once (each may take
	// 64 MiB); default 2.
	Decodes int
	// PhoneTimeout bounds a phone code exchange, which goes on after its
	// client hangs up, so that a paid answer is stored; default 15 s.
	PhoneTimeout time.Duration
	// Logger gets the faults; default slog.Default().
	Logger *slog.Logger
}

// Service serves the routes. It satisfies the session library's profile
// lookup (Profile) so that a login answer carries the user's profile.
type Service struct {
	cfg     Config
	decodes chan struct{}
	phones  flights
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Decodes <= 0 {
		cfg.Decodes = 2
	}
	if cfg.PhoneTimeout <= 0 {
		cfg.PhoneTimeout = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.OnPaidCall == nil {
		cfg.OnPaidCall = func() {}
	}
	cfg.BasePath = strings.TrimSuffix(cfg.BasePath, "/")
	return &Service{cfg: cfg, decodes: make(chan struct{}, cfg.Decodes), phones: flights{m: map[string]*flight{}}}
}

// Handler serves the account routes and passes every other request to
// next, so that it can wrap the paint API behind one session middleware.
func (s *Service) Handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	p := s.cfg.BasePath + "/session/"
	mux.HandleFunc("GET "+p+"me", s.me)
	mux.HandleFunc("POST "+p+"profile", s.saveProfile)
	mux.HandleFunc("POST "+p+"phone", s.phone)
	mux.HandleFunc("POST "+p+"decrypt", s.decrypt)
	mux.HandleFunc("GET "+p+"avatars/{name}", s.avatar)
	mux.Handle("/", next)
	// An account path with another method is a 405 here: the catch-all
	// would hand it to next, which knows only its own paths (a 404).
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := api.Allowed(mux, r); allow != nil {
			api.MethodNotAllowed(w, allow)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// AvatarHandler serves GET {base}/session/avatars/{name} by itself, for
// mounting outside the session layer: an avatar is public (its name is a
// content hash), so a request that carries an expired token or a stale
// code still gets the image, not a 401.
func (s *Service) AvatarHandler() http.Handler { return http.HandlerFunc(s.avatar) }

// AvatarPattern is the route pattern AvatarHandler expects.
func (s *Service) AvatarPattern() string { return "GET " + s.cfg.BasePath + "/session/avatars/{name}" }

// AvatarURL is the path an avatar of that name is served at.
func (s *Service) AvatarURL(name string) string {
	if name == "" {
		return ""
	}
	return s.cfg.BasePath + "/session/avatars/" + name
}

// Profile returns openID's nickName and avatar URL ("" for what the user
// has not set), for the session library's login answer.
func (s *Service) Profile(ctx context.Context, openID string) (nickName, avatarURL string, err error) {
	p, _, err := s.cfg.Store.Get(ctx, openID)
	if err != nil {
		return "", "", err
	}
	return p.NickName, s.AvatarURL(p.Avatar), nil
}

// me is the answer of /session/me and /session/profile.
type me struct {
	NickName  string `json:"nickName"`
	AvatarURL string `json:"avatarUrl"`
	HasPhone  bool   `json:"hasPhone"`
}

func (s *Service) view(p profile.Profile) me {
	return me{NickName: p.NickName, AvatarURL: s.AvatarURL(p.Avatar), HasPhone: p.HasPhone()}
}

// user is the request's openId; without one it answers the session
// envelope's ERR_SESSION_EXPIRED, on which clients log in and resend.
func user(w http.ResponseWriter, r *http.Request) (string, bool) {
	u, ok := wxsession.FromContext(r.Context())
	if !ok || u.OpenID == "" {
		wxsession.WriteError(w, http.StatusUnauthorized, wxsession.ReasonSessionExpired, "no session: log in first")
		return "", false
	}
	return u.OpenID, true
}

func (s *Service) me(w http.ResponseWriter, r *http.Request) {
	openID, ok := user(w, r)
	if !ok {
		return
	}
	p, _, err := s.cfg.Store.Get(r.Context(), openID)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	api.OK(w, s.view(p))
}

// storeFailed answers a profile store fault: 503, detail logged.
func (s *Service) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, profile.ErrUnavailable) {
		s.cfg.Logger.WarnContext(r.Context(), "profile store unavailable", "path", r.URL.Path, "err", err)
	} else {
		s.cfg.Logger.ErrorContext(r.Context(), "profile store", "path", r.URL.Path, "err", err)
	}
	api.Fail(w, http.StatusServiceUnavailable, api.ReasonUnavailable)
}

// readJSON decodes a JSON body of at most limit bytes into v, answering
// the failure itself, with the paint API's body contract (api.ReadBody):
// one Content-Type, application/json; 413 before reading past limit; 408
// for a body that stalls; 400 for one that cannot be read, is not UTF-8,
// or holds anything but one JSON value.
func (s *Service) readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, _, err := api.ReadBody(w, r, limit, "application/json")
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil && !api.FailBody(w, r, s.cfg.Logger, err) {
		api.Fail(w, http.StatusBadRequest, ReasonBadBody)
	}
	return err == nil
}

// drain reads what is left of a body (up to a bound) so the connection
// can be reused after an early answer.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 256<<10)) }

var errFlightAborted = errors.New("account: phone exchange aborted")

// flights makes concurrent exchanges of one phone code in this process
// one paid call: the first runs it, the others wait for its result.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done  chan struct{}
	owner string
	ph    profile.Phone
	err   error
}

// do runs fn for key unless a call for key is running, in which case it
// waits for that one (or ctx) and shares its result.
func (f *flights) do(ctx context.Context, key string, fn func() (string, profile.Phone, error)) (string, profile.Phone, error) {
	f.mu.Lock()
	if c, ok := f.m[key]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.owner, c.ph, c.err
		case <-ctx.Done():
			return "", profile.Phone{}, ctx.Err()
		}
	}
	// errFlightAborted stays if fn panics: the waiters must not take the
	// zero Phone for an answer.
	c := &flight{done: make(chan struct{}), err: errFlightAborted}
	f.m[key] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.m, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.owner, c.ph, c.err = fn()
	return c.owner, c.ph, c.err
}
