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

// RedisSentinel is a master, one replica and one Sentinel watching them
// under the name MasterName, on loopback, started by StartRedisSentinel
// and stopped when the test ends.
type RedisSentinel struct {
	// MasterName is the name the Sentinel knows the master by.
	MasterName string
	// Sentinel is the Sentinel's host:port.
	Sentinel string
	// Master and Replica are the servers' host:port at the start; a
	// failover swaps their roles.
	Master, Replica string
}

// StartRedisSentinel starts the three and waits until the Sentinel knows
// the replica. A missing redis-server skips the test (fails it when
// YIBI_REQUIRE_SERVICES=1).
func StartRedisSentinel(t testing.TB) *RedisSentinel {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		Unavailable(t, "testenv: redis-server not found (apt-get install redis-server)")
	}
	dir := t.TempDir()
	s := &RedisSentinel{MasterName: "yibi-test"}
	start := func(name string, args ...string) string {
		port := FreePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		nodeDir := filepath.Join(dir, name)
		if err := os.Mkdir(nodeDir, 0o700); err != nil {
			t.Fatal(err)
		}
		var cmdArgs []string
		if name == "sentinel" {
			// A Sentinel needs a config file it can rewrite.
			conf := filepath.Join(nodeDir, "sentinel.conf")
			body := fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n%s\n", port, nodeDir, strings.Join(args, "\n"))
			if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cmdArgs = []string{conf, "--sentinel"}
		} else {
			cmdArgs = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--dir", nodeDir,
				"--protected-mode", "no", "--daemonize", "no"}, args...)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, server, cmdArgs...)
		var log strings.Builder
		lw := &lockedWriter{b: &log}
		cmd.Stdout, cmd.Stderr = lw, lw
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("testenv: start redis-server (%s): %v", name, err)
		}
		t.Cleanup(func() { cancel(); cmd.Wait() })
		if err := WaitPort(addr, 10*time.Second); err != nil {
			t.Fatalf("testenv: %s: %v\n%s", name, err, log.String())
		}
		return addr
	}
	s.Master = start("master")
	host, port, _ := strings.Cut(s.Master, ":")
	s.Replica = start("replica", "--replicaof", host, port)
	s.Sentinel = start("sentinel",
		fmt.Sprintf("sentinel monitor %s %s %s 1", s.MasterName, host, port),
		"sentinel down-after-milliseconds "+s.MasterName+" 1000",
		"sentinel failover-timeout "+s.MasterName+" 5000")
	// The Sentinel learns of the replica from the master's INFO (every
	// 10 s at first, sooner once connected): wait until it lists it.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(Cli(t, s.Sentinel, "SENTINEL", "REPLICAS", s.MasterName), strings.Split(s.Replica, ":")[1]) {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: the Sentinel did not learn of the replica %s within 30s", s.Replica)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// Cli runs redis-cli against addr and returns its output.
func Cli(t testing.TB, addr string, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}
