// Package config holds yibi's settings: one Config struct with defaults,
// loaded from a TOML file, then YIBI_* environment variables, then flags,
// and checked by Validate for rules that span fields.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/limit"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/redisstore"
)

// ErrInvalid wraps every Validate failure.
var ErrInvalid = errors.New("config: invalid")

// Config is yibi's whole configuration. Zero values are not meaningful; start
// from Default.
type Config struct {
	Port                int           // YIBI_PORT, default 5757; 0 picks a free port
	Host                string        // YIBI_HOST; empty = 127.0.0.1 in development mode, every interface otherwise
	RouteBasePath       string        // YIBI_ROUTE_BASE_PATH, default /applet
	AppID               string        // YIBI_APP_ID; empty with AppSecret = development mode
	AppSecret           string        // YIBI_APP_SECRET (secret, also YIBI_APP_SECRET_FILE)
	WeChatAPIURL        string        // YIBI_WECHAT_API_URL, default https://api.weixin.qq.com
	RedisURL            string        // YIBI_REDIS_URL (secret); empty = memory sessions
	MongoURI            string        // YIBI_MONGO_URI (secret); empty = SQLite in DataDir
	MongoDatabase       string        // YIBI_MONGO_DATABASE, default qcloud-applet-session
	DataDir             string        // YIBI_DATA_DIR, default ./data
	SessionTTL          time.Duration // YIBI_SESSION_TTL, default 2h
	LogLevel            string        // YIBI_LOG_LEVEL, default info
	Dev                 bool          // YIBI_DEV forces development mode
	LoginBurstPerIP     int           // YIBI_LOGIN_BURST_PER_IP, default 20 (Load: 0 in development mode unless set); 0 = no per-IP login limit
	LoginBurstPerApp    int           // YIBI_LOGIN_BURST_PER_APP, default 200; 0 = no app-wide login limit
	MaxActionsBytes     int           // largest actions string, 1 MiB
	MaxPaintsPerUser    int           // paints one user may keep, 1000
	MaxBodyBytes        int64         // largest request body, 2 MiB
	ShutdownTimeout     time.Duration // graceful shutdown limit, 10s
	ReadHeaderTimeout   time.Duration // 5s
	ReadTimeout         time.Duration // 30s
	IdleTimeout         time.Duration // 120s
	WriteTimeout        time.Duration // time an answer may take to be written beyond MinWriteRate's share, 10s
	MinWriteRate        int           // bytes per second a client must read an answer at, 16 KiB/s
	ExchangeTimeout     time.Duration // WeChat code exchange limit, 5s
	StoreTimeout        time.Duration // YIBI_STORE_TIMEOUT, default 5s: one paint request's time budget at its store
	DebugAddr           string        // YIBI_DEBUG_ADDR; host:port of a net/http/pprof listener, empty = none
	SessionCacheEntries int           // YIBI_SESSION_CACHE_ENTRIES; with Redis, most sessions a process keeps, kept fresh by Redis; 0 = no cache
	SessionSecret       string        // YIBI_SESSION_SECRET (secret, also _FILE); seals session_keys at rest; empty = derived from AppSecret
	SessionIdle         time.Duration // YIBI_SESSION_IDLE, default 7 days: a v2 session unused this long ends
	SessionMaxLifetime  time.Duration // YIBI_SESSION_MAX_LIFETIME, default 30 days: no v2 session lives longer
	MaxSessionsPerUser  int           // YIBI_MAX_SESSIONS_PER_USER, default 5: v2 sessions per user, the oldest goes first
	MaxUserBytes        int           // YIBI_MAX_USER_BYTES, default 16 MiB: all of one user's paints together
}

// Option describes one setting; the table drives file, environment and flag
// loading and `yibi serve -h`. Default is the value in Default(), shown as
// the option shows it, so each default is written once in code.
// docs/config.md is written by hand; TestDocsListEveryOption checks only
// that it names each option's Name and Env.
type Option struct {
	Name, Env, Default, Doc string
	Secret                  bool
	set                     func(c *Config, v string) error
	get                     func(c *Config) string
}

func str(p func(*Config) *string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error { *p(c) = v; return nil }, func(c *Config) string { return *p(c) }
}

func num(p func(*Config) *int) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*p(c) = n
		return nil
	}, func(c *Config) string { return strconv.Itoa(*p(c)) }
}

func dur(p func(*Config) *time.Duration) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a duration (like 2h or 90s): %q", v)
		}
		*p(c) = d
		return nil
	}, func(c *Config) string { return shortDuration(*p(c)) }
}

// shortDuration writes d as a person would: 2h, 90s, 1m30s, not 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Options is the table of every setting a user can change.
var Options = func() []Option {
	var o []Option
	def := Default()
	add := func(name, env, doc string, secret bool, s func(*Config, string) error, g func(*Config) string) {
		o = append(o, Option{Name: name, Env: env, Default: g(&def), Doc: doc, Secret: secret, set: s, get: g})
	}
	s, g := num(func(c *Config) *int { return &c.Port })
	add("port", "YIBI_PORT", "TCP port to listen on (0 = any free port)", false, s, g)
	s, g = str(func(c *Config) *string { return &c.Host })
	add("host", "YIBI_HOST", "address to listen on; empty = 127.0.0.1 in development mode (the simulator lets anyone log in as anyone), every interface otherwise", false, s, g)
	s, g = str(func(c *Config) *string { return &c.RouteBasePath })
	add("route_base_path", "YIBI_ROUTE_BASE_PATH", "prefix of the paint API", false, s, g)
	s, g = str(func(c *Config) *string { return &c.AppID })
	add("app_id", "YIBI_APP_ID", "WeChat mini program app id; empty with app_secret = development mode", false, s, g)
	s, g = str(func(c *Config) *string { return &c.AppSecret })
	add("app_secret", "YIBI_APP_SECRET", "WeChat app secret (also YIBI_APP_SECRET_FILE)", true, s, g)
	s, g = str(func(c *Config) *string { return &c.WeChatAPIURL })
	add("wechat_api_url", "YIBI_WECHAT_API_URL", "base URL of the WeChat API", false, s, g)
	s, g = str(func(c *Config) *string { return &c.RedisURL })
	add("redis_url", "YIBI_REDIS_URL", "Redis URL for sessions; empty = in memory (also YIBI_REDIS_URL_FILE)", true, s, g)
	s, g = str(func(c *Config) *string { return &c.MongoURI })
	add("mongo_uri", "YIBI_MONGO_URI", "MongoDB URI for paints; empty = SQLite in data_dir (also YIBI_MONGO_URI_FILE)", true, s, g)
	s, g = str(func(c *Config) *string { return &c.MongoDatabase })
	add("mongo_database", "YIBI_MONGO_DATABASE", "MongoDB database name", false, s, g)
	s, g = str(func(c *Config) *string { return &c.DataDir })
	add("data_dir", "YIBI_DATA_DIR", "directory for the SQLite database", false, s, g)
	sd, gd := dur(func(c *Config) *time.Duration { return &c.SessionTTL })
	add("session_ttl", "YIBI_SESSION_TTL", "session lifetime", false, sd, gd)
	s, g = str(func(c *Config) *string { return &c.LogLevel })
	add("log_level", "YIBI_LOG_LEVEL", "debug, info, warn or error", false, s, g)
	add("dev", "YIBI_DEV", "force development mode (simulator at /wechat)", false,
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("not a boolean: %q", v)
			}
			c.Dev = b
			return nil
		}, func(c *Config) string { return strconv.FormatBool(c.Dev) })
	s, g = num(func(c *Config) *int { return &c.LoginBurstPerIP })
	add("login_burst_per_ip", "YIBI_LOGIN_BURST_PER_IP",
		"logins one client IP may make at once, then 1 per second; 0 = no per-IP limit; unless set, 0 in development mode", false, s, g)
	s, g = num(func(c *Config) *int { return &c.LoginBurstPerApp })
	add("login_burst_per_app", "YIBI_LOGIN_BURST_PER_APP",
		"logins the whole app may make at once, then 100 per second; 0 = no app-wide limit", false, s, g)
	sd, gd = dur(func(c *Config) *time.Duration { return &c.StoreTimeout })
	add("store_timeout", "YIBI_STORE_TIMEOUT",
		"longest a paint request waits on its store, then 503 store unavailable", false, sd, gd)
	s, g = num(func(c *Config) *int { return &c.SessionCacheEntries })
	add("session_cache_entries", "YIBI_SESSION_CACHE_ENTRIES",
		"with Redis sessions (single node or Sentinel): most sessions each process keeps, so most checks need no Redis round trip; Redis tells every process at once when one changes (RESP3 client tracking); 0 = no cache", false, s, g)
	s, g = str(func(c *Config) *string { return &c.SessionSecret })
	add("session_secret", "YIBI_SESSION_SECRET",
		"at least 32 bytes that seal each session's session_key at rest (also YIBI_SESSION_SECRET_FILE); empty = derived from app_secret. A new secret keeps sessions valid but makes their session_keys unreadable: decrypting then asks the user to log in again", true, s, g)
	sd, gd = dur(func(c *Config) *time.Duration { return &c.SessionIdle })
	add("session_idle", "YIBI_SESSION_IDLE", "a v2 (bearer token) session unused this long ends; each use extends it", false, sd, gd)
	sd, gd = dur(func(c *Config) *time.Duration { return &c.SessionMaxLifetime })
	add("session_max_lifetime", "YIBI_SESSION_MAX_LIFETIME", "no v2 session lives longer than this from its login, used or not", false, sd, gd)
	s, g = num(func(c *Config) *int { return &c.MaxSessionsPerUser })
	add("max_sessions_per_user", "YIBI_MAX_SESSIONS_PER_USER", "v2 sessions one user may have at once (phone, PC WeChat, …); a new login past it ends the oldest", false, s, g)
	s, g = num(func(c *Config) *int { return &c.MaxUserBytes })
	add("max_user_bytes", "YIBI_MAX_USER_BYTES", "bytes all of one user's paints may take together; a save or append past it answers 409 storage quota exceeded", false, s, g)
	s, g = str(func(c *Config) *string { return &c.DebugAddr })
	add("debug_addr", "YIBI_DEBUG_ADDR",
		"host:port of a profiling listener (/debug/pprof/); empty = none; keep it off public networks", false, s, g)
	return o
}()

// Default returns the configuration used when nothing is set. It is the
// one place defaults are set: the option table and flag help read them
// from here (docs/config.md is written by hand).
func Default() Config {
	return Config{
		Port: 5757, RouteBasePath: "/applet", WeChatAPIURL: "https://api.weixin.qq.com",
		MongoDatabase: "qcloud-applet-session", DataDir: "./data", SessionTTL: 2 * time.Hour,
		LogLevel:        "info",
		LoginBurstPerIP: limit.DefaultPerIPBurst, LoginBurstPerApp: limit.DefaultPerAppBurst,
		MaxActionsBytes: 1 << 20, MaxPaintsPerUser: 1000, MaxBodyBytes: 2 << 20,
		ShutdownTimeout: 10 * time.Second, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		WriteTimeout: 10 * time.Second, MinWriteRate: 16 << 10,
		ExchangeTimeout: 5 * time.Second, StoreTimeout: 5 * time.Second,
		SessionCacheEntries: redisstore.DefaultCacheEntries,
		SessionIdle:         wxsession.DefaultIdleTimeout, SessionMaxLifetime: wxsession.DefaultMaxLifetime,
		MaxSessionsPerUser: wxsession.DefaultMaxSessions, MaxUserBytes: api.DefaultMaxUserBytes,
	}
}

// Listen is the address to listen on: Host and Port, where an empty Host
// is loopback in development mode, so that the simulator, which lets
// anyone log in as anyone, is not offered to the network by accident.
func (c Config) Listen() string {
	host := c.Host
	if dev, _ := c.DevMode(); dev && host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(c.Port))
}

// DevMode reports whether yibi runs with the WeChat simulator, and why.
func (c Config) DevMode() (bool, string) {
	switch {
	case c.Dev:
		return true, "YIBI_DEV is set"
	case c.AppID == "" && c.AppSecret == "":
		return true, "no app id and app secret configured"
	}
	return false, ""
}

// Load reads defaults, then the TOML file named by --config (flag) or
// YIBI_CONFIG, then YIBI_* variables (secrets also from YIBI_*_FILE), then
// flags. args excludes the program name. Load does not call Validate.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("yibi", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.String("config", getenv("YIBI_CONFIG"), "TOML configuration file")
	flagVals := map[string]*string{}
	for _, o := range Options {
		flagVals[o.Name] = fs.String(strings.ReplaceAll(o.Name, "_", "-"), "", o.Doc)
	}
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("config: flags: %w", err)
	}
	// given names the options set by the file, the environment or a
	// flag, so development mode changes only defaults.
	given := map[string]bool{}
	if *file != "" {
		var raw map[string]any
		if _, err := toml.DecodeFile(*file, &raw); err != nil {
			return c, fmt.Errorf("config: %s: %w", *file, err)
		}
		for k, v := range raw {
			o, ok := find(k)
			if !ok {
				return c, fmt.Errorf("config: %s: unknown key %q", *file, k)
			}
			if err := o.set(&c, fmt.Sprint(v)); err != nil {
				return c, fmt.Errorf("config: %s: %s: %w", *file, k, err)
			}
			given[o.Name] = true
		}
	}
	for _, o := range Options {
		v := getenv(o.Env)
		if o.Secret {
			if f := getenv(o.Env + "_FILE"); f != "" {
				b, err := os.ReadFile(f)
				if err != nil {
					return c, fmt.Errorf("config: %s_FILE: %w", o.Env, err)
				}
				v = strings.TrimRight(string(b), "\r\n")
			}
		}
		if v != "" {
			if err := o.set(&c, v); err != nil {
				return c, fmt.Errorf("config: %s: %w", o.Env, err)
			}
			given[o.Name] = true
		}
	}
	var ferr error
	fs.Visit(func(f *flag.Flag) {
		if o, ok := find(strings.ReplaceAll(f.Name, "-", "_")); ok && ferr == nil {
			if err := o.set(&c, *flagVals[o.Name]); err != nil {
				ferr = fmt.Errorf("config: --%s: %w", f.Name, err)
			}
			given[o.Name] = true
		}
	})
	if dev, _ := c.DevMode(); dev && !given["login_burst_per_ip"] {
		// Development mode runs on one developer's machine, whose logins
		// go to the simulator: a per-IP limit there only stops
		// `yibi loadgen -users 200`. The app-wide limit stays.
		c.LoginBurstPerIP = 0
	}
	return c, ferr
}

func find(name string) (Option, bool) {
	for _, o := range Options {
		if o.Name == name {
			return o, true
		}
	}
	return Option{}, false
}

// Validate checks rules within and across fields.
func (c Config) Validate() error {
	var errs []error
	bad := func(f string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+f, append([]any{ErrInvalid}, a...)...))
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port %d out of range 0-65535", c.Port)
	}
	if !strings.HasPrefix(c.RouteBasePath, "/") || (len(c.RouteBasePath) > 1 && strings.HasSuffix(c.RouteBasePath, "/")) {
		bad("route_base_path %q must start with '/' and not end with '/'", c.RouteBasePath)
	}
	if (c.AppID == "") != (c.AppSecret == "") {
		bad("app_id and app_secret must be set together")
	}
	if c.LoginBurstPerIP < 0 || c.LoginBurstPerApp < 0 {
		bad("login_burst_per_ip and login_burst_per_app must be 0 (no limit) or more")
	}
	if c.WriteTimeout <= 0 || c.MinWriteRate <= 0 {
		bad("write timeout and minimum write rate must be positive")
	}
	if c.SessionTTL <= 0 {
		bad("session_ttl must be positive")
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < wxsession.MinSecretBytes {
		bad("session_secret must be at least %d bytes", wxsession.MinSecretBytes)
	}
	if c.SessionIdle <= 0 || c.SessionMaxLifetime < c.SessionIdle {
		bad("session_idle must be positive and at most session_max_lifetime")
	}
	if c.MaxSessionsPerUser < 1 {
		bad("max_sessions_per_user must be 1 or more")
	}
	if c.MaxUserBytes < c.MaxActionsBytes {
		bad("max_user_bytes must hold at least one paint (%d bytes)", c.MaxActionsBytes)
	}
	if c.SessionCacheEntries < 0 {
		bad("session_cache_entries must be 0 (no cache) or positive")
	}
	if c.StoreTimeout <= 0 {
		bad("store_timeout must be positive")
	}
	if c.DebugAddr != "" {
		if _, port, err := net.SplitHostPort(c.DebugAddr); err != nil || port == "" {
			bad("debug_addr %q is not host:port", c.DebugAddr)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level %q is not debug, info, warn or error", c.LogLevel)
	}
	if u, err := url.Parse(c.WeChatAPIURL); err != nil || u.Host == "" {
		bad("wechat_api_url %q is not an absolute URL", c.WeChatAPIURL)
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			bad("redis_url is not a redis://, rediss:// or unix:// URL")
		}
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		bad("mongo_uri is not a mongodb:// or mongodb+srv:// URI")
	}
	return errors.Join(errs...)
}

// String shows every option with secrets redacted.
func (c Config) String() string {
	var b strings.Builder
	for _, o := range Options {
		v := o.get(&c)
		if o.Secret && v != "" {
			v = "REDACTED"
		}
		fmt.Fprintf(&b, "%s=%s ", o.Name, v)
	}
	return strings.TrimSpace(b.String())
}

// LogValue logs the configuration with secrets redacted.
func (c Config) LogValue() slog.Value {
	var as []slog.Attr
	for _, o := range Options {
		v := o.get(&c)
		if o.Secret && v != "" {
			v = "REDACTED"
		}
		as = append(as, slog.String(o.Name, v))
	}
	return slog.GroupValue(as...)
}
