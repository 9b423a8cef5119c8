package testenv

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// ping sends PING over a fresh connection and returns the reply line.
func ping(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func TestStartRedis(t *testing.T) {
	r := StartRedis(t)
	if !strings.HasPrefix(r.URL(), "redis://127.0.0.1:") {
		t.Errorf("URL() = %q, want a redis://127.0.0.1 URL", r.URL())
	}
	t.Run("Answers", func(t *testing.T) {
		got, err := ping(r.Addr)
		if err != nil || got != "+PONG" {
			t.Fatalf("PING: got %q, %v, want +PONG", got, err)
		}
	})
	t.Run("StopRefuses", func(t *testing.T) {
		r.Stop()
		if _, err := ping(r.Addr); err == nil {
			t.Fatal("PING after Stop: got no error, want a connection error")
		}
	})
	t.Run("StartSamePort", func(t *testing.T) {
		r.Start()
		got, err := ping(r.Addr)
		if err != nil || got != "+PONG" {
			t.Fatalf("PING after Start: got %q, %v, want +PONG", got, err)
		}
	})
}
