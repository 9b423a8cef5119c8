// Package server wires yibi: configuration, stores, the session layer, the
// paint API, the browser app and the WeChat simulator, behind one handler.
// A request passes track (its record, request id, access log and metrics),
// recoverPanics, then the route table (routes.go), which answers what it
// has no route for itself.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/paint"
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
	logger = withRequestIDs(logger)
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
		// No WriteTimeout: a user's list may be large and phones slow.
		// Each answer gets a write deadline sized to it instead
		// (responseWriter), so a client that never reads is cut off.
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// wechatHTTPClient is the client for api.weixin.qq.com: one host, many
// concurrent logins, so keep more idle connections than the default two.
func wechatHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}

// openIDFromContext is the paint API's view of the session user.
func openIDFromContext(ctx context.Context) (string, bool) {
	u, ok := wxsession.FromContext(ctx)
	if !ok || u.OpenID == "" {
		return "", false
	}
	return u.OpenID, true
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
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("server: %w (is another yibi running? pick another port with YIBI_PORT or --port)", err)
	}
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.ln = ln
	return nil
}

// Addr is the address the server listens on, as bound (the real port
// when the configured one is 0); nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is a base URL that reaches the server from this machine: the bound
// address, with loopback for an unspecified one (0.0.0.0, ::); empty
// before Start.
func (s *Server) URL() string {
	a, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	ip := a.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(a.Port))
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
	s.log.Info("yibi listening", "addr", ln.Addr().String(), "url", s.URL(), "dev", dev,
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
	p := sqlitePath(cfg)
	st, err := sqliteOpen(p)
	if err != nil {
		// SQLite's own message ("unable to open database file (14)")
		// does not say which file.
		return nil, fmt.Errorf("server: paint store %s (is data_dir %s writable?): %w", p, cfg.DataDir, err)
	}
	return st, nil
}
