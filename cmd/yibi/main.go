// Command yibi is the Yibi server (the WeChat mini program session layer
// and the 一笔到底 paint API), its load generator and its health check.
//
//	yibi [serve] [flags]     run the server (flags: yibi serve -h)
//	yibi healthcheck [URL]   GET URL (default http://127.0.0.1:$YIBI_PORT/healthz); exit 0 if 200
//	yibi loadgen [flags]     drive a server like many mini program users (docs/loadgen.md)
//	yibi version             print the version (also --version, -v)
//	yibi help                print this help
//
// Exit codes: 0 success, 1 failure, 2 bad usage or configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/loadgen"
	"github.com/yibi/yibi/internal/server"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = ""

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const usage = `Usage:
  yibi [serve] [flags]     run the server (flags: yibi serve -h)
  yibi healthcheck [URL]   GET URL (default http://127.0.0.1:$YIBI_PORT/healthz); exit 0 if it answers 200
  yibi loadgen [flags]     drive a server like many mini program users (yibi loadgen -h)
  yibi version             print the version (also --version, -v)
  yibi help                print this help

Settings come from a TOML file (--config or YIBI_CONFIG), YIBI_* environment
variables and flags; see docs/config.md. Without an app id and secret yibi
runs in development mode, with a WeChat simulator at /wechat/.
`

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && isHelp(args[0]) {
		cmd, args = "help", nil
	} else if len(args) > 0 && isVersion(args[0]) {
		cmd, args = "version", nil
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr, getenv)
	case "healthcheck":
		return healthcheck(ctx, args, stdout, stderr, getenv)
	case "loadgen":
		if err := loadgen.Main(ctx, args, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "yibi loadgen: %v\n", err)
			if errors.Is(err, loadgen.ErrOptions) {
				return exitUsage
			}
			return exitFailure
		}
		return exitOK
	case "version":
		fmt.Fprintf(stdout, "yibi %s %s\n", versionString(), runtime.Version())
		return exitOK
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "yibi: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

func isVersion(arg string) bool { return arg == "-v" || arg == "-version" || arg == "--version" }

// versionString is the version of this binary: the -X main.version of a
// release build, else what the Go toolchain stamped into it.
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(version, bi)
}

// versionFrom is set when not empty, else the module version and VCS
// revision of bi: "v1.2.3", "v0.0.0-20261126-abcdef (abcdef123456, modified)",
// or "devel (abcdef123456)" for a `go run` inside a checkout, which has a
// revision but no module version.
func versionFrom(set string, bi *debug.BuildInfo) string {
	if set != "" {
		return set
	}
	if bi == nil {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if strings.Contains(v, rev) && modified != "true" {
		return v // a pseudo-version already names the revision
	}
	if modified == "true" {
		rev += ", modified"
	}
	return v + " (" + rev + ")"
}

// serve runs the server until ctx ends (SIGINT, SIGTERM).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		serveUsage(stdout)
		return exitOK
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "yibi: %v\n(yibi serve -h lists the settings)\n", err)
		return exitUsage
	}
	logger := newLogger(stderr, cfg.LogLevel)
	// Config's LogValue shows secrets as REDACTED.
	logger.Info("yibi starting", "version", versionString(), "config", cfg)
	server.SetRedisLogger(logger)
	srv, err := server.New(cfg, logger)
	if err != nil {
		logger.Error("yibi cannot start", "err", err)
		return exitFailure
	}
	if err := srv.Start(); err != nil {
		logger.Error("yibi cannot listen", "err", err)
		srv.Close()
		return exitFailure
	}
	if cfg.DebugAddr != "" {
		stop, err := serveDebug(cfg.DebugAddr, logger)
		if err != nil {
			logger.Error("yibi cannot listen for the profiler", "addr", cfg.DebugAddr, "err", err)
			srv.Close()
			return exitFailure
		}
		defer stop()
	}
	if err := srv.Run(ctx); err != nil {
		logger.Error("yibi stopped with an error", "err", err)
		return exitFailure
	}
	return exitOK
}

// serveDebug serves Go's profiler (net/http/pprof) on its own listener,
// never on the public port, until stop is called.
func serveDebug(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	logger.Info("profiler listening", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}

func serveUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: yibi serve [flags]\n\nFlags (each also a YIBI_* variable and a TOML key; see docs/config.md):\n")
	fmt.Fprintf(w, "  --config FILE\n\tTOML configuration file (env YIBI_CONFIG)\n")
	for _, o := range config.Options {
		def := ""
		if o.Default != "" {
			def = " (default " + o.Default + ")"
		}
		fmt.Fprintf(w, "  --%s\n\t%s%s (env %s)\n", strings.ReplaceAll(o.Name, "_", "-"), o.Doc, def, o.Env)
	}
}

// newLogger logs to w at level: text for a terminal, JSON otherwise (for
// journald, Docker and log shippers).
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if isTerminal(w) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// isTerminal reports whether w is a terminal. A character device is not
// enough: /dev/null is one too, and gets JSON.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTTY(f)
}

// healthcheck GETs the health URL and exits 0 on 200. It is what the
// container's HEALTHCHECK runs (distroless has no curl).
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("yibi healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: yibi healthcheck [-timeout 2s] [URL]\n\nURL defaults to http://127.0.0.1:$YIBI_PORT/healthz; a URL without a path gets /healthz.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "yibi healthcheck: one URL at most, got %q\n", fs.Args())
		return exitUsage
	}
	target := ""
	if fs.NArg() == 1 {
		u, err := url.Parse(fs.Arg(0))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintf(stderr, "yibi healthcheck: %q is not an http(s) URL\n", fs.Arg(0))
			return exitUsage
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/healthz"
		}
		target = u.String()
	} else {
		// Only the port matters; read it the way serve does, from the
		// config file and the environment.
		cfg, err := config.Load(nil, getenv)
		if err != nil {
			fmt.Fprintf(stderr, "yibi healthcheck: %v\n", err)
			return exitUsage
		}
		target = "http://127.0.0.1:" + strconv.Itoa(cfg.Port) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintf(stderr, "yibi healthcheck: %v\n", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "yibi healthcheck: %v\n", err)
		return exitFailure
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "yibi healthcheck: %s answered %s\n", target, resp.Status)
		return exitFailure
	}
	fmt.Fprintf(stdout, "ok: %s\n", target)
	return exitOK
}
