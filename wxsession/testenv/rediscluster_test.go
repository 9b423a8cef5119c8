package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

func TestStartRedisCluster(t *testing.T) {
	c := StartRedisCluster(t)
	if len(c.Addrs) != 3 {
		t.Fatalf("addrs: got %d, want 3", len(c.Addrs))
	}
	host, port, _ := strings.Cut(c.Addrs[0], ":")
	// -c follows MOVED redirections, so keys on any slot work from one node.
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		out, err := exec.Command("redis-cli", "-c", "-h", host, "-p", port, "set", k, "v").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "OK" {
			t.Fatalf("set %s: got %q, %v, want OK", k, out, err)
		}
	}
	out, err := exec.Command("redis-cli", "-h", host, "-p", port, "cluster", "info").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "cluster_known_nodes:3") {
		t.Errorf("cluster info: got %s, want cluster_known_nodes:3", out)
	}
}
