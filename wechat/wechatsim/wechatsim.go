// Package wechatsim simulates WeChat for mini program backends, so that
// Yibi runs and is tested without a WeChat account.
//
// A *Sim is an http.Handler with three faces:
//
//   - WeChat's server API, answered as WeChat does, errcodes included:
//     GET /sns/jscode2session; the access token, POST
//     /cgi-bin/stable_token (stable, force_refresh within WeChat's budget)
//     and GET /cgi-bin/token (each fetch invalidates the previous token);
//     POST /wxa/business/getuserphonenumber (a paid call, counted); GET
//     /wxa/checksession and GET /wxa/resetusersessionkey (signed with
//     the user's session_key).
//   - The client side of WeChat, for clients that are not in WeChat
//     (browsers, tests, the load generator): POST /sim/login is wx.login
//     (a one-time code for a simulated user), POST /sim/userinfo is
//     wx.getUserInfo (rawData signed with the current session_key), POST
//     /sim/phonenumber is the getPhoneNumber button (a code, and the old
//     flow's encryptedData), POST /sim/werun is wx.getWeRunData, GET
//     /sim/avatar?user= is the picture chooseAvatar gives (a PNG per
//     user). GET /sim/users lists the users that logged in. A v2 login
//     needs only the /sim/login code: jscode2session takes it alone.
//   - Switches and counters for tests: POST /sim/fault (an errcode such as
//     -1 or 45011 for every server call, a delay that hangs them, access
//     tokens rotated behind their holders' backs) and GET /sim/stats.
//
// Each login gives the user a new session_key, as WeChat does; the code
// carries it to the exchange, and getUserInfo signs with it. openids are
// stable: the same user of the same app always has the same openid.
//
// The Go methods (Login, UserInfo, PhoneCode, WeRunData, Exchanger,
// StableToken, RotateTokens, Stats, …) do the same in process.
// docs/simulator.md documents the HTTP API.
package wechatsim

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/yibi/yibi/wechat"
)

// The app that yibi's development mode uses when no app id is configured.
const (
	DevAppID  = "wx00000000developm"
	DevSecret = "yibi-development-secret"
)

// DefaultCodeTTL is how long a login code can be exchanged: five minutes,
// as WeChat documents.
const DefaultCodeTTL = 5 * time.Minute

// MaxUserBytes bounds a simulated user's name.
const MaxUserBytes = 128

// Errors of the Go API. Over HTTP they are a wx-style errMsg.
var (
	ErrUnknownApp = errors.New("wechatsim: unknown appid")
	ErrNoUser     = errors.New("wechatsim: user must be 1 to 128 bytes of UTF-8 without control characters")
	ErrNotLogged  = errors.New("wechatsim: user has not logged in")
)

// Config configures a Sim. The zero value simulates one app, DevAppID.
type Config struct {
	// Apps maps each app id to its secret; default {DevAppID: DevSecret}.
	Apps map[string]string
	// UnionID makes exchanges answer a unionid (the same for a user
	// across apps), as WeChat does for apps bound to an open platform
	// account.
	UnionID bool
	// CodeTTL is how long a code stays exchangeable; default DefaultCodeTTL.
	CodeTTL time.Duration
	// RateLimit is the exchanges allowed per app per minute; more get
	// errcode 45011. 0 means no limit.
	RateLimit int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// UsersFile, when set, keeps the list of GET /sim/users in that JSON
	// file, so a development server lists its people again after a
	// restart. Empty = in memory only. A file that cannot be read or
	// written leaves the list in memory: it is a convenience, not data.
	UsersFile string
}

// Sim is the simulator. It is safe for concurrent use.
type Sim struct {
	cfg   Config
	delay atomic.Int64 // nanoseconds every exchange waits
	fail  atomic.Int64 // errcode every exchange answers, 0 = none

	mu         sync.Mutex
	codes      map[string]*loginCode
	users      map[appUser]*userState
	openIDs    map[string]appUser
	rate       map[string]*window // per app
	swept      time.Time
	apps       map[string]*appTokens
	tokens     map[string]tokenInfo // every access token still known
	phoneCodes map[string]*phoneCode
	stats      Stats

	// roster is what GET /sim/users lists: users who logged in without
	// unlisted, with their last login; kept in cfg.UsersFile.
	roster map[appUser]time.Time
	saving sync.Mutex // one write of cfg.UsersFile at a time
}

type appUser struct{ app, user string }

type loginCode struct {
	appUser
	sessionKey string
	issued     time.Time
	used       bool
}

type userState struct {
	sessionKey string
	lastLogin  time.Time
}

type window struct {
	start time.Time
	n     int
}

// New returns a simulator.
func New(cfg Config) *Sim {
	if len(cfg.Apps) == 0 {
		cfg.Apps = map[string]string{DevAppID: DevSecret}
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sim{
		cfg: cfg, codes: map[string]*loginCode{}, users: map[appUser]*userState{}, openIDs: map[string]appUser{},
		rate: map[string]*window{}, apps: map[string]*appTokens{}, tokens: map[string]tokenInfo{}, phoneCodes: map[string]*phoneCode{},
		roster: loadRoster(cfg.UsersFile),
	}
}

// loadRoster reads a UsersFile; a missing or unreadable one is an empty
// list.
func loadRoster(file string) map[appUser]time.Time {
	roster := map[appUser]time.Time{}
	if file == "" {
		return roster
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return roster
	}
	var list []User
	if json.Unmarshal(b, &list) != nil {
		return roster
	}
	for _, u := range list {
		if validUser(u.User) && u.AppID != "" {
			roster[appUser{u.AppID, u.User}] = u.LastLogin
		}
	}
	return roster
}

// saveRoster writes the roster to cfg.UsersFile (through a temporary
// file, so a crash leaves the old list or the new one).
func (s *Sim) saveRoster() {
	if s.cfg.UsersFile == "" {
		return
	}
	s.saving.Lock()
	defer s.saving.Unlock()
	b, err := json.Marshal(s.Users(""))
	if err != nil {
		return
	}
	tmp := s.cfg.UsersFile + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, s.cfg.UsersFile)
	}
}

// SetDelay makes every call of WeChat's server API (the code exchange,
// tokens, phone numbers, checksession, resetusersessionkey) wait d before
// answering (or until the caller gives up), to simulate a slow or hanging
// WeChat. 0 turns it off.
func (s *Sim) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// SetFail makes every call of WeChat's server API answer errcode (for
// example -1, "system busy", or 45011, the rate limit). 0 turns it off.
func (s *Sim) SetFail(errcode int) { s.fail.Store(int64(errcode)) }

// OpenID is the openid of user in app.
func OpenID(appID, user string) string { return "o" + hash(appID+"\x00"+user) }

// UnionID is user's unionid, the same in every app.
func UnionID(user string) string { return "u" + hash("unionid\x00"+user) }

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}

// newSessionKey makes a session_key as WeChat's: 16 random bytes in
// standard base64 (24 characters), the AES key of encryptedData.
func newSessionKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.StdEncoding.EncodeToString(b)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// resolveApp picks the app for a client-side call: appID if given, else
// the only app.
func (s *Sim) resolveApp(appID string) (string, error) {
	if appID == "" {
		if len(s.cfg.Apps) == 1 {
			for id := range s.cfg.Apps {
				return id, nil
			}
		}
		return "", fmt.Errorf("%w: appid required, the simulator has %d apps", ErrUnknownApp, len(s.cfg.Apps))
	}
	if _, ok := s.cfg.Apps[appID]; !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownApp, appID)
	}
	return appID, nil
}

func validUser(user string) bool {
	if user == "" || len(user) > MaxUserBytes || !utf8.ValidString(user) {
		return false
	}
	for _, r := range user {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// Login is wx.login for user of appID ("" = the only app): it returns a
// new one-time code and gives the user a new session_key. The user is
// listed by Users (and kept in Config.UsersFile).
func (s *Sim) Login(appID, user string) (string, error) {
	return s.login(appID, user, true)
}

// login is Login; listed false leaves the user out of Users (a load
// generator's users, which would bury the people of a development server).
func (s *Sim) login(appID, user string, listed bool) (string, error) {
	app, err := s.resolveApp(appID)
	if err != nil {
		return "", err
	}
	if !validUser(user) {
		return "", ErrNoUser
	}
	now := s.cfg.Now()
	key := newSessionKey()
	code := randomToken(24)
	au := appUser{app, user}
	s.mu.Lock()
	s.sweep(now)
	s.codes[code] = &loginCode{appUser: au, sessionKey: key, issued: now}
	s.users[au] = &userState{sessionKey: key, lastLogin: now}
	s.openIDs[OpenID(app, user)] = au
	_, wasListed := s.roster[au]
	if listed {
		s.roster[au] = now
	} else {
		delete(s.roster, au)
	}
	s.mu.Unlock()
	if listed || wasListed {
		s.saveRoster()
	}
	return code, nil
}

// sweep forgets codes that can no longer be exchanged, at most once per
// CodeTTL, so that codes never exchanged do not pile up. s.mu is held.
func (s *Sim) sweep(now time.Time) {
	if now.Sub(s.swept) < s.cfg.CodeTTL {
		return
	}
	s.swept = now
	for c, lc := range s.codes {
		if now.Sub(lc.issued) > s.cfg.CodeTTL {
			delete(s.codes, c)
		}
	}
	for c, pc := range s.phoneCodes {
		if now.Sub(pc.issued) > s.cfg.CodeTTL {
			delete(s.phoneCodes, c)
		}
	}
}

// UserInfo is wx.getUserInfo for a user who logged in: the rawData JSON
// and its signature, sha1(rawData + session_key) in hex.
func (s *Sim) UserInfo(appID, user string) (rawData, signature string, err error) {
	app, err := s.resolveApp(appID)
	if err != nil {
		return "", "", err
	}
	s.mu.Lock()
	st, ok := s.users[appUser{app, user}]
	var key string
	if ok {
		key = st.sessionKey
	}
	s.mu.Unlock()
	if !ok {
		return "", "", ErrNotLogged
	}
	b, err := json.Marshal(profile(user))
	if err != nil {
		return "", "", err
	}
	rawData = string(b)
	sum := sha1.Sum([]byte(rawData + key))
	return rawData, hex.EncodeToString(sum[:]), nil
}

// Profile is the user info WeChat gives a mini program (rawData).
type Profile struct {
	NickName  string `json:"nickName"`
	Gender    int    `json:"gender"`
	Language  string `json:"language"`
	City      string `json:"city"`
	Province  string `json:"province"`
	Country   string `json:"country"`
	AvatarURL string `json:"avatarUrl"`
}

// profile makes a stable profile for user.
func profile(user string) Profile {
	sum := sha256.Sum256([]byte(user))
	return Profile{
		NickName: user, Gender: int(sum[0] % 3), Language: "zh_CN",
		City: "Guangzhou", Province: "Guangdong", Country: "China",
		AvatarURL: "https://wx.qlogo.cn/mmopen/sim/" + hex.EncodeToString(sum[:8]) + "/132",
	}
}

// Exchanger is a code exchange done in process, as a wechat.Client for
// appID and secret would do it against the simulator.
type Exchanger struct {
	sim           *Sim
	appID, secret string
}

// Exchanger returns an in-process exchanger for appID with secret.
func (s *Sim) Exchanger(appID, secret string) *Exchanger {
	return &Exchanger{sim: s, appID: appID, secret: secret}
}

// Exchange is jscode2session. A refusal is a *wechat.Error; an abandoned
// wait returns ctx's error.
func (e *Exchanger) Exchange(ctx context.Context, code string) (wechat.Session, error) {
	return e.sim.exchange(ctx, e.appID, e.secret, code)
}

func (s *Sim) exchange(ctx context.Context, appID, secret, code string) (wechat.Session, error) {
	if err := s.fault(ctx); err != nil {
		return wechat.Session{}, err
	}
	if err := s.checkApp(appID, secret); err != nil {
		return wechat.Session{}, err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.RateLimit > 0 {
		w := s.rate[appID]
		if w == nil || now.Sub(w.start) >= time.Minute || now.Before(w.start) {
			w = &window{start: now}
			s.rate[appID] = w
		}
		if w.n >= s.cfg.RateLimit {
			return wechat.Session{}, &wechat.Error{Code: wechat.CodeRateLimited, Msg: "api minute-quota reach limit  mustslower  retry next minute"}
		}
		w.n++
	}
	lc, ok := s.codes[code]
	switch {
	case !ok || lc.app != appID || now.Sub(lc.issued) > s.cfg.CodeTTL:
		return wechat.Session{}, &wechat.Error{Code: wechat.CodeInvalidCode, Msg: "invalid code"}
	case lc.used:
		return wechat.Session{}, &wechat.Error{Code: wechat.CodeCodeUsed, Msg: "code been used"}
	}
	lc.used = true
	sess := wechat.Session{OpenID: OpenID(appID, lc.user), SessionKey: lc.sessionKey}
	if s.cfg.UnionID {
		sess.UnionID = UnionID(lc.user)
	}
	return sess, nil
}

// User is one entry of GET /sim/users.
type User struct {
	AppID     string    `json:"appid"`
	User      string    `json:"user"`
	OpenID    string    `json:"openId"`
	NickName  string    `json:"nickName"`
	LastLogin time.Time `json:"lastLogin"`
}

// Users lists the users of appID ("" = every app) who logged in, most
// recent login first.
func (s *Sim) Users(appID string) []User {
	s.mu.Lock()
	var out []User
	for au, last := range s.roster {
		if appID == "" || au.app == appID {
			out = append(out, User{AppID: au.app, User: au.user, OpenID: OpenID(au.app, au.user), NickName: profile(au.user).NickName, LastLogin: last})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b User) int {
		if c := b.LastLogin.Compare(a.LastLogin); c != 0 {
			return c
		}
		return strings.Compare(a.User, b.User)
	})
	return out
}

// maxSimBody bounds a /sim request body.
const maxSimBody = 4 << 10

// ServeHTTP serves the simulator's HTTP API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s.serveServerAPI(w, r) {
		return
	}
	switch r.URL.Path {
	case "/sns/jscode2session":
		s.serveExchange(w, r)
	case "/sim/login":
		s.serveClient(w, r, "login", func(app, user string) (any, error) {
			unlisted := r.PostForm.Get("unlisted") == "1" || r.URL.Query().Get("unlisted") == "1"
			code, err := s.login(app, user, !unlisted)
			return map[string]string{"errMsg": "login:ok", "code": code}, err
		})
	case "/sim/userinfo":
		s.serveClient(w, r, "getUserInfo", func(app, user string) (any, error) {
			raw, sig, err := s.UserInfo(app, user)
			return map[string]any{"errMsg": "getUserInfo:ok", "rawData": raw, "signature": sig, "userInfo": profile(user)}, err
		})
	case "/sim/headers":
		s.serveClient(w, r, "headers", func(app, user string) (any, error) {
			code, err := s.Login(app, user)
			if err != nil {
				return nil, err
			}
			raw, sig, err := s.UserInfo(app, user)
			return headerLines{"X-WX-Code": code, "X-WX-RawData": wechat.EncodeRawData(raw), "X-WX-Signature": sig}, err
		})
	case "/sim/phonenumber":
		s.serveClient(w, r, "getPhoneNumber", func(app, user string) (any, error) {
			code, data, iv, err := s.PhoneCode(app, user)
			return map[string]string{"errMsg": "getPhoneNumber:ok", "code": code, "encryptedData": data, "iv": iv}, err
		})
	case "/sim/werun":
		s.serveClient(w, r, "getWeRunData", func(app, user string) (any, error) {
			data, iv, err := s.WeRunData(app, user)
			return map[string]string{"errMsg": "getWeRunData:ok", "encryptedData": data, "iv": iv}, err
		})
	case "/sim/avatar":
		serveAvatar(w, r)
	case "/sim/stats":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET", "stats")
			return
		}
		writeJSON(w, http.StatusOK, s.Stats())
	case "/sim/fault":
		s.serveFault(w, r)
	case "/sim/users":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET", "users")
			return
		}
		users := s.Users(r.URL.Query().Get("appid"))
		if users == nil {
			users = []User{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"users": users})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"errcode": 404, "errmsg": "wechatsim: no such endpoint " + r.URL.Path})
	}
}

func (s *Sim) serveExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeJSON(w, http.StatusMethodNotAllowed, wechat.Error{Code: 43001, Msg: "require GET method"})
		return
	}
	q := r.URL.Query()
	if q.Get("grant_type") != "authorization_code" {
		writeJSON(w, http.StatusOK, wechat.Error{Code: 40002, Msg: "invalid grant_type"})
		return
	}
	sess, err := s.exchange(r.Context(), q.Get("appid"), q.Get("secret"), q.Get("js_code"))
	var we *wechat.Error
	switch {
	case errors.As(err, &we):
		writeJSON(w, http.StatusOK, we) // WeChat answers errors with HTTP 200
	case err != nil:
		return // the caller went away
	default:
		writeJSON(w, http.StatusOK, sess)
	}
}

// serveClient reads {appid?, user} from a JSON or form body (or the query)
// and answers wx-style: {errMsg: "<api>:ok", …} or {errMsg: "<api>:fail …"}.
func (s *Sim) serveClient(w http.ResponseWriter, r *http.Request, api string, do func(app, user string) (any, error)) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST", api)
		return
	}
	var in struct {
		AppID string `json:"appid"`
		User  string `json:"user"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSimBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "":
		// An empty body without a content type reads as {}: the error
		// then names the missing user.
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil && !(ct == "" && err == io.EOF) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"errMsg": api + ":fail body is not a JSON object {appid?, user}"})
			return
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"errMsg": api + ":fail bad form body"})
			return
		}
		in.AppID, in.User = r.PostForm.Get("appid"), r.PostForm.Get("user")
	default:
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"errMsg": api + ":fail send JSON or a form"})
		return
	}
	out, err := do(in.AppID, in.User)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrNotLogged) {
			status = http.StatusConflict
		}
		writeJSON(w, status, map[string]string{"errMsg": api + ":fail " + strings.TrimPrefix(err.Error(), "wechatsim: ")})
		return
	}
	if h, ok := out.(headerLines); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, k := range []string{"X-WX-Code", "X-WX-RawData", "X-WX-Signature"} {
			fmt.Fprintf(w, "%s: %s\n", k, h[k])
		}
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// headerLines is the answer of POST /sim/headers: the login headers of
// the 2016 client, written one "Name: value" a line, so that a shell user
// can pass the file to curl -H @file and cut the code out with sed, where
// the JSON of /sim/userinfo would need a JSON tool.
type headerLines map[string]string

func methodNotAllowed(w http.ResponseWriter, allow, api string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"errMsg": api + ":fail use " + allow})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Remote is a client of a simulator served over HTTP, for clients outside
// its process: BaseURL is where it is mounted (yibi's development mode
// mounts it at /wechat), AppID the app ("" = the simulator's only app).
type Remote struct {
	BaseURL    string
	AppID      string
	HTTPClient *http.Client
	// Unlisted logs users in with unlisted=1: they work as any other but
	// GET /sim/users leaves them out (a load generator's users would
	// bury the people of the browser app's login list).
	Unlisted bool
}

// Login is wx.login over HTTP.
func (r *Remote) Login(ctx context.Context, user string) (string, error) {
	var out struct{ Code string }
	if err := r.call(ctx, "/sim/login", user, &out); err != nil {
		return "", err
	}
	return out.Code, nil
}

// UserInfo is wx.getUserInfo over HTTP.
func (r *Remote) UserInfo(ctx context.Context, user string) (rawData, signature string, err error) {
	var out struct{ RawData, Signature string }
	if err := r.call(ctx, "/sim/userinfo", user, &out); err != nil {
		return "", "", err
	}
	return out.RawData, out.Signature, nil
}

// PhoneCode is the getPhoneNumber button over HTTP: a code for
// getuserphonenumber, and the old flow's encryptedData and iv.
func (r *Remote) PhoneCode(ctx context.Context, user string) (code, encryptedData, iv string, err error) {
	var out struct{ Code, EncryptedData, IV string }
	if err := r.call(ctx, "/sim/phonenumber", user, &out); err != nil {
		return "", "", "", err
	}
	return out.Code, out.EncryptedData, out.IV, nil
}

func (r *Remote) call(ctx context.Context, path, user string, out any) error {
	form := url.Values{"user": {user}}
	if r.AppID != "" {
		form.Set("appid", r.AppID)
	}
	if r.Unlisted && path == "/sim/login" {
		form.Set("unlisted", "1")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.BaseURL, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("wechatsim: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := r.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		ErrMsg string `json:"errMsg"`
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &body); err != nil || resp.StatusCode != http.StatusOK {
		msg := body.ErrMsg
		if msg == "" {
			msg = "not a simulator answer"
		}
		return fmt.Errorf("wechatsim: %s: HTTP %d: %s", path, resp.StatusCode, msg)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("wechatsim: %s: %w", path, err)
	}
	return nil
}
