package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "yibi.toml")
	if err := os.WriteFile(file, []byte("port = 1111\nlog_level = \"debug\"\nroute_base_path = \"/f\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c Config) bool
	}{
		{"DefaultsWithNothingSet", nil, nil, func(c Config) bool { return c.Port == 5757 && c.SessionTTL == 2*time.Hour }},
		{"FileOverridesDefault", []string{"--config", file}, nil, func(c Config) bool { return c.Port == 1111 && c.RouteBasePath == "/f" }},
		{"EnvOverridesFile", []string{"--config", file}, map[string]string{"YIBI_PORT": "2222"}, func(c Config) bool { return c.Port == 2222 && c.LogLevel == "debug" }},
		{"FlagOverridesEnv", []string{"--config", file, "--port", "3333"}, map[string]string{"YIBI_PORT": "2222"}, func(c Config) bool { return c.Port == 3333 }},
		{"SecretFromFile", nil, map[string]string{"YIBI_APP_ID": "wx1", "YIBI_APP_SECRET_FILE": secret}, func(c Config) bool { return c.AppSecret == "s3cret" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: got %v, want nil", err)
			}
			if !tt.want(c) {
				t.Errorf("got %v, not what the case wants", c)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"OK", func(c *Config) {}, ""},
		{"ErrPortRange", func(c *Config) { c.Port = 70000 }, "port"},
		{"ErrBasePathTrailingSlash", func(c *Config) { c.RouteBasePath = "/applet/" }, "route_base_path"},
		{"ErrAppIDWithoutSecret", func(c *Config) { c.AppID = "wx1" }, "app_secret"},
		{"ErrTTL", func(c *Config) { c.SessionTTL = 0 }, "session_ttl"},
		{"ErrLogLevel", func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{"ErrRedisURL", func(c *Config) { c.RedisURL = "http://x" }, "redis_url"},
		{"ErrStoreTimeout", func(c *Config) { c.StoreTimeout = 0 }, "store_timeout"},
		{"ErrDebugAddr", func(c *Config) { c.DebugAddr = "6060" }, "debug_addr"},
		{"DebugAddr", func(c *Config) { c.DebugAddr = "127.0.0.1:6060" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an ErrInvalid naming %q", err, tt.want)
			}
		})
	}
}

func TestStringRedactsSecrets(t *testing.T) {
	c := Default()
	c.AppSecret = "topsecret"
	c.RedisURL = "redis://:pw@h:6379"
	if s := c.String(); strings.Contains(s, "topsecret") || strings.Contains(s, "pw@") {
		t.Errorf("got %q, want secrets redacted", s)
	}
}

// TestDocsListEveryOption keeps docs/config.md in step with the option table.
func TestDocsListEveryOption(t *testing.T) {
	b, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range Options {
		if !strings.Contains(string(b), "`"+o.Env+"`") || !strings.Contains(string(b), "`"+o.Name+"`") {
			t.Errorf("docs/config.md: got no row for %s (%s), want one", o.Name, o.Env)
		}
	}
}

func TestListen(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"DevModeIsLoopback", func(c *Config) {}, "127.0.0.1:5757"},
		{"DevModeHostSet", func(c *Config) { c.Host = "0.0.0.0" }, "0.0.0.0:5757"},
		{"ProductionEveryInterface", func(c *Config) { c.AppID, c.AppSecret = "wx1", "s" }, ":5757"},
		{"ForcedDevIsLoopback", func(c *Config) { c.AppID, c.AppSecret, c.Dev = "wx1", "s", true }, "127.0.0.1:5757"},
		{"IPv6Host", func(c *Config) { c.Host = "::1" }, "[::1]:5757"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			if got := c.Listen(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDevModeLoginBurstPerIP(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "yibi.toml")
	if err := os.WriteFile(file, []byte("login_burst_per_ip = 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prod := map[string]string{"YIBI_APP_ID": "wx1", "YIBI_APP_SECRET": "s"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"DevOff", nil, nil, 0},
		{"DevForcedOff", nil, map[string]string{"YIBI_APP_ID": "wx1", "YIBI_APP_SECRET": "s", "YIBI_DEV": "true"}, 0},
		{"DevEnvKept", nil, map[string]string{"YIBI_LOGIN_BURST_PER_IP": "20"}, 20},
		{"DevFlagKept", []string{"--login-burst-per-ip", "5"}, nil, 5},
		{"DevFileKept", []string{"--config", file}, nil, 20},
		{"ProductionDefault", nil, prod, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, envOf(tt.env))
			if err != nil {
				t.Fatalf("Load: got %v, want nil", err)
			}
			if c.LoginBurstPerIP != tt.want {
				t.Errorf("got login_burst_per_ip %d, want %d", c.LoginBurstPerIP, tt.want)
			}
		})
	}
}

// TestOptionDefaultsAreDefault: the table shows Default()'s values, as a
// person writes them.
func TestOptionDefaultsAreDefault(t *testing.T) {
	want := map[string]string{"port": "5757", "session_ttl": "2h", "store_timeout": "5s", "session_cache_entries": "65536",
		"login_burst_per_ip": "20", "login_burst_per_app": "200", "host": "", "route_base_path": "/applet"}
	for _, o := range Options {
		if w, ok := want[o.Name]; ok && o.Default != w {
			t.Errorf("%s: got default %q, want %q", o.Name, o.Default, w)
		}
		c := Default()
		if err := o.set(&c, o.Default); err != nil || c != Default() {
			t.Errorf("%s: setting the shown default %q: got %v and a changed config, want Default()", o.Name, o.Default, err)
		}
	}
}
