package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit checks the unit with systemd-analyze verify, with
// ExecStart pointed at a binary that exists here.
func TestSystemdUnit(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found; the unit is not checked")
	}
	b, err := os.ReadFile(filepath.Join("systemd", "yibi.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	const execLine = "ExecStart=/usr/local/bin/yibi serve"
	if !strings.Contains(unit, execLine) {
		t.Fatalf("unit lacks %q", execLine)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=yibi", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "LoadCredential=app-secret:", "YIBI_APP_SECRET_FILE=%d/app-secret"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	unit = strings.Replace(unit, execLine, "ExecStart=/bin/true serve", 1)
	path := filepath.Join(t.TempDir(), "yibi.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	// verify complains about the environment (no /etc/yibi here); only
	// complaints about the unit's own syntax fail the test.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "yibi.service:") && (strings.Contains(line, "Unknown") || strings.Contains(line, "Failed to parse") || strings.Contains(line, "Invalid")) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	if err != nil {
		t.Logf("systemd-analyze verify (non-syntax complaints ignored): %v\n%s", err, out)
	}
}
