package server

import (
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/yibi/yibi/clients"
	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/limit"
	"github.com/yibi/yibi/internal/metrics"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/picture"
	"github.com/yibi/yibi/internal/redistoken"
	"github.com/yibi/yibi/internal/sharepage"
	"github.com/yibi/yibi/internal/web"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
)

// routes builds the handler tree: the route table behind the middleware
// every request passes (panics recovered, one record per request, access
// log, metrics).
func (s *Server) routes() (_ http.Handler, err error) {
	// ServeMux panics on patterns it cannot parse or that collide; a
	// route base path such as "/a b" or "/{x}" would make one.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("server: routes (check route_base_path): %v", v)
		}
	}()
	met := metrics.New()
	base := strings.TrimSuffix(s.cfg.RouteBasePath, "/") // "/" means no prefix
	wx := s.wechatClient(met)                            // makes the simulator in development mode
	exchange := met.Exchanger(s.exchanger(wx))
	keys := &sessionKeys{}
	acct, err := s.account(met, base, wx, keys)
	if err != nil {
		return nil, err
	}
	session, err := s.sessionLayer(met, exchange, acct, keyChecker{wx})
	if err != nil {
		return nil, err
	}
	keys.m = session
	app, err := web.Routes(clients.Web, base)
	if err != nil {
		return nil, fmt.Errorf("server: browser app: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", met.Handler())
	// One login budget for both protocols: v1 logins carry X-WX-RawData
	// on any session route, v2 logins are POSTs to the login route.
	logins := s.loginLimit(met, base+"/session/login")
	pictures := picture.New(0, 0) // DefaultCacheBytes, one render per CPU; shared by every image route
	shares, _ := s.paints.(paint.ShareStore)
	// The session layer guards the session routes only: health checks,
	// metrics and static files never look at session headers.
	mux.Handle(base+"/session/", logins(session.Handler(noteUser(acct.Handler(s.paintAPI(met, base, pictures, shares))))))
	if shares != nil {
		if _, err := fs.Stat(clients.Web, replayLib[1:]); err != nil {
			return nil, fmt.Errorf("server: share page: the replay script: %w", err)
		}
		mux.Handle(sharepage.Pattern, sharepage.Handler(sharepage.Config{Paints: met.PaintStore(s.paints), Shares: shares,
			Pictures: pictures, ReplayLib: replayLib, TrustedProxies: loopback, StoreTimeout: s.cfg.StoreTimeout, Logger: s.log}))
	}
	// Avatars are public: mounted beside the session layer, so that a stale
	// credential sent along does not make them a 401.
	mux.Handle(acct.AvatarPattern(), acct.AvatarHandler())
	mux.Handle("POST "+base+"/session/login", logins(session.LoginHandler()))
	mux.Handle("POST "+base+"/session/logout", session.LogoutHandler())
	if s.sim != nil {
		mux.Handle(SimulatorPath+"/", http.StripPrefix(SimulatorPath, s.sim))
	}
	for _, rt := range app {
		mux.Handle("GET "+rt.Pattern, rt.Handler)
	}
	lim := writeLimits{grace: s.cfg.WriteTimeout, rate: s.cfg.MinWriteRate}
	return track(s.log, met, lim, recoverPanics(s.log, routed(mux))), nil
}

// replayLib is the clients' shared drawing reader as the browser app
// serves it (clients.Web); the share page replays with it, so one reader
// draws in the apps and on the page.
const replayLib = "/miniprogram/lib/actions.js"

// app returns the mini program's app id and secret: the configured ones,
// or the simulator's development app's.
func (s *Server) app() (appID, secret string) {
	if s.cfg.AppID == "" {
		return wechatsim.DevAppID, wechatsim.DevSecret
	}
	return s.cfg.AppID, s.cfg.AppSecret
}

// wechatClient is the one client of WeChat's server API (code exchange,
// access token, phone numbers, checksession): WeChat's, or in development
// mode the built-in simulator's (made here, mounted by routes), in
// process. Its access token is shared through Redis when sessions are
// there, so that every instance holds one token.
func (s *Server) wechatClient(met *metrics.Metrics) *wechat.Client {
	cfg := s.cfg
	appID, secret := s.app()
	c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: cfg.WeChatAPIURL, HTTPClient: wechatHTTPClient()}
	if dev, why := cfg.DevMode(); dev {
		// The people who logged in are listed again after a restart (the
		// browser app offers them), from a file beside the SQLite database.
		s.sim = wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret},
			UsersFile: filepath.Join(cfg.DataDir, "simulator-users.json")})
		s.log.Warn("development mode: logins are checked by the built-in WeChat simulator, not by WeChat; do not use in production",
			"reason", why, "simulator", SimulatorPath+"/", "app_id", appID)
		c.BaseURL, c.HTTPClient = "http://wechatsim.invalid", &http.Client{Transport: handlerTransport{s.sim}}
	}
	var tokens wechat.Store // nil: in this process's memory
	if s.sessions.redis != nil {
		tokens = redistoken.New(s.sessions.redis)
	}
	c.Tokens = wechat.NewTokenSource(c, wechat.TokenOptions{Store: tokens})
	met.WeChatTokens(c.Tokens.Stats)
	return c
}

// exchanger is the WeChat code exchange: wx, or in development mode the
// simulator's own exchanger.
func (s *Server) exchanger(wx *wechat.Client) wxsession.Exchanger {
	if s.sim != nil {
		return s.sim.Exchanger(s.app())
	}
	return wx
}

// sessionLayer is the wxsession middleware over the configured store and
// exchange (both measured), with the account service's profiles in its
// login answers and WeChat's checksession to tell a stale session_key.
func (s *Server) sessionLayer(met *metrics.Metrics, exchange wxsession.Exchanger, profiles wxsession.ProfileSource, checker wxsession.SessionKeyChecker) (*wxsession.Middleware, error) {
	cfg := s.cfg
	appID, appSecret := s.app()
	var secret []byte // empty: wxsession derives it from the app secret
	if cfg.SessionSecret != "" {
		secret = []byte(cfg.SessionSecret)
	}
	tokens, _ := s.sessions.store.(wxsession.TokenStore)
	m, err := wxsession.New(wxsession.Config{
		// AppID and AppSecret are not used for the exchange (Exchanger
		// is set): they let the middleware scrub the secret from logs
		// and derive the sealing key when no session secret is set.
		AppID:             appID,
		AppSecret:         appSecret,
		Secret:            secret,
		Exchanger:         exchange,
		Store:             met.SessionStore(s.sessions.store),
		TokenStore:        tokens,
		TTL:               cfg.SessionTTL,
		IdleTimeout:       cfg.SessionIdle,
		MaxLifetime:       cfg.SessionMaxLifetime,
		MaxSessions:       cfg.MaxSessionsPerUser,
		ExchangeTimeout:   cfg.ExchangeTimeout,
		Logger:            s.log,
		OnLogin:           met.OnLogin,
		Profiles:          profiles,
		SessionKeyChecker: checker,
		Decrypt: func(sessionKey, encryptedData, iv string) ([]byte, error) {
			return wechat.Decrypt(sessionKey, encryptedData, iv, appID)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return m, nil
}

// paintAPI is the paint API over the measured store. Its own route table
// gets the same fallbacks as the server's, so that an unknown paint path
// or method is answered in the paint envelope by the router, not by
// ServeMux's plain text.
func (s *Server) paintAPI(met *metrics.Metrics, base string, pictures *picture.Renderer, shares paint.ShareStore) http.Handler {
	cfg := s.cfg
	h := api.Handler(api.Config{
		Store:            met.PaintStore(s.paints),
		BasePath:         base,
		OpenID:           openIDFromContext,
		MaxActionsBytes:  cfg.MaxActionsBytes,
		MaxPaintsPerUser: cfg.MaxPaintsPerUser,
		MaxUserBytes:     int64(cfg.MaxUserBytes),
		MaxBodyBytes:     cfg.MaxBodyBytes,
		Logger:           s.log,
		StoreTimeout:     cfg.StoreTimeout,
		Pictures:         pictures,
		Shares:           shares,
	})
	if mux, ok := h.(*http.ServeMux); ok {
		return routed(mux)
	}
	return h
}

// loginLimit is the login rate limit, off where the configured burst is
// 0, for v1 logins (X-WX-RawData) and POSTs to loginPath (v2).
func (s *Server) loginLimit(met *metrics.Metrics, loginPath string) func(http.Handler) http.Handler {
	return limit.Logins(limit.Config{TrustedProxies: loopback, OnReject: met.OnReject,
		IsLogin: func(r *http.Request) bool {
			return r.Header.Get("X-WX-RawData") != "" || (r.Method == http.MethodPost && r.URL.Path == loginPath)
		},
		PerIP: limit.DefaultPerIP, PerIPBurst: s.cfg.LoginBurstPerIP,
		PerApp: limit.DefaultPerApp, PerAppBurst: s.cfg.LoginBurstPerApp})
}

// routed answers, in the paint envelope, the requests mux has no route
// for, before any handler runs: an unknown path is a 404, a known path
// with another method a 405 with Allow. It names the matched pattern in
// the request's record (for the access log and the metrics' route label,
// a closed set); an inner table's pattern replaces an outer one's.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A path the table knows for other methods is a 405, also when
		// a catch-all (the session subtree) would take the request.
		if allow := api.Allowed(mux, r); allow != nil {
			api.MethodNotAllowed(w, allow)
			return
		}
		_, pattern := mux.Handler(r)
		if pattern == "" {
			api.Fail(w, http.StatusNotFound, api.ReasonNotFound)
			return
		}
		if rec := requestFrom(r.Context()); rec != nil {
			rec.route = pattern
		}
		mux.ServeHTTP(w, r)
	})
}
