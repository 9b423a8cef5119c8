package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Chromium returns the Chromium binary (YIBI_CHROMIUM, default
// /usr/bin/chromium) and the repository root, whose clients/node_modules
// holds playwright-core, for tests that drive a real browser with node.
// If any of the three is missing it skips the test, or fails it under
// YIBI_REQUIRE_SERVICES=1.
func Chromium(t testing.TB) (bin, repo string) {
	t.Helper()
	bin = os.Getenv("YIBI_CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	_, file, _, _ := runtime.Caller(0)
	repo = filepath.Join(filepath.Dir(file), "..", "..")
	var missing string
	if _, err := os.Stat(bin); err != nil {
		missing = "chromium (" + bin + ")"
	} else if _, err := exec.LookPath("node"); err != nil {
		missing = "node"
	} else if _, err := os.Stat(filepath.Join(repo, "clients", "node_modules", "playwright-core")); err != nil {
		missing = "playwright-core (run: cd clients && npm ci)"
	}
	if missing != "" {
		if os.Getenv("YIBI_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is missing and YIBI_REQUIRE_SERVICES=1", missing)
		}
		t.Skipf("%s is missing; set YIBI_REQUIRE_SERVICES=1 to fail instead", missing)
	}
	return bin, repo
}
