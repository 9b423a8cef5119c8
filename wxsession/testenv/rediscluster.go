package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisCluster is a three-master Redis Cluster on loopback, started by
// StartRedisCluster and stopped when the test ends.
type RedisCluster struct {
	// Addrs are the masters' host:port addresses.
	Addrs []string
}

// StartRedisCluster starts three redis-server processes with cluster mode
// on, joins them with `redis-cli --cluster create` (no replicas), and waits
// until every node reports cluster_state:ok. A missing redis-server or
// redis-cli skips the test (fails it when YIBI_REQUIRE_SERVICES=1).
func StartRedisCluster(t testing.TB) *RedisCluster {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		Unavailable(t, "testenv: redis-server not found (apt-get install redis-server)")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		Unavailable(t, "testenv: redis-cli not found (apt-get install redis-tools)")
	}
	dir := t.TempDir()
	c := &RedisCluster{}
	for i := range 3 {
		port := clusterPort(t)
		nodeDir := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(nodeDir, 0o700); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, server,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(nodeDir, "nodes.conf"),
			"--cluster-node-timeout", "5000",
			"--dir", nodeDir, "--save", "", "--appendonly", "no",
			"--protected-mode", "no", "--daemonize", "no",
		)
		var logBuf strings.Builder
		cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("testenv: start redis-server: %v", err)
		}
		t.Cleanup(func() { cancel(); cmd.Wait() })
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if err := WaitPort(addr, 10*time.Second); err != nil {
			t.Fatalf("%v\n%s", err, logBuf.String())
		}
		c.Addrs = append(c.Addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range c.Addrs {
		host, port, _ := strings.Cut(addr, ":")
		for {
			out, err := exec.Command(cli, "-h", host, "-p", port, "cluster", "info").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("testenv: redis cluster node %s not ok after 20s: %v\n%s", addr, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

// clusterPort returns a free port whose cluster bus port (port+10000) is
// also free, as Redis Cluster needs both.
func clusterPort(t testing.TB) int {
	t.Helper()
	for range 50 {
		p := FreePort(t)
		if p+10000 > 65535 {
			continue
		}
		if WaitPort(fmt.Sprintf("127.0.0.1:%d", p+10000), 0) == nil {
			continue // something listens on the bus port
		}
		return p
	}
	t.Fatal("testenv: no free port pair for a redis cluster node")
	return 0
}
