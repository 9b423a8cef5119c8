package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yibi/yibi/clients"
	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/limit"
	"github.com/yibi/yibi/internal/metrics"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/web"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
)

// SimulatorPath is where development mode mounts the WeChat simulator.
const SimulatorPath = "/wechat"

// maxHeaderBytes bounds a request's headers. X-WX-RawData alone may take
// wxsession.DefaultMaxHeaderBytes (16 KiB); the rest is small.
const maxHeaderBytes = 64 << 10

// readyTimeout bounds each store's ping in /readyz.
const readyTimeout = 2 * time.Second

// loopback is the proxy whose X-Forwarded-For the login rate limit
// believes: nginx on the same machine (deploy/nginx/yibi.conf).
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Server is yibi: the stores, the session layer, the paint API, the
// browser app, health and metrics endpoints and, in development mode, the
// WeChat simulator, behind one http.Handler and one listener.
//
// Build it with New; then either Run it (which listens, serves until its
// context ends and closes everything), or use Handler in a server of your
// own and Close it when done. Start listens early, so that URL is known
// before Run (useful with port 0).
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	sim     *wechatsim.Sim
	handler http.Handler
	srv     *http.Server

	sessions *sessionBackend
	paints   paint.Store // the real store, unwrapped (Ping in /readyz, Close)

	mu        sync.Mutex
	ln        net.Listener
	serving   bool
	closeOnce sync.Once
	closeErr  error
}

// New checks cfg and builds the server: it opens the stores and wires the
// handlers, but does not listen yet. A Redis or MongoDB that is down does
// not fail New: the server starts, /readyz says what is down, requests
// that need it get a 503 envelope, and it recovers by itself when the
// store comes back. Only errors that cannot mend themselves (an invalid
// config, a data directory that cannot be created) fail New.
func New(cfg config.Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: logger}

	sessions, err := openSessions(cfg, logger)
	if err != nil {
		return nil, err
	}
	s.sessions = sessions
	paints, err := openPaints(cfg, logger)
	if err != nil {
		sessions.close()
		return nil, err
	}
	s.paints = paints

	s.handler, err = s.routes()
	if err != nil {
		s.closeStores()
		return nil, err
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		// No WriteTimeout: a user's list may be large and phones slow;
		// in production nginx buffers answers, so slow readers hold
		// nginx, not yibi.
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// routes builds the handler tree.
func (s *Server) routes() (_ http.Handler, err error) {
	// ServeMux panics on patterns it cannot parse or that collide; a
	// route base path such as "/a b" or "/{x}" would make one.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("server: routes (check route_base_path): %v", v)
		}
	}()
	cfg, logger := s.cfg, s.log
	met := metrics.New()

	var exchanger wxsession.Exchanger
	if dev, why := cfg.DevMode(); dev {
		appID, secret := cfg.AppID, cfg.AppSecret
		if appID == "" {
			appID, secret = wechatsim.DevAppID, wechatsim.DevSecret
		}
		s.sim = wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}})
		exchanger = s.sim.Exchanger(appID, secret)
		logger.Warn("development mode: logins are checked by the built-in WeChat simulator, not by WeChat; do not use in production",
			"reason", why, "simulator", SimulatorPath+"/", "app_id", appID)
	} else {
		exchanger = &wechat.Client{AppID: cfg.AppID, Secret: cfg.AppSecret, BaseURL: cfg.WeChatAPIURL, HTTPClient: wechatHTTPClient()}
	}

	session, err := wxsession.New(wxsession.Config{
		// AppID and AppSecret are not used for the exchange (Exchanger
		// is set) but let the middleware scrub the secret from logs.
		AppID:           cfg.AppID,
		AppSecret:       cfg.AppSecret,
		Exchanger:       met.Exchanger(exchanger),
		Store:           met.SessionStore(s.sessions.store),
		TTL:             cfg.SessionTTL,
		ExchangeTimeout: cfg.ExchangeTimeout,
		Logger:          logger,
		OnLogin:         met.OnLogin,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	base := strings.TrimSuffix(cfg.RouteBasePath, "/") // "/" means no prefix
	paints := api.Handler(api.Config{
		Store:            met.PaintStore(s.paints),
		BasePath:         base,
		OpenID:           openIDFromContext,
		MaxActionsBytes:  cfg.MaxActionsBytes,
		MaxPaintsPerUser: cfg.MaxPaintsPerUser,
		MaxBodyBytes:     cfg.MaxBodyBytes,
		Logger:           logger,
		StoreTimeout:     cfg.StoreTimeout,
	})
	if paints, err = s.accountRoutes(base, paints); err != nil {
		return nil, err
	}
	lim := limit.Config{TrustedProxies: loopback, OnReject: met.OnReject,
		PerIPBurst: cfg.LoginBurstPerIP, PerAppBurst: cfg.LoginBurstPerApp}
	if cfg.LoginBurstPerIP == 0 {
		lim.PerIP = -1
	}
	if cfg.LoginBurstPerApp == 0 {
		lim.PerApp = -1
	}
	logins := limit.Logins(lim)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", met.Handler())
	// The session layer guards the paint API only: health checks, metrics
	// and static files never look at X-WX-* headers.
	mux.Handle(base+"/session/", logins(session.Handler(noteUser(paints))))
	if s.sim != nil {
		mux.Handle(SimulatorPath+"/", http.StripPrefix(SimulatorPath, s.sim))
	}
	if err := mountWeb(mux, base); err != nil {
		return nil, err
	}
	return recoverPanics(logger,
		withUserHolder(
			logRequests(logger, userFromHolder,
				met.Middleware(
					jsonErrors(
						metrics.CapturePattern(mux)))))), nil
}

// wechatHTTPClient is the client for api.weixin.qq.com: one host, many
// concurrent logins, so keep more idle connections than the default two.
func wechatHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}

// mountWeb registers each file of the browser app under its own GET
// pattern (and its directory's index.html at the directory), rather than a
// catch-all "/", so that an unknown path is a 404 and a known path with the
// wrong method a 405.
func mountWeb(mux *http.ServeMux, base string) error {
	fsys, err := webFS(clients.Web, base)
	if err != nil {
		return fmt.Errorf("server: browser app: %w", err)
	}
	h, err := web.Handler(fsys)
	if err != nil {
		return fmt.Errorf("server: browser app: %w", err)
	}
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		mux.Handle("GET /"+p, h)
		if path.Base(p) == "index.html" {
			dir := path.Dir(p)
			if dir == "." {
				mux.Handle("GET /{$}", h)
			} else {
				mux.Handle("GET /"+dir+"/{$}", h)
			}
		}
		return nil
	})
}

// openIDFromContext is the paint API's view of the session user.
func openIDFromContext(ctx context.Context) (string, bool) {
	u, ok := wxsession.FromContext(ctx)
	if !ok || u.OpenID == "" {
		return "", false
	}
	return u.OpenID, true
}

// userHolderKey is the context key of the *string where noteUser leaves
// the session user's openId for logRequests, which runs outside the session
// layer and so never sees the request it passes on.
type userHolderKey struct{}

func withUserHolder(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userHolderKey{}, new(string))))
	})
}

func noteUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := openIDFromContext(r.Context()); ok {
			if h, ok := r.Context().Value(userHolderKey{}).(*string); ok {
				*h = id
			}
		}
		next.ServeHTTP(w, r)
	})
}

func userFromHolder(r *http.Request) string {
	if h, ok := r.Context().Value(userHolderKey{}).(*string); ok {
		return *h
	}
	return ""
}

// readyz answers 200 when both stores answer a ping, else 503, naming
// each store's state. Causes go to the log, not to the caller.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	var sessErr, paintErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sessErr = s.sessions.ping(ctx) }()
	go func() { defer wg.Done(); paintErr = s.paints.Ping(ctx) }()
	wg.Wait()
	state := func(name string, err error) string {
		if err != nil {
			s.log.WarnContext(r.Context(), "readyz: store not ready", "store", name, "err", err)
			return "down"
		}
		return "ok"
	}
	checks := map[string]string{"sessions": state("sessions", sessErr), "paints": state("paints", paintErr)}
	if sessErr != nil || paintErr != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "checks": checks})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Handler returns the server's whole handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Simulator returns the WeChat simulator of development mode, nil in
// production mode.
func (s *Server) Simulator() *wechatsim.Sim { return s.sim }

// Start listens on the configured port. Run calls it if it was not called.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("server: already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen())
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.ln = ln
	return nil
}

// URL is the server's base URL on loopback (http://127.0.0.1:PORT), with
// the real port when the configured one is 0; empty before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	port := s.ln.Addr().(*net.TCPAddr).Port
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Run serves until ctx ends, then shuts down gracefully (in-flight
// requests get up to ShutdownTimeout to finish) and closes the stores.
// It returns nil after a clean shutdown or Close.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		if err := s.Start(); err != nil {
			return err
		}
		s.mu.Lock()
		ln = s.ln
		s.mu.Unlock()
	}
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("server: already running")
	}
	s.serving = true
	s.mu.Unlock()

	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	dev, _ := s.cfg.DevMode()
	s.log.Info("yibi listening", "url", s.URL(), "dev", dev,
		"sessions", s.sessions.kind, "paints", paintsKind(s.cfg), "route_base_path", s.cfg.RouteBasePath)

	select {
	case err := <-errc:
		cerr := s.Close()
		if errors.Is(err, http.ErrServerClosed) {
			return cerr
		}
		return errors.Join(fmt.Errorf("server: %w", err), cerr)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var serr error
	if err := s.srv.Shutdown(sctx); err != nil {
		serr = fmt.Errorf("server: shutdown: %w", err)
		s.srv.Close()
	}
	<-errc
	err := errors.Join(serr, s.Close())
	s.log.Info("stopped")
	return err
}

// Close stops serving at once (open connections are closed) and closes
// the stores. It is idempotent; Run calls it on its way out.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		ln, serving := s.ln, s.serving
		s.mu.Unlock()
		var errs []error
		if err := s.srv.Close(); err != nil {
			errs = append(errs, err)
		}
		if ln != nil && !serving {
			ln.Close() // never handed to Serve, so srv.Close does not know it
		}
		errs = append(errs, s.closeStores())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func (s *Server) closeStores() error {
	var errs []error
	if s.paints != nil {
		errs = append(errs, s.paints.Close())
	}
	if s.sessions != nil {
		errs = append(errs, s.sessions.close())
	}
	return errors.Join(errs...)
}

func paintsKind(cfg config.Config) string {
	if cfg.MongoURI != "" {
		return "mongodb"
	}
	return "sqlite"
}

// sqlitePath is where the SQLite paint store lives.
func sqlitePath(cfg config.Config) string { return filepath.Join(cfg.DataDir, "yibi.db") }

// openPaints opens the paint store: MongoDB when configured (retrying in
// the background while it is down), else SQLite in DataDir.
func openPaints(cfg config.Config, logger *slog.Logger) (paint.Store, error) {
	if cfg.MongoURI != "" {
		return openMongo(cfg, logger), nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	st, err := sqliteOpen(sqlitePath(cfg))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return st, nil
}
